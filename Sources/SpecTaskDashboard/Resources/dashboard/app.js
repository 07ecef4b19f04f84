// The spectask dashboard: a board of spec tasks and a page per task, kept live by Server-Sent Events.
//
// Every piece of data (names, specs, messages, ids) is untrusted: it is put in the page with textContent,
// createTextNode or setAttribute on inert attributes, never as HTML. Markdown goes through SpecMarkdown.
"use strict";

(() => {
  // MARK: - Helpers

  const COLUMNS = [
    { key: "backlog", title: "Backlog", statuses: ["backlog"] },
    { key: "planning", title: "Planning", statuses: ["spec_generation", "spec_revision"] },
    { key: "spec_review", title: "Spec review", statuses: ["spec_review"] },
    { key: "approved", title: "Approved", statuses: ["spec_approved"] },
    { key: "implementation", title: "Implementation", statuses: ["implementation"] },
    { key: "implementation_review", title: "Implementation review", statuses: ["implementation_review"] },
    { key: "done", title: "Done", statuses: ["done"] },
    { key: "failed", title: "Failed", statuses: ["spec_failed", "implementation_failed"] },
    { key: "cancelled", title: "Cancelled", statuses: ["cancelled"] },
  ];
  const TERMINAL = new Set(["done", "cancelled"]);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attributes) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function pct(value) { return Math.max(0, Math.min(100, Math.round(Number(value) || 0))); }
  function bar(percent, label) {
    const wrap = el("div", "bar");
    wrap.dataset.percent = String(pct(percent));
    wrap.setAttribute("role", "progressbar");
    wrap.setAttribute("aria-valuenow", String(pct(percent)));
    const fill = el("div", "fill");
    fill.style.width = pct(percent) + "%";
    wrap.appendChild(fill);
    wrap.appendChild(el("span", "bar-label", (label ? label + " " : "") + pct(percent) + "%"));
    return wrap;
  }
  function setBar(wrap, percent) {
    if (!wrap) return;
    const value = pct(percent);
    wrap.dataset.percent = String(value);
    wrap.setAttribute("aria-valuenow", String(value));
    wrap.querySelector(".fill").style.width = value + "%";
    const label = wrap.querySelector(".bar-label");
    label.textContent = label.textContent.replace(/\d+%$/, value + "%");
  }
  function badge(status) {
    const node = el("span", "badge", String(status || "").replace(/_/g, " "));
    node.dataset.status = String(status || "");
    return node;
  }
  function dollars(micros) { return "$" + ((Number(micros) || 0) / 1e6).toFixed(2); }
  function number(n) { return (Number(n) || 0).toLocaleString("en-US"); }
  function ago(iso) {
    if (!iso) return "never";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return seconds + " s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    return Math.floor(seconds / 86400) + " d ago";
  }
  function throttle(fn, ms) {
    let timer = null; let again = false;
    return () => {
      if (timer) { again = true; return; }
      fn();
      timer = setTimeout(function next() {
        if (again) { again = false; fn(); timer = setTimeout(next, ms); } else timer = null;
      }, ms);
    };
  }
  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.status + " " + response.statusText);
    return body;
  }

  // MARK: - Session state: token, name, server info

  const state = {
    info: { readOnly: true, actions: [] },
    token: sessionStorage.getItem("spectask.token") || "",
    actor: localStorage.getItem("spectask.actor") || "",
    view: null,
  };
  function canAct() { return !state.info.readOnly && !!state.token; }

  function renderMode() {
    const mode = document.getElementById("mode");
    if (state.info.readOnly) {
      mode.textContent = "read-only";
      mode.title = "started without SPECTASK_DASHBOARD_TOKEN";
      document.getElementById("token-form").hidden = true;
    } else if (state.token) {
      mode.textContent = "actions enabled";
      mode.title = "actions are sent with your token";
    } else {
      mode.textContent = "read-only until you give the token";
      mode.title = "";
    }
    mode.dataset.canAct = String(canAct());
  }

  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token-input").value.trim();
    state.actor = document.getElementById("actor-input").value.trim();
    sessionStorage.setItem("spectask.token", state.token);
    localStorage.setItem("spectask.actor", state.actor);
    renderMode();
    if (state.view && state.view.refresh) state.view.refresh();
  });
  document.getElementById("actor-input").value = state.actor;

  // Publishes a command through the dashboard; resolves with the outcome ({outcome, code, reason, …}).
  async function act(taskID, command, data) {
    const response = await fetch(`/api/v1/spec-tasks/${encodeURIComponent(taskID)}/actions/${encodeURIComponent(command)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + state.token, Accept: "application/json" },
      body: JSON.stringify(Object.assign({}, data, state.actor ? { actor: state.actor } : {})),
    });
    const body = await response.json().catch(() => ({}));
    if (body.outcome) return body;
    return { outcome: "error", reason: body.error || response.status + " " + response.statusText };
  }

  // MARK: - Live updates

  const listeners = new Set();
  function connectEvents() {
    const live = document.getElementById("live");
    const source = new EventSource("/api/v1/events");
    source.onopen = () => { live.textContent = "live"; live.className = "live on"; };
    source.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
    for (const kind of ["change", "progress"]) {
      source.addEventListener(kind, (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch (_) { return; }
        for (const listener of listeners) listener(kind, data);
      });
    }
  }

  // MARK: - The board

  function boardView(main) {
    const params = new URLSearchParams(window.location.search);
    const controls = el("div", "controls");
    const text = el("input"); text.id = "filter-text"; text.type = "search"; text.placeholder = "filter by id, name or description";
    text.value = params.get("q") || "";
    const select = el("select"); select.id = "filter-status";
    select.appendChild(new Option("every status", ""));
    for (const column of COLUMNS) select.appendChild(new Option(column.title, column.key));
    select.value = params.get("column") || "";
    const count = el("span", "count");
    controls.append(text, select, count);
    const board = el("div", "board"); board.id = "board";
    const more = el("button", "more", "Load more"); more.id = "load-more"; more.hidden = true;
    main.append(controls, board, more);

    let items = [];
    let cursor = null;
    const columnsByKey = {};
    for (const column of COLUMNS) {
      const node = el("section", "column"); node.dataset.column = column.key;
      const head = el("h2"); head.appendChild(el("span", "", column.title)); head.appendChild(el("span", "column-count", "0"));
      const list = el("div", "cards");
      node.append(head, list);
      board.appendChild(node);
      columnsByKey[column.key] = { node, list, head, column };
    }

    function query(withCursor) {
      const search = new URLSearchParams();
      const column = COLUMNS.find((c) => c.key === select.value);
      if (column) search.set("status", column.statuses.join(","));
      if (text.value.trim()) search.set("q", text.value.trim());
      search.set("limit", "100");
      if (withCursor) search.set("cursor", withCursor);
      return "/api/v1/spec-tasks?" + search.toString();
    }

    function card(item) {
      const node = el("article", "card");
      node.dataset.taskId = item.id;
      node.dataset.status = item.status;
      const link = el("a", "card-title", item.name || item.id);
      link.href = "/tasks/" + encodeURIComponent(item.id);
      node.appendChild(link);
      node.appendChild(el("div", "card-id", item.id));
      node.appendChild(bar(item.overallPercent));
      const meta = el("div", "card-meta");
      meta.appendChild(badge(item.status));
      meta.appendChild(el("span", "sessions", `${item.activeWorkSessions} active / ${item.workSessions} sessions`));
      node.appendChild(meta);
      const usage = el("div", "card-usage", `${number((item.usage || {}).tokensIn + (item.usage || {}).tokensOut)} tokens · ${dollars((item.usage || {}).costMicros)}`);
      if (item.budget && item.budget.maxCostMicros) usage.textContent += ` of ${dollars(item.budget.maxCostMicros)}`;
      node.appendChild(usage);
      return node;
    }

    function draw() {
      for (const { list } of Object.values(columnsByKey)) clear(list);
      const counts = {};
      for (const item of items) {
        const column = COLUMNS.find((c) => c.statuses.includes(item.status)) || COLUMNS[0];
        columnsByKey[column.key].list.appendChild(card(item));
        counts[column.key] = (counts[column.key] || 0) + 1;
      }
      for (const [key, entry] of Object.entries(columnsByKey)) {
        entry.head.querySelector(".column-count").textContent = String(counts[key] || 0);
        entry.node.hidden = !!select.value && select.value !== key;
      }
      count.textContent = `${items.length} spec task${items.length === 1 ? "" : "s"}` + (cursor ? " (more below)" : "");
      more.hidden = !cursor;
      board.dataset.loaded = "true";
    }

    // Reloads the pages shown so far (the first one, or as many as were loaded).
    async function load() {
      try {
        const pages = Math.max(1, Math.ceil(items.length / 100));
        let next = null; let loaded = [];
        for (let page = 0; page < pages; page++) {
          const answer = await getJSON(query(next));
          loaded = loaded.concat(answer.items);
          next = answer.nextCursor || null;
          if (!next) break;
        }
        items = loaded; cursor = next;
        draw();
      } catch (error) {
        count.textContent = "could not load: " + error.message;
      }
    }
    more.addEventListener("click", async () => {
      if (!cursor) return;
      const answer = await getJSON(query(cursor));
      items = items.concat(answer.items); cursor = answer.nextCursor || null;
      draw();
    });
    const reload = throttle(load, 700);
    const onFilter = () => {
      const search = new URLSearchParams();
      if (text.value.trim()) search.set("q", text.value.trim());
      if (select.value) search.set("column", select.value);
      history.replaceState(null, "", "/" + (search.toString() ? "?" + search.toString() : ""));
      items = []; load();
    };
    let typing = null;
    text.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(onFilter, 250); });
    select.addEventListener("change", onFilter);

    const listener = (kind, data) => {
      if (kind === "progress") {
        const node = board.querySelector(`.card[data-task-id="${CSS.escape(data.specTaskID || "")}"]`);
        if (node) setBar(node.querySelector(".bar"), data.progress.overallPercent);
        return;
      }
      reload();
    };
    listeners.add(listener);
    document.getElementById("crumb").textContent = "board";
    load();
    return { refresh: load, close: () => listeners.delete(listener) };
  }

  // MARK: - The task page

  function taskView(main, taskID) {
    document.getElementById("crumb").textContent = "spec task " + taskID;
    const page = el("div", "task-page"); page.id = "task-page"; page.dataset.taskId = taskID;
    main.appendChild(page);

    const header = el("section", "task-header panel");
    const title = el("h1"); title.id = "task-name";
    const subtitle = el("div", "subtitle");
    const overall = el("div"); overall.id = "overall";
    header.append(title, subtitle, overall);

    const actions = el("section", "panel actions"); actions.id = "actions";
    const instance = el("section", "panel"); instance.id = "instance";
    const graphPanel = el("section", "panel wide"); graphPanel.id = "graph";
    const tree = el("section", "panel wide"); tree.id = "sessions";
    const timeline = el("section", "panel"); timeline.id = "timeline";
    const usage = el("section", "panel"); usage.id = "usage";
    const context = el("section", "panel"); context.id = "shared-context";
    const specs = el("section", "panel wide"); specs.id = "specs";
    const grid = el("div", "grid");
    grid.append(instance, actions, graphPanel, tree, usage, timeline, context, specs);
    page.append(header, grid);

    let overview = null;
    let coordination = [];
    let specsShown = "";
    let outcomeText = null;
    let outcomeSerial = 0;
    // What the person typed into the action forms, kept across redraws (the page redraws as changes arrive).
    const drafts = {};
    let actionsShown = "";
    function keep(input) {
      if (Object.prototype.hasOwnProperty.call(drafts, input.id)) input.value = drafts[input.id];
      input.addEventListener("input", () => { drafts[input.id] = input.value; });
      return input;
    }

    function section(panel, heading) {
      clear(panel);
      panel.appendChild(el("h2", "", heading));
      return panel;
    }

    function drawHeader() {
      const task = overview.specTask;
      title.textContent = task.name || task.id;
      clear(subtitle);
      subtitle.appendChild(badge(task.status)).id = "task-status";
      subtitle.dataset.status = task.status;
      subtitle.appendChild(el("span", "muted", ` ${task.id} · updated ${ago(task.updatedAt)}` + (task.approvedBy ? ` · specs approved by ${task.approvedBy}` : "")));
      clear(overall);
      const overallBar = bar(overview.progress.overallPercent, "overall");
      overallBar.id = "overall-bar";
      overall.appendChild(overallBar);
      const phases = overview.progress.phases || {};
      const row = el("div", "phases");
      for (const name of ["planning", "implementation", "validation"]) {
        if (phases[name] && phases[name].sessionCount) row.appendChild(bar(phases[name].percent, name));
      }
      overall.appendChild(row);
    }

    function drawInstance() {
      section(instance, "Zed instance");
      const zed = overview.zedInstance;
      if (!zed) { instance.appendChild(el("p", "muted", "No instance yet: it opens when the implementation starts.")); return; }
      const list = el("dl", "facts");
      const add = (name, value, id) => {
        list.appendChild(el("dt", "", name));
        const dd = el("dd"); if (id) dd.id = id;
        if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
        list.appendChild(dd);
      };
      add("id", zed.id);
      add("status", badge(zed.status));
      add("heartbeat", ago(zed.lastHeartbeatAt), "heartbeat-age");
      const resources = zed.resources || {};
      add("load", [resources.cpuPercent != null ? resources.cpuPercent + "% CPU" : null, resources.memoryMB != null ? resources.memoryMB + " MB" : null, resources.uptimeSeconds != null ? "up " + resources.uptimeSeconds + " s" : null].filter(Boolean).join(" · ") || "not reported");
      if (zed.lastError) add("last error", zed.lastError);
      const limit = overview.specTask.maxConcurrentSessions;
      add("concurrency", limit == null ? "no limit" : `at most ${limit} sessions`);
      instance.appendChild(list);
    }

    // MARK: The plan as a dependency graph

    function drawGraph() {
      section(graphPanel, "Implementation plan");
      const tasks = overview.implementationTasks || [];
      if (!tasks.length) { graphPanel.appendChild(el("p", "muted", "The plan becomes a graph once the implementation starts.")); return; }
      const byIndex = new Map(tasks.map((t) => [t.index, t]));
      const percent = new Map((overview.progress.implementationTasks || []).map((p) => [p.index, p.percent]));
      // Layers: a task sits one column right of its latest dependency.
      const depth = new Map();
      const depthOf = (index, seen = new Set()) => {
        if (depth.has(index)) return depth.get(index);
        if (seen.has(index)) return 0;
        seen.add(index);
        const task = byIndex.get(index);
        const d = task ? Math.max(-1, ...task.dependsOn.filter((i) => byIndex.has(i)).map((i) => depthOf(i, seen))) + 1 : 0;
        depth.set(index, d);
        return d;
      };
      tasks.forEach((t) => depthOf(t.index));
      // The critical path: the chain of dependencies with the most effort (small 1, medium 2, large 3).
      const weight = (t) => ({ small: 1, medium: 2, large: 3 })[t.effort] || 1;
      const longest = new Map(); const previous = new Map();
      [...tasks].sort((a, b) => depth.get(a.index) - depth.get(b.index)).forEach((t) => {
        let best = 0; let from = null;
        for (const d of t.dependsOn) if (longest.has(d) && longest.get(d) > best) { best = longest.get(d); from = d; }
        longest.set(t.index, best + weight(t)); previous.set(t.index, from);
      });
      let end = null;
      for (const [index, length] of longest) if (end === null || length > longest.get(end)) end = index;
      const critical = new Set();
      for (let at = end; at !== null && at !== undefined; at = previous.get(at)) critical.add(at);

      const W = 200, H = 58, GX = 56, GY = 18, PAD = 10;
      const columns = new Map();
      for (const t of [...tasks].sort((a, b) => a.index - b.index)) {
        const d = depth.get(t.index);
        if (!columns.has(d)) columns.set(d, []);
        columns.get(d).push(t);
      }
      const position = new Map();
      let rows = 0;
      for (const [d, list] of columns) {
        list.forEach((t, row) => position.set(t.index, { x: PAD + d * (W + GX), y: PAD + row * (H + GY) }));
        rows = Math.max(rows, list.length);
      }
      const width = PAD * 2 + columns.size * (W + GX) - GX;
      const height = PAD * 2 + rows * (H + GY) - GY;
      const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "img" });
      const caption = svg("title"); caption.textContent = "Implementation tasks and their dependencies";
      root.appendChild(caption);
      const defs = svg("defs");
      const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
      marker.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
      defs.appendChild(marker); root.appendChild(defs);
      for (const t of tasks) {
        for (const d of t.dependsOn) {
          const a = position.get(d), b = position.get(t.index);
          if (!a || !b) continue;
          const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
          const edge = svg("path", { d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`, class: "edge" + (critical.has(d) && critical.has(t.index) && previous.get(t.index) === d ? " critical" : ""), "marker-end": "url(#arrow)" });
          edge.dataset.from = String(d); edge.dataset.to = String(t.index);
          root.appendChild(edge);
        }
      }
      for (const t of tasks) {
        const p = position.get(t.index);
        const value = pct(percent.get(t.index));
        const node = svg("g", { class: "node" + (critical.has(t.index) ? " critical" : ""), transform: `translate(${p.x},${p.y})` });
        node.dataset.index = String(t.index); node.dataset.status = t.status; node.dataset.percent = String(value);
        node.appendChild(svg("rect", { class: "node-box", width: W, height: H, rx: 8 }));
        node.appendChild(svg("rect", { class: "node-fill", width: (W * value) / 100, height: H, rx: 8 }));
        const label = svg("text", { x: 10, y: 22, class: "node-title" });
        const name = `${t.index}. ${t.title}`;
        label.textContent = name.length > 26 ? name.slice(0, 25) + "…" : name;
        const detail = svg("text", { x: 10, y: 44, class: "node-detail" });
        detail.textContent = `${String(t.status).replace(/_/g, " ")} · ${value}%` + (t.effort ? ` · ${t.effort}` : "");
        const tip = svg("title"); tip.textContent = `${name}\n${t.description || ""}`;
        node.append(tip, label, detail);
        root.appendChild(node);
      }
      const scroll = el("div", "graph-scroll"); scroll.appendChild(root);
      graphPanel.appendChild(scroll);
      const legend = el("p", "legend muted", "Nodes fill with progress; coloured by status. ");
      legend.appendChild(el("span", "critical-key", "Thick outline: the critical path (most effort)."));
      graphPanel.appendChild(legend);
    }

    // MARK: The work-session tree

    function drawSessions() {
      section(tree, "Work sessions");
      const sessions = overview.workSessions || [];
      if (!sessions.length) { tree.appendChild(el("p", "muted", "No work sessions yet.")); return; }
      const threads = new Map((overview.zedThreads || []).map((t) => [t.workSessionID, t]));
      const progress = new Map((overview.progress.workSessions || []).map((p) => [p.workSessionID, p]));
      const ids = new Set(sessions.map((s) => s.id));
      const children = new Map();
      for (const s of sessions) {
        const parent = s.parentWorkSessionID && ids.has(s.parentWorkSessionID) ? s.parentWorkSessionID : null;
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(s);
      }
      const seen = new Set();
      const branch = (parent) => {
        const list = el("ul", parent === null ? "tree" : "subtree");
        for (const s of children.get(parent) || []) {
          if (seen.has(s.id)) continue;
          seen.add(s.id);
          const item = el("li", "session"); item.dataset.sessionId = s.id; item.dataset.status = s.status;
          if (s.parentWorkSessionID) item.dataset.parentId = s.parentWorkSessionID;
          const row = el("div", "session-row");
          const name = el("div", "session-name");
          name.appendChild(el("strong", "", s.name || s.id));
          name.appendChild(el("span", "muted", " " + s.id + (s.attempt > 1 ? ` · attempt ${s.attempt}` : "") + (s.implementationTaskIndex ? ` · task ${s.implementationTaskIndex}` : "") + (s.parentWorkSessionID ? " · spawned" : "")));
          const thread = threads.get(s.id);
          const p = progress.get(s.id);
          const statusCell = el("div", "session-status");
          statusCell.appendChild(badge(s.status));
          if (thread) statusCell.appendChild(el("span", "muted", ` thread ${thread.zedThreadExternalID || thread.id}: ${thread.status}`));
          const sessionBar = bar(p ? p.percent : 0); sessionBar.classList.add("session-bar");
          const activity = el("div", "session-activity muted", "last activity " + ago(thread && thread.lastActivityAt));
          activity.dataset.at = (thread && thread.lastActivityAt) || "";
          row.append(name, statusCell, sessionBar, activity);
          if ((s.status === "failed" || s.status === "cancelled") && s.implementationTaskIndex && !TERMINAL.has(overview.specTask.status)) {
            const retry = el("button", "small", "Retry"); retry.dataset.action = "retry_work_session"; retry.dataset.sessionId = s.id;
            retry.disabled = !canAct();
            retry.addEventListener("click", () => send("retry_work_session", { workSessionID: s.id }));
            row.appendChild(retry);
          }
          item.appendChild(row);
          if (children.has(s.id)) item.appendChild(branch(s.id));
          list.appendChild(item);
        }
        return list;
      };
      tree.appendChild(branch(null));
    }

    // MARK: Coordination, shared context, usage

    // A session's name for people (its id when it has none, or is not one of this task's).
    function sessionName(id) {
      const session = (overview.workSessions || []).find((s) => s.id === id);
      return session && session.name ? session.name : id;
    }

    function drawTimeline() {
      section(timeline, "Coordination");
      if (!coordination.length) { timeline.appendChild(el("p", "muted", "No coordination messages.")); return; }
      const list = el("ol", "timeline");
      for (const entry of coordination) {
        const item = el("li", "event"); item.dataset.kind = entry.kind;
        const head = el("div", "event-head");
        head.appendChild(el("time", "muted", new Date(entry.createdAt).toLocaleTimeString()));
        head.appendChild(badge(entry.kind));
        const route = el("span", "", ` ${sessionName(entry.fromWorkSessionID)} → ${entry.toWorkSessionID ? sessionName(entry.toWorkSessionID) : "everyone"}`);
        route.title = `${entry.fromWorkSessionID} → ${entry.toWorkSessionID || "everyone"}`;
        head.appendChild(route);
        item.append(head, el("div", "event-message", entry.message));
        list.appendChild(item);
      }
      timeline.appendChild(list);
    }

    function drawContext() {
      section(context, "Shared context");
      const entries = overview.sharedContext || [];
      if (!entries.length) { context.appendChild(el("p", "muted", "Nothing shared yet.")); return; }
      const table = el("table", "kv");
      for (const entry of entries) {
        const row = el("tr");
        row.append(el("th", "", entry.key), el("td", "", entry.value));
        table.appendChild(row);
      }
      context.appendChild(table);
    }

    function drawUsage() {
      section(usage, "Usage and cost");
      const total = overview.progress.usage || {};
      const budget = overview.specTask.budget || {};
      const facts = el("p", "", `${number(total.tokensIn)} tokens in · ${number(total.tokensOut)} out · ${dollars(total.costMicros)}`);
      facts.id = "usage-total";
      usage.appendChild(facts);
      const limits = [];
      if (budget.maxCostMicros) limits.push(["cost", total.costMicros || 0, budget.maxCostMicros, dollars]);
      if (budget.maxTokens) limits.push(["tokens", (total.tokensIn || 0) + (total.tokensOut || 0), budget.maxTokens, number]);
      for (const [name, used, limit, format] of limits) {
        const b = bar((used * 100) / limit, `${name}: ${format(used)} of ${format(limit)} budget,`);
        b.classList.add("budget"); if (used >= limit) b.classList.add("over");
        usage.appendChild(b);
      }
      if (!limits.length) usage.appendChild(el("p", "muted", "No budget set."));
      const sessions = (overview.progress.workSessions || []).filter((s) => s.usage && (s.usage.costMicros || s.usage.tokensIn));
      if (!sessions.length) return;
      const maxCost = Math.max(1, ...sessions.map((s) => s.usage.costMicros || 0));
      const rowH = 22, labelW = 165, chartW = 220;
      const chart = svg("svg", { class: "usage-chart", width: labelW + chartW + 80, height: sessions.length * rowH + 6, role: "img" });
      sessions.forEach((s, i) => {
        const y = i * rowH + 4;
        const label = svg("text", { x: 0, y: y + 13, class: "chart-label" });
        const name = sessionName(s.workSessionID);
        label.textContent = name.length > 24 ? name.slice(0, 23) + "…" : name;
        const w = Math.max(1, (chartW * (s.usage.costMicros || 0)) / maxCost);
        const rect = svg("rect", { x: labelW, y, width: w, height: rowH - 6, class: "chart-bar", rx: 3 });
        const tip = svg("title"); tip.textContent = `${s.workSessionID}: ${number(s.usage.tokensIn + s.usage.tokensOut)} tokens, ${dollars(s.usage.costMicros)}`;
        rect.appendChild(tip);
        const value = svg("text", { x: labelW + w + 6, y: y + 13, class: "chart-value" });
        value.textContent = dollars(s.usage.costMicros);
        chart.append(label, rect, value);
      });
      usage.appendChild(chart);
    }

    function drawSpecs() {
      const task = overview.specTask;
      const key = [task.requirements, task.design, task.implementationPlan, task.approvalComments].join("\u0000");
      if (key === specsShown) return;
      specsShown = key;
      section(specs, "Specs");
      if (task.description) specs.appendChild(el("p", "description", task.description));
      const parts = [["spec-requirements", "Requirements", task.requirements], ["spec-design", "Design", task.design], ["spec-plan", "Implementation plan", task.implementationPlan]];
      for (const [id, name, text] of parts) {
        const box = el("details", "spec"); box.id = id; box.open = true;
        box.appendChild(el("summary", "", name));
        box.appendChild(text ? SpecMarkdown.render(text) : el("p", "muted", "Not written yet."));
        specs.appendChild(box);
      }
      if (task.approvalComments) {
        const box = el("div", "spec"); box.appendChild(el("h3", "", "Review comments")); box.appendChild(SpecMarkdown.render(task.approvalComments));
        specs.appendChild(box);
      }
    }

    // MARK: The human gate

    async function send(command, data) {
      const out = document.getElementById("action-outcome");
      if (out) { out.textContent = `${command.replace(/_/g, " ")}: sending…`; out.dataset.outcome = "pending"; }
      for (const button of actions.querySelectorAll("button")) button.disabled = true;
      const result = await act(taskID, command, data).catch((error) => ({ outcome: "error", reason: String(error) }));
      outcomeText = { command, result };
      outcomeSerial += 1;
      if (result.outcome === "applied") for (const id of Object.keys(drafts)) delete drafts[id];
      actionsShown = "";
      await refresh();
    }

    function drawActions() {
      const task = overview.specTask;
      // Redrawn only when what it shows changes: a form being filled in stays as it is.
      const key = JSON.stringify([task.status, state.info.readOnly, canAct(), task.maxConcurrentSessions, task.budget, outcomeSerial]);
      if (key === actionsShown) return;
      actionsShown = key;
      section(actions, "Actions");
      const out = el("p", "outcome"); out.id = "action-outcome"; out.setAttribute("role", "status");
      if (outcomeText) {
        const { command, result } = outcomeText;
        out.dataset.outcome = result.outcome;
        out.dataset.command = command;
        out.textContent = `${command.replace(/_/g, " ")}: ${result.outcome}` + (result.code ? ` (${result.code})` : "") + (result.reason ? `: ${result.reason}` : "");
      }
      if (state.info.readOnly) {
        actions.appendChild(el("p", "muted", "Read-only: this dashboard was started without SPECTASK_DASHBOARD_TOKEN."));
        actions.appendChild(out);
        return;
      }
      if (!state.token) actions.appendChild(el("p", "muted", "Give the dashboard token (top right) to act."));
      const comments = el("textarea"); comments.id = "action-comments"; comments.placeholder = "comments (for approvals, change requests, cancelling)"; comments.rows = 2;
      keep(comments);
      const form = el("div", "action-form");
      const button = (command, label, data, className) => {
        const b = el("button", className || "", label); b.dataset.action = command; b.disabled = !canAct();
        b.addEventListener("click", () => { const d = data(); if (d) send(command, d); });
        form.appendChild(b);
        return b;
      };
      const note = () => comments.value.trim();
      const numberInput = (id, placeholder, value) => {
        const input = el("input"); input.id = id; input.type = "number"; input.min = "0"; input.placeholder = placeholder;
        if (value !== undefined && value !== null) input.value = String(value);
        form.appendChild(keep(input));
        return input;
      };
      switch (task.status) {
        case "spec_review":
          button("approve_specs", "Approve specs", () => (note() ? { comments: note() } : {}), "primary");
          button("request_changes", "Request changes", () => (note() ? { comments: note() } : (comments.focus(), null)));
          break;
        case "spec_approved": {
          const limit = numberInput("start-concurrency", "max sessions", task.maxConcurrentSessions || 3);
          button("start_implementation", "Start implementation", () => (limit.value ? { maxConcurrentSessions: Number(limit.value) } : {}), "primary");
          break;
        }
        case "implementation_review": {
          button("approve_implementation", "Approve implementation", () => (note() ? { comments: note() } : {}), "primary");
          const which = el("input"); which.id = "reopen-tasks"; which.placeholder = "tasks to redo, e.g. 2,3"; form.appendChild(keep(which));
          button("request_implementation_changes", "Request changes", () => {
            const indexes = which.value.split(/[ ,]+/).filter(Boolean).map(Number).filter((n) => n > 0);
            if (!note() || !indexes.length) { (note() ? which : comments).focus(); return null; }
            return { comments: note(), implementationTaskIndexes: indexes };
          });
          break;
        }
        default:
          break;
      }
      actions.appendChild(form);
      if (!TERMINAL.has(task.status)) {
        actions.appendChild(comments);
        const settings = el("div", "action-form");
        const limit = el("input"); limit.id = "concurrency-input"; limit.type = "number"; limit.min = "1"; limit.placeholder = "max sessions (empty: no limit)";
        if (task.maxConcurrentSessions) limit.value = String(task.maxConcurrentSessions);
        const setLimit = el("button", "", "Set concurrency"); setLimit.dataset.action = "set_concurrency_limit"; setLimit.disabled = !canAct();
        setLimit.addEventListener("click", () => send("set_concurrency_limit", { maxConcurrentSessions: limit.value ? Number(limit.value) : null }));
        const cost = el("input"); cost.id = "budget-dollars"; cost.type = "number"; cost.min = "0"; cost.step = "0.01"; cost.placeholder = "budget $ (empty: none)";
        if (task.budget && task.budget.maxCostMicros) cost.value = String(task.budget.maxCostMicros / 1e6);
        const tokens = el("input"); tokens.id = "budget-tokens"; tokens.type = "number"; tokens.min = "0"; tokens.placeholder = "budget tokens";
        if (task.budget && task.budget.maxTokens) tokens.value = String(task.budget.maxTokens);
        const setBudget = el("button", "", "Set budget"); setBudget.dataset.action = "set_budget"; setBudget.disabled = !canAct();
        setBudget.addEventListener("click", () => send("set_budget", {
          maxCostMicros: cost.value ? Math.round(Number(cost.value) * 1e6) : null,
          maxTokens: tokens.value ? Number(tokens.value) : null,
        }));
        settings.append(keep(limit), setLimit, keep(cost), keep(tokens), setBudget);
        actions.appendChild(settings);
        const cancelRow = el("div", "action-form");
        const cancel = el("button", "danger", "Cancel spec task"); cancel.dataset.action = "cancel"; cancel.disabled = !canAct();
        cancel.addEventListener("click", () => {
          if (window.confirm("Cancel this spec task? Everything running for it stops.")) send("cancel", note() ? { reason: note() } : {});
        });
        cancelRow.appendChild(cancel);
        actions.appendChild(cancelRow);
      }
      actions.appendChild(out);
    }

    // MARK: Loading and live updates

    function draw() {
      drawHeader(); drawInstance(); drawActions(); drawGraph(); drawSessions(); drawUsage(); drawTimeline(); drawContext(); drawSpecs();
      page.dataset.loaded = "true";
      page.dataset.status = overview.specTask.status;
    }

    async function refresh() {
      try {
        const base = `/api/v1/spec-tasks/${encodeURIComponent(taskID)}`;
        const [next, log] = await Promise.all([getJSON(base + "/multi-session-overview"), getJSON(base + "/coordination-log?limit=500")]);
        overview = next; coordination = log;
        draw();
      } catch (error) {
        if (!overview) { clear(page).appendChild(el("p", "error", `Could not load spec task ${taskID}: ${error.message}`)); }
      }
    }

    const reload = throttle(refresh, 400);
    const listener = (kind, data) => {
      if (data.specTaskID !== taskID || !overview) return;
      if (kind === "progress") {
        // Bars move at once; the rest follows with the next load.
        setBar(document.getElementById("overall-bar"), data.progress.overallPercent);
        for (const s of data.progress.workSessions || []) {
          const item = tree.querySelector(`li.session[data-session-id="${CSS.escape(s.workSessionID)}"] > .session-row > .bar`);
          setBar(item, s.percent);
        }
      }
      reload();
    };
    listeners.add(listener);
    const ticker = setInterval(() => {
      const age = document.getElementById("heartbeat-age");
      if (age && overview && overview.zedInstance) age.textContent = ago(overview.zedInstance.lastHeartbeatAt);
      for (const node of tree.querySelectorAll(".session-activity")) node.textContent = "last activity " + ago(node.dataset.at || null);
    }, 1000);
    refresh();
    return { refresh, close: () => { listeners.delete(listener); clearInterval(ticker); } };
  }

  // MARK: - Start

  async function start() {
    try { state.info = await getJSON("/api/v1/dashboard"); } catch (_) { /* read-only */ }
    renderMode();
    connectEvents();
    const main = document.getElementById("main");
    clear(main);
    const match = window.location.pathname.match(/^\/tasks\/([^/]+)$/);
    state.view = match ? taskView(main, decodeURIComponent(match[1])) : boardView(main);
  }
  start();
})();
