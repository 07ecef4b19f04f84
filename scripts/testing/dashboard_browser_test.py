"""The dashboard in a real browser (headless Chromium through Selenium), against a private system: a worker, the
reference Zed runner and ``spectask dashboard``, each started by the shared helper (spectask_system.py).

    python dashboard_browser_test.py [all|workload]

workload: the demo's spec task is created and planned; the test opens the board, finds the task, opens its page,
approves the specs and starts the implementation from the page, watches the bars reach 100% live (no reload),
checks the session tree (the spawned helper under its parent) and the dependency graph, approves the
implementation, and saves screenshots.

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
from selenium.common.exceptions import TimeoutException  # noqa: E402
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
        return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: predicate(d))
    except TimeoutException:
        raise AssertionError(f"timed out after {seconds:g} s waiting for {what}") from None


def give_token(driver) -> None:
    driver.find_element(By.ID, "actor-input").send_keys("browser-test")
    driver.find_element(By.ID, "token-input").send_keys(TOKEN)
    driver.find_element(By.ID, "token-save").click()
    wait(driver, 10, "the page to take the token",
         lambda d: d.find_element(By.ID, "mode").get_attribute("data-can-act") == "true")


def click_action(driver, command: str) -> None:
    """Clicks the action button and waits until its outcome says applied."""
    button = wait(driver, 30, f"an enabled {command} button", lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, f'#actions button[data-action="{command}"]') if b.is_enabled()),
        False))
    button.click()
    outcome = wait(driver, 40, f"the outcome of {command}", lambda d: (
        lambda o: o if o.get_attribute("data-command") == command and o.get_attribute("data-outcome") != "pending"
        else False)(d.find_element(By.ID, "action-outcome")))
    assert outcome.get_attribute("data-outcome") == "applied", f"{command}: {outcome.text}"


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
            card = wait(driver, 20, "the task's card in spec review", lambda d: d.find_elements(
                By.CSS_SELECTOR, f'.column[data-column="spec_review"] .card[data-task-id="{task}"]'))[0]
            assert "user authentication" in card.text
            driver.save_screenshot(str(ARTIFACTS / "board.png"))
            card.find_element(By.CSS_SELECTOR, "a.card-title").click()

            # The task page: approve the specs, start the implementation, from here and without reloading.
            wait(driver, 20, "the task page", lambda d: d.find_elements(By.CSS_SELECTOR, '#task-page[data-loaded="true"]'))
            give_token(driver)
            driver.execute_script("window.__notReloaded = 'yes';")
            assert "sign up" in driver.find_element(By.ID, "spec-requirements").text
            click_action(driver, "approve_specs")
            wait(driver, 20, "spec_approved", lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == "spec_approved")
            click_action(driver, "start_implementation")

            # The bars fill live: values between 0 and 100 are seen, then 100.
            seen = set()
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                value = percent(driver, "#overall-bar")
                seen.add(value)
                if value == 100:
                    break
                time.sleep(0.25)
            assert 100 in seen, f"the overall bar never reached 100% (saw {sorted(seen)})\n{system.logs()}"
            assert any(0 < v < 100 for v in seen), f"no progress between 0 and 100% was shown live: {sorted(seen)}"
            assert driver.execute_script("return window.__notReloaded;") == "yes", "the page was reloaded"

            # The session tree: the helper, spawned by task 2's session, is nested under it.
            sessions = wait(driver, 30, "every session at 100%", lambda d: (
                lambda rows: rows if rows and all(r.get_attribute("data-percent") == "100" for r in rows) else False)(
                d.find_elements(By.CSS_SELECTOR, "#sessions li.session > .session-row > .bar")))
            assert len(sessions) >= 6, f"expected 5 sessions and a helper, got {len(sessions)}"
            nested = driver.find_elements(By.CSS_SELECTOR, "#sessions li.session > ul.subtree > li.session[data-parent-id]")
            assert nested, "no spawned session is shown under its parent"
            for child in nested:
                parent = child.find_element(By.XPATH, "ancestor::li[contains(@class,'session')][1]")
                assert parent.get_attribute("data-session-id") == child.get_attribute("data-parent-id")

            # The graph: five nodes, edges for the dependencies, a critical path, every node completed.
            nodes = driver.find_elements(By.CSS_SELECTOR, "#graph svg g.node")
            assert len(nodes) == 5, f"expected 5 nodes, got {len(nodes)}"
            assert len(driver.find_elements(By.CSS_SELECTOR, "#graph svg path.edge")) == 5
            assert driver.find_elements(By.CSS_SELECTOR, "#graph svg g.node.critical")
            wait(driver, 30, "every node completed", lambda d: all(
                n.get_attribute("data-status") == "completed" for n in d.find_elements(By.CSS_SELECTOR, "#graph svg g.node")))
            assert driver.find_elements(By.CSS_SELECTOR, "#timeline li.event"), "no coordination messages shown"
            assert "tokens" in driver.find_element(By.ID, "usage-total").text

            wait(driver, 60, "implementation review",
                 lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == "implementation_review")
            driver.execute_script("window.scrollTo(0, 0);")
            driver.save_screenshot(str(ARTIFACTS / "task-page.png"))
            click_action(driver, "approve_implementation")
            wait(driver, 20, "done", lambda d: d.find_element(By.ID, "task-page").get_attribute("data-status") == "done")
            assert driver.execute_script("return window.__notReloaded;") == "yes", "the page was reloaded"

            # Back on the board, the card is in the done column at 100%.
            driver.get(url + "/?q=" + task)
            card = wait(driver, 20, "the card in done", lambda d: d.find_elements(
                By.CSS_SELECTOR, f'.column[data-column="done"] .card[data-task-id="{task}"]'))[0]
            assert card.find_element(By.CSS_SELECTOR, ".bar").get_attribute("data-percent") == "100"
        except BaseException:
            if driver is not None:
                driver.save_screenshot(str(ARTIFACTS / "workload-failure.png"))
            print(system.logs(), file=sys.stderr)
            raise
        finally:
            if driver is not None:
                driver.quit()
            system.stop()


def main(argv: list[str]) -> int:
    which = argv[1] if len(argv) > 1 else "all"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    suite = unittest.TestSuite()
    if which in ("all", "workload"):
        suite.addTest(DashboardWorkloadTest("test_approve_from_the_page_and_watch_it_finish"))
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
