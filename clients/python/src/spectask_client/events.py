"""What the worker publishes, as read from ``spectask.status`` and ``spectask.progress``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

STATUS_TYPE_PREFIX = "spectask.status."
PROGRESS_TYPE = "spectask.progress.snapshot"
APPLIED_TYPE = STATUS_TYPE_PREFIX + "command_applied"
REJECTED_TYPE = STATUS_TYPE_PREFIX + "command_rejected"
#: Statuses after which nothing more happens to a spec task without a command.
FINISHED_STATUSES = frozenset({"implementation_review", "done", "cancelled", "spec_failed", "implementation_failed"})


@dataclass(frozen=True)
class Event:
    """One CloudEvent the worker published, with where it was read."""

    id: str
    type: str
    subject: str | None
    time: str | None
    sequence: int | None
    correlation_id: str | None
    data: Any
    topic: str = ""
    partition: int = -1
    offset: int = -1
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """The last part of the type: ``command_applied``, ``spec_task_changed``, ``snapshot``…"""
        return self.type.rsplit(".", 1)[-1]

    @staticmethod
    def decode(value: bytes | None, topic: str = "", partition: int = -1, offset: int = -1) -> "Event | None":
        """The event in a Kafka message value, as a :class:`StatusEvent` or :class:`ProgressSnapshot` when it is
        one; ``None`` when the value is not a CloudEvent (such messages are skipped, never fatal)."""
        if not value:
            return None
        try:
            document = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict) or not isinstance(document.get("type"), str):
            return None
        if not isinstance(document.get("id"), str):
            return None
        # The per-task sequence is the private extension `spectasksequence`; workers before it used `sequence`.
        sequence = document.get("spectasksequence", document.get("sequence"))
        fields = dict(
            id=document["id"],
            type=document["type"],
            subject=document.get("subject") if isinstance(document.get("subject"), str) else None,
            time=document.get("time") if isinstance(document.get("time"), str) else None,
            sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None,
            correlation_id=document.get("correlationid") if isinstance(document.get("correlationid"), str) else None,
            data=document.get("data"),
            topic=topic,
            partition=partition,
            offset=offset,
            raw=document,
        )
        if document["type"] == PROGRESS_TYPE:
            return ProgressSnapshot(**fields)
        if document["type"].startswith(STATUS_TYPE_PREFIX):
            return StatusEvent(**fields)
        return Event(**fields)


@dataclass(frozen=True)
class StatusEvent(Event):
    """An event on ``spectask.status``: a command's outcome or a change of a spec task, work session, Zed thread,
    implementation task, Zed instance or shared-context entry. ``sequence`` (the ``spectasksequence`` attribute)
    counts 1, 2, 3… per spec task; it is 0 on the outcome of a command for a spec task that does not exist."""

    @property
    def is_outcome(self) -> bool:
        return self.type in (APPLIED_TYPE, REJECTED_TYPE)

    @property
    def command_id(self) -> str | None:
        """For an outcome: the id of the command it answers."""
        if isinstance(self.data, dict) and isinstance(self.data.get("commandID"), str):
            return self.data["commandID"]
        return self.correlation_id if self.is_outcome else None

    @property
    def from_status(self) -> str | None:
        """For a ``*_changed`` event: the status before (``None`` when the entity was created)."""
        return self.data.get("from") if isinstance(self.data, dict) else None

    @property
    def to_status(self) -> str | None:
        """For a ``*_changed`` event: the status now."""
        return self.data.get("to") if isinstance(self.data, dict) else None


@dataclass(frozen=True)
class ProgressSnapshot(Event):
    """The latest progress of one spec task (``spectask.progress``, compacted): overall and per session percent,
    counts by status, usage and budget; ``data`` holds all of it as published."""

    @property
    def overall_percent(self) -> int:
        return int(self.data.get("overallPercent", 0)) if isinstance(self.data, dict) else 0

    @property
    def spec_task_status(self) -> str | None:
        return self.data.get("specTaskStatus") if isinstance(self.data, dict) else None

    @property
    def work_sessions(self) -> list[dict]:
        return list(self.data.get("workSessions", [])) if isinstance(self.data, dict) else []


@dataclass(frozen=True)
class Outcome:
    """A command the worker applied: what it created and the status event that said so."""

    command_id: str
    command_type: str
    spec_task_id: str | None
    sequence: int | None
    created: Mapping[str, Any]
    event: StatusEvent

    @property
    def work_session_ids(self) -> list[str]:
        return list(self.created.get("workSessionIDs", []))

    @property
    def zed_thread_ids(self) -> list[str]:
        return list(self.created.get("zedThreadIDs", []))

    @property
    def zed_instance_id(self) -> str | None:
        return self.created.get("zedInstanceID")

    @property
    def implementation_task_indexes(self) -> list[int]:
        return list(self.created.get("implementationTaskIndexes", []))

    @staticmethod
    def of(event: StatusEvent) -> "Outcome":
        data = event.data if isinstance(event.data, dict) else {}
        return Outcome(
            command_id=event.command_id or "",
            command_type=str(data.get("commandType", "")),
            spec_task_id=event.subject,
            sequence=event.sequence,
            created=data.get("created") if isinstance(data.get("created"), dict) else {},
            event=event,
        )
