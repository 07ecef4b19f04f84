// A small Markdown renderer that builds DOM nodes: every piece of text goes in as text (textContent /
// createTextNode), never as HTML, so specs written by agents (untrusted) can not add elements, attributes or
// scripts. Links keep only http(s) and mailto targets; images are shown as their alt text.
"use strict";

const SpecMarkdown = (() => {
  function el(tag, className) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    return node;
  }

  // Only these URL schemes become links; anything else (javascript:, data:, vbscript:, …) stays text.
  function safeHref(url) {
    try {
      const parsed = new URL(url, window.location.href);
      if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") return parsed.href;
    } catch (_) { /* not a URL */ }
    return null;
  }

  // Inline Markdown: `code`, **strong**, *em* / _em_, [text](url), ![alt](url) → text nodes and elements.
  function inline(text, parent) {
    let i = 0;
    let plain = "";
    const flush = () => { if (plain) { parent.appendChild(document.createTextNode(plain)); plain = ""; } };
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && i + 1 < text.length && /[\\`*_\[\]()#!>-]/.test(text[i + 1])) {
        plain += text[i + 1]; i += 2; continue;
      }
      if (c === "`") {
        const end = text.indexOf("`", i + 1);
        if (end > i) { flush(); const code = el("code"); code.textContent = text.slice(i + 1, end); parent.appendChild(code); i = end + 1; continue; }
      }
      if ((c === "*" || c === "_") && text[i + 1] === c) {
        const end = text.indexOf(c + c, i + 2);
        if (end > i + 2) { flush(); const strong = el("strong"); inline(text.slice(i + 2, end), strong); parent.appendChild(strong); i = end + 2; continue; }
      }
      if ((c === "*" || c === "_") && text[i + 1] !== " ") {
        const end = text.indexOf(c, i + 1);
        if (end > i + 1 && text[end - 1] !== " ") { flush(); const em = el("em"); inline(text.slice(i + 1, end), em); parent.appendChild(em); i = end + 1; continue; }
      }
      const image = c === "!" && text[i + 1] === "[";
      if (c === "[" || image) {
        const start = image ? i + 1 : i;
        const close = text.indexOf("]", start + 1);
        if (close > start && text[close + 1] === "(") {
          const end = text.indexOf(")", close + 2);
          if (end > close) {
            const label = text.slice(start + 1, close);
            const url = text.slice(close + 2, end).trim().split(/\s+/)[0] || "";
            flush();
            const href = image ? null : safeHref(url);
            if (href) {
              const a = el("a");
              a.href = href;
              a.rel = "noopener noreferrer nofollow";
              a.target = "_blank";
              inline(label, a);
              parent.appendChild(a);
            } else {
              // Not a link we follow: the label, and the target as plain text.
              const span = el("span", image ? "md-image" : "md-unsafe-link");
              span.textContent = image ? `[image: ${label}]` : `${label} (${url})`;
              parent.appendChild(span);
            }
            i = end + 1;
            continue;
          }
        }
      }
      plain += c;
      i += 1;
    }
    flush();
  }

  // Block Markdown: headings, fenced code, lists (with task checkboxes), quotes, rules, paragraphs.
  function render(source) {
    const root = el("div", "markdown");
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    let paragraph = [];
    let list = null;
    const endParagraph = () => {
      if (paragraph.length) { const p = el("p"); inline(paragraph.join(" "), p); root.appendChild(p); paragraph = []; }
    };
    const endList = () => { list = null; };
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n];
      const fence = line.match(/^\s*(```|~~~)/);
      if (fence) {
        endParagraph(); endList();
        const body = [];
        n += 1;
        while (n < lines.length && !lines[n].trim().startsWith(fence[1])) { body.push(lines[n]); n += 1; }
        const pre = el("pre"); const code = el("code"); code.textContent = body.join("\n"); pre.appendChild(code); root.appendChild(pre);
        continue;
      }
      if (!line.trim()) { endParagraph(); endList(); continue; }
      const heading = line.match(/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/);
      if (heading) {
        endParagraph(); endList();
        const h = el("h" + Math.min(6, heading[1].length + 2)); inline(heading[2], h); root.appendChild(h);
        continue;
      }
      if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) { endParagraph(); endList(); root.appendChild(el("hr")); continue; }
      const quote = line.match(/^\s{0,3}>\s?(.*)$/);
      if (quote) {
        endParagraph(); endList();
        const q = el("blockquote"); inline(quote[1], q); root.appendChild(q);
        continue;
      }
      const item = line.match(/^(\s*)([-*+]|\d+[.)])\s+(.*)$/);
      if (item) {
        endParagraph();
        const ordered = /\d/.test(item[2]);
        const depth = Math.floor(item[1].replace(/\t/g, "  ").length / 2);
        if (!list || list.ordered !== ordered) {
          list = { ordered, node: el(ordered ? "ol" : "ul") };
          root.appendChild(list.node);
        }
        const li = el("li");
        if (depth > 0) li.classList.add("depth-" + Math.min(depth, 4));
        let text = item[3];
        const box = text.match(/^\[([ xX])\]\s+(.*)$/);
        if (box) {
          const mark = el("span", "checkbox" + (box[1] === " " ? "" : " checked"));
          mark.textContent = box[1] === " " ? "☐ " : "☑ ";
          li.appendChild(mark);
          text = box[2];
        }
        inline(text, li);
        list.node.appendChild(li);
        continue;
      }
      endList();
      paragraph.push(line.trim());
    }
    endParagraph();
    return root;
  }

  return { render, inline, safeHref };
})();
