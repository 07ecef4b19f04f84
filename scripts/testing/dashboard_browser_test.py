"""The dashboard in a real browser (headless Chromium through Selenium), against a private system: a worker, the
reference Zed runner and ``spectask dashboard``, each started by the shared helper (spectask_system.py).

    python dashboard_browser_test.py [all|workload|hostile]

workload: the demo's spec task is created and planned; the test opens the board, finds the task, opens its page,
approves the specs and starts the implementation from the page, watches the bars reach 100% live (no reload),
checks the session tree (the spawned helper under its parent) and the dependency graph, approves the
implementation, and saves screenshots.

hostile: a spec task whose name, specs, plan and shared context are full of script tags, event-handler attributes
and javascript: links; the board and the task page show them as text and nothing runs.

Run by scripts/test-browser (which installs Selenium and cleans up after an interrupted run).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from spectask_system import REPO_ROOT, SpecTaskSystem  # noqa: E402

ARTIFACTS = Path(os.environ.get("SPECTASK_BROWSER_ARTIFACTS") or REPO_ROOT / ".local" / "artifacts" / "browser")
TOKEN = "browser-test-token-" + os.urandom(6).hex()
PLAN = (REPO_ROOT / "docs" / "examples" / "auth-plan.md").read_text(encoding="utf-8")


def start_system(runner_arguments: list[str]) -> tuple[SpecTaskSystem, str]:
    system = SpecTaskSystem(namespace="browser", env="SPECTASK_BROWSER")
    prefixes = os.environ.get("SPECTASK_BROWSER_PREFIXES")
    if prefixes:
        with open(prefixes, "a", encoding="utf-8") as out:
            out.write(system.prefix + "\n")
    system.start()
    try:
        system.start_runner(runner_arguments)
        url = system.start_dashboard(TOKEN)
    except BaseException:
        system.stop()
        raise
    return system, url


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1500,1900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def wait(driver, seconds: float, what: str, predicate):
    try:
        # The page redraws parts of itself as changes arrive: an element found a moment ago may be gone.
        return WebDriverWait(
            driver, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
        ).until(lambda d: predicate(d))
    except TimeoutException:
        raise AssertionError(f"timed out after {seconds:g} s waiting for {what}") from None


def retry(read):
    """``read()``, again while the element it used was redrawn under it (the page redraws as changes arrive)."""
    for attempt in range(20):
        try:
            return read()
        except StaleElementReferenceException:
            if attempt == 19:
                raise
            time.sleep(0.1)


def give_token(driver) -> None:
    driver.find_element(By.ID, "actor-input").send_keys("browser-test")
    driver.find_element(By.ID, "token-input").send_keys(TOKEN)
    driver.find_element(By.ID, "token-save").click()
    wait(driver, 10, "the page to take the token",
         lambda d: d.find_element(By.ID, "mode").get_attribute("data-can-act") == "true")


def click_action(driver, command: str) -> None:
    """Clicks the action button and waits until its outcome says applied."""
    def enabled_button(d):
        button = next((b for b in d.find_elements(By.CSS_SELECTOR, f'#actions button[data-action="{command}"]')
                       if b.is_enabled()), False)
        if button:
            button.click()
        return bool(button)
    wait(driver, 30, f"an enabled {command} button to click", enabled_button)
    outcome = wait(driver, 40, f"the outcome of {command}", lambda d: d.execute_script(
        "const o = document.getElementById('action-outcome');"
        "return o && o.dataset.command === arguments[0] && o.dataset.outcome !== 'pending'"
        " ? [o.dataset.outcome, o.textContent] : false;", command))
    assert outcome[0] == "applied", f"{command}: {outcome[1]}"


def percent(driver, selector: str) -> int:
    values = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.dataset.percent : null;", selector)
    return int(values) if values is not None else -1


class DashboardWorkloadTest(unittest.TestCase):
    def test_approve_from_the_page_and_watch_it_finish(self):
        system, url = start_system(["--spawn-helper-for-task", "2", "--step-interval", "0.6", "--steps", "8"])
        driver = None
        try:
            task = f"auth-{system.token}"
            system.send("create", task, {"name": "Implement complete user authentication system",
                                         "description": "Sign-up, sign-in, sessions and hardening.",
                                         "projectPath": "/workspace/auth-service"})
            system.send("start_planning", task)
            system.send("submit_specs", task, {
                "requirements": "Users **sign up**, sign in and out; sessions expire; brute force is throttled.",
                "design": "REST API over PostgreSQL; `argon2id` password hashes; signed session tokens.",
                "implementationPlan": PLAN,
            })
            driver = browser()

            # The board: the task is a card in the spec review column.
            driver.get(url + "/")
            wait(driver, 20, "the board", lambda d: d.find_element(By.ID, "board").get_attribute("data-loaded"))
            driver.find_element(By.ID, "filter-text").send_keys(task)
            card = f'.column[data-column="spec_review"] .card[data-task-id="{task}"]'
            wait(driver, 20, "the task's card in spec review", lambda d: d.find_elements(By.CSS_SELECTOR, card))
            assert "user authentication" in retry(lambda: driver.find_element(By.CSS_SELECTOR, card).text)
            driver.save_screenshot(str(ARTIFACTS / "board.png"))
            retry(lambda: driver.find_element(By.CSS_SELECTOR, card + " a.card-title").click())

            # The task page: approve the specs, start the implementation, from here and without reloading.
            wait(driver, 20, "the task page", lambda d: d.find_elements(By.CSS_SELECTOR, '#task-page[data-loaded="true"]'))
            give_token(driver)
            driver.execute_script("window.__notReloaded = 'yes';")
            assert "sign up" in retry(lambda: driver.find_element(By.ID, "spec-requirements").text)
            status = lambda want: lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == want

            # Changes first, with a comment; the planning agent (here: the test) submits again; the page follows.
            retry(lambda: driver.find_element(By.ID, "action-comments").send_keys("Also **lock out** after 5 failures."))
            click_action(driver, "request_changes")
            wait(driver, 20, "spec_revision", status("spec_revision"))
            assert "lock out" in retry(lambda: driver.find_element(By.ID, "specs").text), "the review comment is not shown"
            system.send("submit_specs", task, {
                "requirements": "Users **sign up**, sign in and out; sessions expire; lockout after 5 failures.",
                "design": "REST API over PostgreSQL; `argon2id` password hashes; signed session tokens.",
                "implementationPlan": PLAN,
            })
            wait(driver, 20, "spec_review again, live", status("spec_review"))
            wait(driver, 20, "the new requirements, live",
                 lambda d: "lockout" in d.find_element(By.ID, "spec-requirements").text)
            click_action(driver, "approve_specs")
            wait(driver, 20, "spec_approved", status("spec_approved"))
            click_action(driver, "start_implementation")
            # The limits, from the page too: a budget of $5 and 3 sessions at once.
            retry(lambda: driver.find_element(By.ID, "budget-dollars").send_keys("5"))
            click_action(driver, "set_budget")
            retry(lambda: driver.find_element(By.ID, "concurrency-input").clear())
            retry(lambda: driver.find_element(By.ID, "concurrency-input").send_keys("3"))
            click_action(driver, "set_concurrency_limit")
            wait(driver, 20, "the budget bar", lambda d: d.find_elements(By.CSS_SELECTOR, "#usage .bar.budget"))
            # What one types stays while the page redraws around it (progress arrives several times a second).
            retry(lambda: driver.find_element(By.ID, "action-comments").send_keys("Looks good so far."))
            time.sleep(2)
            typed = retry(lambda: driver.find_element(By.ID, "action-comments").get_attribute("value"))
            assert typed == "Looks good so far.", f"the comment being typed was lost: {typed!r}"

            # The bars fill live: values between 0 and 100 are seen, then 100.
            seen = set()
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                value = percent(driver, "#overall-bar")
                seen.add(value)
                if value == 100:
                    break
                if 45 <= value <= 75 and not (ARTIFACTS / "task-page-live.png").exists():
                    # Half way: the picture of the README (docs/dashboard.png).
                    driver.execute_script("window.scrollTo(0, 0);")
                    driver.save_screenshot(str(ARTIFACTS / "task-page-live.png"))
                time.sleep(0.25)
            assert 100 in seen, f"the overall bar never reached 100% (saw {sorted(seen)})\n{system.logs()}"
            assert any(0 < v < 100 for v in seen), f"no progress between 0 and 100% was shown live: {sorted(seen)}"
            assert driver.execute_script("return window.__notReloaded;") == "yes", "the page was reloaded"

            # The session tree: the helper, spawned by task 2's session, is nested under it (read in one go: the
            # page redraws as changes arrive).
            tree = wait(driver, 30, "every session at 100%", lambda d: d.execute_script("""
                const rows = [...document.querySelectorAll('#sessions li.session')].map(li => ({
                    id: li.dataset.sessionId, parent: li.dataset.parentId || null,
                    percent: li.querySelector(':scope > .session-row > .bar').dataset.percent,
                    nestedUnder: (li.parentElement.closest('li.session') || {dataset: {}}).dataset.sessionId || null}));
                return rows.length && rows.every(r => r.percent === '100') ? rows : false;"""))
            assert len(tree) >= 6, f"expected 5 sessions and a helper, got {tree}"
            spawned = [row for row in tree if row["parent"]]
            assert spawned, f"no spawned session: {tree}"
            for row in tree:
                assert row["nestedUnder"] == row["parent"], f"session {row['id']} is not shown under its parent: {tree}"

            # The graph: five nodes, edges for the dependencies, a critical path, every node completed.
            graph = wait(driver, 30, "every node completed", lambda d: d.execute_script("""
                const nodes = [...document.querySelectorAll('#graph svg g.node')];
                if (!nodes.length || !nodes.every(n => n.dataset.status === 'completed')) return false;
                return {nodes: nodes.length, edges: document.querySelectorAll('#graph svg path.edge').length,
                        critical: document.querySelectorAll('#graph svg g.node.critical').length};"""))
            assert graph == {"nodes": 5, "edges": 5, "critical": graph["critical"]} and graph["critical"] >= 3, graph
            assert driver.find_elements(By.CSS_SELECTOR, "#timeline li.event"), "no coordination messages shown"
            assert "tokens" in retry(lambda: driver.find_element(By.ID, "usage-total").text)

            wait(driver, 60, "implementation review",
                 lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == "implementation_review")
            driver.execute_script("window.scrollTo(0, 0);")
            driver.save_screenshot(str(ARTIFACTS / "task-page.png"))
            click_action(driver, "approve_implementation")
            wait(driver, 20, "done", lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == "done")
            assert driver.execute_script("return window.__notReloaded;") == "yes", "the page was reloaded"

            # Back on the board, the card is in the done column at 100%.
            driver.get(url + "/?q=" + task)
            done = f'.column[data-column="done"] .card[data-task-id="{task}"] .bar'
            wait(driver, 20, "the card in done", lambda d: d.find_elements(By.CSS_SELECTOR, done))
            assert retry(lambda: driver.find_element(By.CSS_SELECTOR, done).get_attribute("data-percent")) == "100"
        except BaseException:
            if driver is not None:
                driver.save_screenshot(str(ARTIFACTS / "workload-failure.png"))
            print(system.logs(), file=sys.stderr)
            raise
        finally:
            if driver is not None:
                driver.quit()
            system.stop()


HOSTILE = {
    "name": '<img src=x onerror="window.__pwned=\'name\'"><script>window.__pwned="name-script"</script>',
    "description": '<svg onload="window.__pwned=\'description\'"></svg>',
    "requirements": (
        "# Requirements <script>window.__pwned='heading'</script>\n\n"
        "Click [here](javascript:window.__pwned='link') or [there](JaVaScRiPt:window.__pwned='case') "
        "or [data](data:text/html,<script>window.__pwned='data'</script>).\n\n"
        "<a href=\"javascript:window.__pwned='raw-a'\">raw anchor</a> "
        "<img src=x onerror=\"window.__pwned='img'\"> <iframe src=\"javascript:window.__pwned='iframe'\"></iframe>\n\n"
        "![pic](javascript:window.__pwned='image')\n"
    ),
    "design": "```\n</code></pre><script>window.__pwned='fence'</script>\n```\n\n**<b onmouseover=\"window.__pwned='bold'\">x</b>**",
    "implementationPlan": (
        "# Plan <script>window.__pwned='plan'</script>\n\n"
        "## Task 1: <script>window.__pwned='title'</script>\n"
        "Description: <img src=x onerror=\"window.__pwned='task-description'\">\n"
        "Effort: small\n\n"
        "## Task 2: <a href=\"javascript:window.__pwned='title-link'\">click</a>\n"
        "Description: [x](javascript:window.__pwned='md')\n"
        "Depends on: 1\n"
    ),
}


class HostileContentTest(unittest.TestCase):
    def test_nothing_runs(self):
        system, url = start_system(["--step-interval", "0.3", "--steps", "4"])
        driver = None
        try:
            task = f"hostile-{system.token}"
            system.send("create", task, {"name": HOSTILE["name"], "description": HOSTILE["description"]})
            system.send("start_planning", task)
            system.send("submit_specs", task, {k: HOSTILE[k] for k in ("requirements", "design", "implementationPlan")})
            system.send("set_shared_context", task, {"key": "<script>window.__pwned='key'</script>",
                                                     "value": "<img src=x onerror=\"window.__pwned='value'\">"})
            system.send("approve_specs", task, {"approver": "<b onclick=alert(1)>me</b>", "comments": HOSTILE["requirements"]})
            system.send("start_implementation", task, {"maxConcurrentSessions": 2})
            driver = browser()

            def check(where: str) -> None:
                try:
                    alert = driver.switch_to.alert
                    raise AssertionError(f"{where}: an alert opened: {alert.text}")
                except NoAlertPresentException:
                    pass
                pwned = driver.execute_script("return window.__pwned === undefined ? null : String(window.__pwned);")
                assert pwned is None, f"{where}: hostile script ran ({pwned})"
                # Only the dashboard's own two scripts; no element with an event handler; no javascript: link.
                scripts = driver.execute_script("return [...document.scripts].map(s => s.getAttribute('src'));")
                assert scripts == ["/assets/markdown.js", "/assets/app.js"], f"{where}: scripts {scripts}"
                handlers = driver.execute_script(
                    "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
                    ".filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name));")
                assert handlers == [], f"{where}: event-handler attributes {handlers}"
                links = driver.execute_script(
                    "return [...document.querySelectorAll('[href],[src],[action],[formaction],[xlink\\\\:href]')]"
                    ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || '')"
                    ".filter(v => !/^(https?:|mailto:|\\/)/i.test(v.trim()));")
                assert links == [], f"{where}: unsafe link targets {links}"
                for tag in ("iframe", "img", "object", "embed", "b"):
                    found = driver.find_elements(By.CSS_SELECTOR, f"#main {tag}")
                    assert not found, f"{where}: a <{tag}> element from the content was created"

            driver.get(url + "/?q=" + task)
            card = f'.card[data-task-id="{task}"]'
            wait(driver, 20, "the hostile task's card", lambda d: d.find_elements(By.CSS_SELECTOR, card))
            assert "<script>" in retry(lambda: driver.find_element(By.CSS_SELECTOR, card).text), "the name is not text"
            time.sleep(1)
            check("the board")

            driver.get(url + "/tasks/" + task)
            wait(driver, 20, "the task page", lambda d: d.find_elements(By.CSS_SELECTOR, '#task-page[data-loaded="true"]'))
            wait(driver, 30, "the graph", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#graph svg g.node")) == 2)
            time.sleep(2)
            # Hover and click everything that could carry a handler; follow no link.
            for element in driver.find_elements(By.CSS_SELECTOR, "#specs .markdown *, #graph svg g.node, #task-name"):
                try:
                    webdriver.ActionChains(driver).move_to_element(element).perform()
                except Exception:
                    pass
            for span in driver.find_elements(By.CSS_SELECTOR, ".md-unsafe-link"):
                try:
                    span.click()
                except StaleElementReferenceException:
                    pass
            check("the task page")
            # Without the token the page is read-only: every action button is disabled.
            enabled = driver.execute_script(
                "return [...document.querySelectorAll('#main button[data-action]')].filter(b => !b.disabled).length;")
            assert enabled == 0, f"{enabled} action buttons are enabled without the token"
            text = retry(lambda: driver.find_element(By.ID, "main").text)
            assert "window.__pwned='plan'" in text and "onerror" in text, "the hostile text is not shown as text"
            assert retry(lambda: driver.find_element(By.ID, "task-name").text).startswith("<img src=x onerror=")
            hrefs = driver.execute_script("return [...document.querySelectorAll('#main a')].map(a => a.href);")
            for href in hrefs:
                assert href.startswith(("http://", "https://", "mailto:")), f"unsafe link {href}"
            # Wait for the implementation to run, so the session tree and the timeline show the hostile titles too.
            wait(driver, 120, "the implementation to finish", lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == "implementation_review")
            check("the finished task page")
            driver.save_screenshot(str(ARTIFACTS / "hostile.png"))
        except BaseException:
            if driver is not None:
                driver.save_screenshot(str(ARTIFACTS / "hostile-failure.png"))
            print(system.logs(), file=sys.stderr)
            raise
        finally:
            if driver is not None:
                driver.quit()
            system.stop()


def main(argv: list[str]) -> int:
    which = argv[1] if len(argv) > 1 else "all"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    suite = unittest.TestSuite()
    if which in ("all", "workload"):
        suite.addTest(DashboardWorkloadTest("test_approve_from_the_page_and_watch_it_finish"))
    if which in ("all", "hostile"):
        suite.addTest(HostileContentTest("test_nothing_runs"))
    if not suite.countTestCases():
        print(__doc__, file=sys.stderr)
        return 2
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"browser tests: {result.testsRun - failed} passed, {failed} failed")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception:
        traceback.print_exc()
        sys.exit(1)
