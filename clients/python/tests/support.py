"""A private spectask system for the integration tests: its own topic prefix and consumer group, and a real
``spectask worker`` process started from ``$SPECTASK_BIN``.

Nothing is skipped: a missing binary, broker or database fails the tests with what to do about it.

Environment: ``SPECTASK_BIN`` (required), ``KAFKA_BOOTSTRAP_SERVERS`` and ``POSTGRES_URL`` (default: the local
services of ``scripts/services``), ``SPECTASK_PYCLIENT_PREFIX`` (default ``pyclient-<random>.``),
``SPECTASK_PYCLIENT_PIDFILE`` (the worker's pid is written there, for a harness that must be able to kill it) and
``SPECTASK_PYCLIENT_LOG_DIR`` (where the worker's log goes; default a temporary folder).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_POSTGRES = "postgres://spectask@127.0.0.1:55432/spectask?sslmode=disable"


class SetupError(AssertionError):
    """The system under test could not be brought up: a failure, never a skip."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SystemUnderTest:
    def __init__(self):
        binary = os.environ.get("SPECTASK_BIN")
        if not binary:
            raise SetupError(
                "SPECTASK_BIN is not set: point it at the spectask binary "
                "(scripts/test-python-client finds it; or: source scripts/lib.sh; "
                "SPECTASK_CONFIGURATION=debug spectask_bin)"
            )
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise SetupError(f"SPECTASK_BIN={binary} is not an executable file (build it: scripts/test does)")
        self.binary = binary
        self.token = secrets.token_hex(4)
        self.prefix = os.environ.get("SPECTASK_PYCLIENT_PREFIX") or f"pyclient-{self.token}."
        self.group = f"{self.prefix.rstrip('.')}-workers"
        self.kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LOCAL_KAFKA
        self.postgres = os.environ.get("POSTGRES_URL") or LOCAL_POSTGRES
        self.admin_port = free_port()
        log_dir = os.environ.get("SPECTASK_PYCLIENT_LOG_DIR") or tempfile.mkdtemp(prefix="spectask-pyclient-")
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        self.log_path = Path(log_dir) / f"worker-{self.token}.log"
        self.worker: subprocess.Popen | None = None
        self.environment = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "POSTGRES_URL": self.postgres,
            "SPECTASK_TOPIC_PREFIX": self.prefix,
            "SPECTASK_GROUP_ID": self.group,
            "SPECTASK_ADMIN_ADDRESS": f"127.0.0.1:{self.admin_port}",
            # The worker stops by itself when the test process goes away without stopping it.
            "SPECTASK_EXIT_WITH_PARENT": "1",
        }

    # MARK: - Start and stop

    def start(self, ready_timeout: float = 120.0) -> "SystemUnderTest":
        started = time.monotonic()
        self._run(["migrate"], "migrating the database (is PostgreSQL up? scripts/services status)")
        self._run(
            ["topics", "apply", "--topics-dir", str(REPO_ROOT / "topics"), "--topic-prefix", self.prefix],
            "creating the topics (is the broker up? scripts/services status)",
        )
        with open(self.log_path, "wb") as log:
            self.worker = subprocess.Popen(
                [self.binary, "worker"],
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        pidfile = os.environ.get("SPECTASK_PYCLIENT_PIDFILE")
        if pidfile:
            with open(pidfile, "a", encoding="utf-8") as out:
                out.write(f"{self.worker.pid}\n")
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise SetupError(f"the worker exited with status {self.worker.returncode}:\n{self.log_tail()}")
            # Not /ready: it answers 200 during the worker's first minute even before it owns a partition.
            if "owning partitions" in self.log():
                self.startup_seconds = time.monotonic() - started
                return self
            time.sleep(0.1)
        self.stop()
        raise SetupError(
            f"the worker owned no partition within {ready_timeout:g} s (group {self.group}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stops the worker (SIGTERM, SIGKILL after 20 s) and deletes the system's topics: the local broker keeps
        every topic in memory and slows down as they pile up (``SPECTASK_PYCLIENT_KEEP_TOPICS=1`` keeps them)."""
        worker, self.worker = self.worker, None
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
        if os.environ.get("SPECTASK_PYCLIENT_KEEP_TOPICS") != "1":
            self.delete_topics()

    def delete_topics(self) -> None:
        delete_topics(self.kafka, self.prefix)

    # MARK: - Helpers

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:]) + f"\n(log: {self.log_path})"

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

    if not prefix.startswith("pyclient-"):
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
    # python -m tests.support delete-topics PREFIX: what scripts/test-python-client runs after an interrupted run.
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "delete-topics":
        sys.exit("usage: python -m tests.support delete-topics PREFIX")
    deleted = delete_topics(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LOCAL_KAFKA, sys.argv[2])
    print(f"deleted {len(deleted)} topics of {sys.argv[2]}")
