"""A private spectask system for tests that drive real processes: its own topic prefix and consumer groups, a real
``spectask worker`` started from ``$SPECTASK_BIN``, and, when asked, the reference Zed runner and the dashboard.

Shared by the Python client's integration tests (clients/python/tests/support.py) and the dashboard's browser tests
(scripts/testing/dashboard_browser_test.py). Nothing is skipped: a missing binary, broker or database fails the
tests with what to do about it. Only the standard library is needed, except for deleting topics (confluent-kafka).

Environment, for a test namespace whose variables start with ``<ENV>`` (e.g. ``SPECTASK_PYCLIENT``):
``SPECTASK_BIN`` (required), ``KAFKA_BOOTSTRAP_SERVERS`` and ``POSTGRES_URL`` (default: the local services of
``scripts/services``), ``<ENV>_PREFIX`` (default ``<namespace>-<random>.``), ``<ENV>_PIDFILE`` (every process's pid is
written there, for a harness that must be able to kill them), ``<ENV>_LOG_DIR`` (where their logs go; default a
temporary folder) and ``<ENV>_KEEP_TOPICS=1`` (keep the topics afterwards).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_POSTGRES = "postgres://spectask@127.0.0.1:55432/spectask?sslmode=disable"
# Topic prefixes these helpers may delete: only ever the private ones of a test namespace.
TEST_NAMESPACES = ("pyclient", "browser")


class SetupError(AssertionError):
    """The system under test could not be brought up: a failure, never a skip."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SpecTaskSystem:
    def __init__(self, namespace: str, env: str):
        if namespace not in TEST_NAMESPACES:
            raise ValueError(f"unknown test namespace {namespace!r}")
        binary = os.environ.get("SPECTASK_BIN")
        if not binary:
            raise SetupError(
                "SPECTASK_BIN is not set: point it at the spectask binary "
                "(scripts/test finds it; or: source scripts/lib.sh; SPECTASK_CONFIGURATION=debug spectask_bin)"
            )
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise SetupError(f"SPECTASK_BIN={binary} is not an executable file (build it: scripts/test does)")
        self.binary = binary
        self.env_prefix = env
        self.token = secrets.token_hex(4)
        self.prefix = os.environ.get(f"{env}_PREFIX") or f"{namespace}-{self.token}."
        self.group = f"{self.prefix.rstrip('.')}-workers"
        self.kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LOCAL_KAFKA
        self.postgres = os.environ.get("POSTGRES_URL") or LOCAL_POSTGRES
        self.admin_port = free_port()
        self.log_dir = Path(os.environ.get(f"{env}_LOG_DIR") or tempfile.mkdtemp(prefix=f"spectask-{namespace}-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / f"worker-{self.token}.log"
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.worker: subprocess.Popen | None = None
        self.startup_seconds = 0.0
        self.environment = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "POSTGRES_URL": self.postgres,
            "SPECTASK_TOPIC_PREFIX": self.prefix,
            "SPECTASK_GROUP_ID": self.group,
            "SPECTASK_ADMIN_ADDRESS": f"127.0.0.1:{self.admin_port}",
            # Every process stops by itself when the test process goes away without stopping it.
            "SPECTASK_EXIT_WITH_PARENT": "1",
        }

    # MARK: - Start and stop

    def start(self, ready_timeout: float = 120.0) -> "SpecTaskSystem":
        """Migrates the database, creates the topics and starts a worker; returns once it owns partitions."""
        started = time.monotonic()
        self._run(["migrate"], "migrating the database (is PostgreSQL up? scripts/services status)")
        self._run(
            ["topics", "apply", "--topics-dir", str(REPO_ROOT / "topics"), "--topic-prefix", self.prefix],
            "creating the topics (is the broker up? scripts/services status)",
        )
        self.worker = self.spawn("worker", ["worker"], self.log_path)
        try:
            # Not /ready: it answers 200 during the worker's first minute even before it owns a partition.
            self.wait_for_log(self.worker, self.log_path, "owning partitions", ready_timeout, "the worker")
        except SetupError:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def start_runner(self, arguments: list[str] = (), timeout: float = 120.0) -> None:
        """Starts the reference Zed runner on this system's topics, in a consumer group of its own."""
        log = self.log_dir / f"zed-runner-{self.token}.log"
        runner = self.spawn(
            "zed-runner", ["zed-runner", "--group-id", f"{self.prefix.rstrip('.')}-runner", *arguments], log
        )
        self.wait_for_log(runner, log, "consuming", timeout, "the reference Zed runner")

    def start_dashboard(self, token: str | None, timeout: float = 60.0) -> str:
        """Starts ``spectask dashboard`` on a free port; returns its URL (no trailing slash)."""
        log = self.log_dir / f"dashboard-{self.token}.log"
        dashboard = self.spawn(
            "dashboard",
            ["dashboard", "--address", "127.0.0.1:0"],
            log,
            {"SPECTASK_DASHBOARD_TOKEN": token or ""},
        )
        self.wait_for_log(dashboard, log, "dashboard following", timeout, "the dashboard")
        found = re.search(r"dashboard listening on (http://[0-9.:]+)/", self.read(log))
        if not found:
            raise SetupError(f"the dashboard did not say where it listens:\n{self.tail(log)}")
        return found.group(1)

    def spawn(self, name: str, arguments: list[str], log: Path, environment: dict | None = None) -> subprocess.Popen:
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [self.binary, *arguments],
                env={**self.environment, **(environment or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        pidfile = os.environ.get(f"{self.env_prefix}_PIDFILE")
        if pidfile:
            with open(pidfile, "a", encoding="utf-8") as record:
                record.write(f"{process.pid}\n")
        self.processes.append((name, process, log))
        return process

    def wait_for_log(self, process: subprocess.Popen, log: Path, text: str, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SetupError(f"{what} exited with status {process.returncode}:\n{self.tail(log)}")
            if text in self.read(log):
                return
            time.sleep(0.1)
        raise SetupError(f"{what} did not say {text!r} within {timeout:g} s:\n{self.tail(log)}")

    def stop(self) -> None:
        """Stops every process (SIGTERM, SIGKILL after 20 s), last started first, and deletes the system's topics:
        the local broker keeps every topic in memory and slows down as they pile up."""
        processes, self.processes = self.processes, []
        for _, process, _ in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process, _ in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.worker = None
        if os.environ.get(f"{self.env_prefix}_KEEP_TOPICS") != "1":
            self.delete_topics()

    def delete_topics(self) -> None:
        delete_topics(self.kafka, self.prefix)

    # MARK: - Commands

    def send(self, command: str, task: str, data: dict | None = None, timeout: int = 60) -> str:
        """Sends a command with ``spectask send`` (which waits for its outcome); returns what it printed."""
        done = subprocess.run(
            [self.binary, "send", command, "--task", task, "--data", "-", "--timeout", str(timeout)],
            input=json.dumps(data or {}),
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout + 30,
        )
        if done.returncode != 0:
            raise AssertionError(f"spectask send {command} exited {done.returncode}:\n{done.stdout}{done.stderr}")
        return done.stdout

    # MARK: - Logs

    def log(self) -> str:
        return self.read(self.log_path)

    def log_tail(self, lines: int = 40) -> str:
        return self.tail(self.log_path, lines)

    def logs(self) -> str:
        """The tail of every process's log, for a failure message."""
        return "\n".join(f"--- {name} ---\n{self.tail(log, 25)}" for name, _, log in self.processes)

    @staticmethod
    def read(log: Path) -> str:
        try:
            return log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, log: Path, lines: int = 40) -> str:
        return "\n".join(self.read(log).splitlines()[-lines:]) + f"\n(log: {log})"

    def _run(self, arguments: list[str], what: str) -> None:
        try:
            done = subprocess.run(
                [self.binary, *arguments],
                env=self.environment,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            raise SetupError(f"{what}: spectask {' '.join(arguments)} did not finish within 120 s") from None
        if done.returncode != 0:
            raise SetupError(
                f"{what}: spectask {' '.join(arguments)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            )


def delete_topics(kafka: str, prefix: str) -> list[str]:
    """Deletes the topics whose names start with ``prefix`` (best effort); returns their names."""
    from confluent_kafka.admin import AdminClient

    if not any(prefix.startswith(namespace + "-") for namespace in TEST_NAMESPACES):
        raise ValueError(f"refusing to delete topics of prefix {prefix!r}: not one of these tests")
    admin = AdminClient({"bootstrap.servers": kafka})
    mine = [name for name in admin.list_topics(timeout=10).topics if name.startswith(prefix)]
    if mine:
        for future in admin.delete_topics(mine, operation_timeout=10).values():
            try:
                future.result(timeout=15)
            except Exception:  # a leftover topic is harmless, only wasteful
                pass
    return mine


if __name__ == "__main__":
    # python spectask_system.py delete-topics PREFIX: what the test scripts run after an interrupted run.
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "delete-topics":
        sys.exit("usage: python spectask_system.py delete-topics PREFIX")
    deleted = delete_topics(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LOCAL_KAFKA, sys.argv[2])
    print(f"deleted {len(deleted)} topics of {sys.argv[2]}")
