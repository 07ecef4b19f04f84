"""A private spectask system for the integration tests: its own topic prefix and consumer group, and a real
``spectask worker`` process started from ``$SPECTASK_BIN``.

The system itself is the repository's shared test helper (scripts/testing/spectask_system.py, also used by the
dashboard's browser tests); this module gives it the client's namespace (topic prefix ``pyclient-<random>.``) and
environment (``SPECTASK_PYCLIENT_PREFIX``, ``SPECTASK_PYCLIENT_PIDFILE``, ``SPECTASK_PYCLIENT_LOG_DIR``,
``SPECTASK_PYCLIENT_KEEP_TOPICS``). Nothing is skipped: a missing binary, broker or database fails the tests with
what to do about it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT / "scripts" / "testing"))

from spectask_system import (  # noqa: E402
    LOCAL_KAFKA,
    LOCAL_POSTGRES,
    SetupError,
    SpecTaskSystem,
    delete_topics,
    free_port,
)

__all__ = ["REPO_ROOT", "LOCAL_KAFKA", "LOCAL_POSTGRES", "SetupError", "SystemUnderTest", "delete_topics", "free_port"]


class SystemUnderTest(SpecTaskSystem):
    def __init__(self):
        super().__init__(namespace="pyclient", env="SPECTASK_PYCLIENT")


if __name__ == "__main__":
    # python -m tests.support delete-topics PREFIX: what scripts/test-python-client runs after an interrupted run.
    if len(sys.argv) != 3 or sys.argv[1] != "delete-topics":
        sys.exit("usage: python -m tests.support delete-topics PREFIX")
    deleted = delete_topics(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LOCAL_KAFKA, sys.argv[2])
    print(f"deleted {len(deleted)} topics of {sys.argv[2]}")
