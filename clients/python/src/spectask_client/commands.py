"""Builders for the commands on ``spectask.commands``, one per ``topics/schemas/spectask.command.*.schema.json``.

Each builder takes the spec task id (the CloudEvent ``subject``, also the Kafka key) and the command's data
members as keyword arguments in snake case (``project_path`` for ``projectPath``, ``work_session_id`` for
``workSessionID``); a member left at ``None`` is not sent (the worker treats absent and null alike). Every builder
validates the command against its schema at once and raises :class:`CommandValidationError` with every problem
found. :func:`build` makes any command from a name and a data dict, for types without a builder of their own.

Envelope options, accepted by every builder: ``command_id`` (the CloudEvent ``id`` and idempotency key; default a
new UUID), ``actor``, ``source`` (default ``spectask-python-client``), ``time`` (a ``datetime``; default now),
``correlation_id`` and ``extensions`` (more CloudEvent extension attributes: lowercase names, scalar values).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from .errors import CommandValidationError
from .schemas import COMMAND_TYPE_PREFIX, SchemaSet

DEFAULT_SOURCE = "spectask-python-client"
_ENVELOPE_OPTIONS = ("command_id", "actor", "source", "time", "correlation_id", "extensions")
# The attributes a Command sets itself: an extension may not take their names.
_OWN_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data", "actor", "correlationid"}
)


@dataclass(frozen=True)
class Command:
    """One command as it goes on the wire: a CloudEvents 1.0 structured JSON message."""

    type: str
    spec_task_id: str
    data: Mapping[str, Any] | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    source: str = DEFAULT_SOURCE
    actor: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    correlation_id: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The short name: ``create`` for ``spectask.command.create``."""
        return self.type[len(COMMAND_TYPE_PREFIX) :] if self.type.startswith(COMMAND_TYPE_PREFIX) else self.type

    def to_cloudevent(self) -> dict[str, Any]:
        """The message as a dict (not validated)."""
        event: dict[str, Any] = dict(self.extensions)
        event.update(
            specversion="1.0",
            id=self.id,
            source=self.source,
            type=self.type,
            subject=self.spec_task_id,
            time=_rfc3339(self.time),
            datacontenttype="application/json",
            data=dict(self.data) if isinstance(self.data, Mapping) else self.data,
        )
        if self.actor is not None:
            event["actor"] = self.actor
        if self.correlation_id is not None:
            event["correlationid"] = self.correlation_id
        return event

    def encode(self, schemas: SchemaSet | None = None) -> bytes:
        """Validates the command and returns the bytes to publish.

        :raises CommandValidationError: when it does not match its schema; the error lists every problem.
        """
        clashes = sorted(name for name in self.extensions if name in _OWN_ATTRIBUTES)
        if clashes:
            raise CommandValidationError(
                self.type,
                [
                    f"extensions.{name}: is a CloudEvents attribute the command sets itself, not an extension"
                    for name in clashes
                ],
            )
        return (schemas or SchemaSet.bundled()).encode(self.to_cloudevent())

    def validate(self, schemas: SchemaSet | None = None) -> "Command":
        """Raises :class:`CommandValidationError` unless the command is valid; returns it otherwise."""
        self.encode(schemas)
        return self


def _rfc3339(time: Any) -> Any:
    if not isinstance(time, datetime):
        return time  # reported by the schema
    if time.tzinfo is None:
        time = time.replace(tzinfo=timezone.utc)
    return time.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def member_name(argument: str) -> str:
    """The data member a builder argument sets: ``work_session_ids`` → ``workSessionIDs``."""
    words = argument.split("_")
    special = {"id": "ID", "ids": "IDs"}
    return words[0] + "".join(special.get(word, word.capitalize()) for word in words[1:])


def build(command: str, spec_task_id: str, data: Mapping[str, Any] | None = None, **envelope: Any) -> Command:
    """Any command, from its name (``create``) or type (``spectask.command.create``) and its ``data`` as the
    worker reads it (camelCase members), validated.

    :raises CommandValidationError: when the command does not match its schema.
    """
    if not isinstance(command, str):
        raise CommandValidationError("command", [f"the command name must be a string, got {type(command).__name__}"])
    full = command if command.startswith(COMMAND_TYPE_PREFIX) else COMMAND_TYPE_PREFIX + command
    return _make(full, spec_task_id, dict(data) if isinstance(data, Mapping) else data, envelope, "build")


def _command(command: str, spec_task_id: str, envelope: dict[str, Any], /, **members: Any) -> Command:
    data = {member_name(key): value for key, value in members.items() if value is not None}
    return _make(COMMAND_TYPE_PREFIX + command, spec_task_id, data, envelope, command)


def _make(full_type: str, spec_task_id: str, data: Any, envelope: dict[str, Any], caller: str) -> Command:
    for option in envelope:
        if option not in _ENVELOPE_OPTIONS:
            raise TypeError(
                f"{caller}() got an unexpected keyword argument {option!r} "
                f"(envelope options: {', '.join(_ENVELOPE_OPTIONS)})"
            )
    options: dict[str, Any] = {}
    if envelope.get("command_id") is not None:
        options["id"] = envelope["command_id"]
    if envelope.get("source") is not None:
        options["source"] = envelope["source"]
    if envelope.get("time") is not None:
        options["time"] = envelope["time"]
    command = Command(
        type=full_type,
        spec_task_id=spec_task_id,
        data=data,
        actor=envelope.get("actor"),
        correlation_id=envelope.get("correlation_id"),
        extensions=dict(envelope.get("extensions") or {}),
        **options,
    )
    return command.validate()


# MARK: - One builder per command (tests/test_commands.py checks them against the schemas)


def create(
    spec_task_id: str,
    name: str,
    *,
    description: str | None = None,
    project_path: str | None = None,
    max_concurrent_sessions: int | None = None,
    **envelope: Any,
) -> Command:
    """A new spec task (id = ``spec_task_id``) in ``backlog``."""
    return _command(
        "create",
        spec_task_id,
        envelope,
        name=name,
        description=description,
        project_path=project_path,
        max_concurrent_sessions=max_concurrent_sessions,
    )


def start_planning(
    spec_task_id: str,
    *,
    in_zed: bool | None = None,
    agent_config: Any = None,
    project_path: str | None = None,
    workspace_config: Any = None,
    zed_instance_id: str | None = None,
    work_session_id: str | None = None,
    **envelope: Any,
) -> Command:
    """``backlog``, ``spec_failed`` or ``spec_revision`` → ``spec_generation``; with ``in_zed`` as the planning
    session, a thread on the task's Zed instance that hands in the specs (``zed.event.specs_submitted``)."""
    return _command(
        "start_planning",
        spec_task_id,
        envelope,
        in_zed=in_zed,
        agent_config=agent_config,
        project_path=project_path,
        workspace_config=workspace_config,
        zed_instance_id=zed_instance_id,
        work_session_id=work_session_id,
    )


def submit_specs(
    spec_task_id: str, requirements: str, design: str, implementation_plan: str, **envelope: Any
) -> Command:
    """The planning agent's output: → ``spec_review``; the implementation plan must parse."""
    return _command(
        "submit_specs",
        spec_task_id,
        envelope,
        requirements=requirements,
        design=design,
        implementation_plan=implementation_plan,
    )


def approve_specs(spec_task_id: str, approver: str, *, comments: str | None = None, **envelope: Any) -> Command:
    """``spec_review`` → ``spec_approved``."""
    return _command("approve_specs", spec_task_id, envelope, approver=approver, comments=comments)


def request_changes(spec_task_id: str, comments: str, *, reviewer: str | None = None, **envelope: Any) -> Command:
    """``spec_review`` → ``spec_revision`` (the revision count goes up by one)."""
    return _command("request_changes", spec_task_id, envelope, comments=comments, reviewer=reviewer)


def request_implementation_changes(
    spec_task_id: str,
    comments: str,
    implementation_task_indexes: Sequence[int],
    *,
    reviewer: str | None = None,
    **envelope: Any,
) -> Command:
    """``implementation_review`` → ``implementation``: the named implementation tasks (1-based, plan order) are
    reopened, each with a new work session that gets the comments."""
    return _command(
        "request_implementation_changes",
        spec_task_id,
        envelope,
        comments=comments,
        implementation_task_indexes=(
            list(implementation_task_indexes)
            if isinstance(implementation_task_indexes, tuple)
            else implementation_task_indexes
        ),
        reviewer=reviewer,
    )


def start_implementation(
    spec_task_id: str,
    *,
    project_path: str | None = None,
    workspace_config: Any = None,
    agent_config: Any = None,
    max_concurrent_sessions: int | None = None,
    zed_instance_id: str | None = None,
    work_session_ids: Sequence[str] | None = None,
    **envelope: Any,
) -> Command:
    """Parses the plan into implementation tasks, opens one Zed instance and one work session + thread per task."""
    return _command(
        "start_implementation",
        spec_task_id,
        envelope,
        project_path=project_path,
        workspace_config=workspace_config,
        agent_config=agent_config,
        max_concurrent_sessions=max_concurrent_sessions,
        zed_instance_id=zed_instance_id,
        work_session_ids=list(work_session_ids) if isinstance(work_session_ids, tuple) else work_session_ids,
    )


def spawn_work_session(
    spec_task_id: str,
    parent_work_session_id: str,
    name: str,
    *,
    description: str | None = None,
    implementation_task_index: int | None = None,
    initial_prompt: str | None = None,
    work_session_id: str | None = None,
    **envelope: Any,
) -> Command:
    """A child work session of a running one (nested to any depth)."""
    return _command(
        "spawn_work_session",
        spec_task_id,
        envelope,
        parent_work_session_id=parent_work_session_id,
        name=name,
        description=description,
        implementation_task_index=implementation_task_index,
        initial_prompt=initial_prompt,
        work_session_id=work_session_id,
    )


def update_work_session_status(
    spec_task_id: str, work_session_id: str, status: str, *, reason: str | None = None, **envelope: Any
) -> Command:
    """A work session's status (``pending``, ``active``, ``completed``, ``failed``, ``cancelled``, ``blocked``)."""
    return _command(
        "update_work_session_status",
        spec_task_id,
        envelope,
        work_session_id=work_session_id,
        status=status,
        reason=reason,
    )


def update_zed_thread(
    spec_task_id: str,
    work_session_id: str,
    *,
    zed_thread_external_id: str | None = None,
    status: str | None = None,
    progress: int | None = None,
    **envelope: Any,
) -> Command:
    """Records the Zed thread id, status and progress of a work session."""
    return _command(
        "update_zed_thread",
        spec_task_id,
        envelope,
        work_session_id=work_session_id,
        zed_thread_external_id=zed_thread_external_id,
        status=status,
        progress=progress,
    )


def stop_zed_instance(spec_task_id: str, *, reason: str | None = None, **envelope: Any) -> Command:
    """Stops every thread and session of the spec task, then its Zed instance."""
    return _command("stop_zed_instance", spec_task_id, envelope, reason=reason)


def approve_implementation(
    spec_task_id: str, approver: str, *, comments: str | None = None, **envelope: Any
) -> Command:
    """``implementation_review`` → ``done``."""
    return _command("approve_implementation", spec_task_id, envelope, approver=approver, comments=comments)


def cancel(spec_task_id: str, *, reason: str | None = None, **envelope: Any) -> Command:
    """→ ``cancelled``; everything below stops."""
    return _command("cancel", spec_task_id, envelope, reason=reason)


def archive(spec_task_id: str, archived: bool = True, **envelope: Any) -> Command:
    """Sets (or with ``archived=False`` clears) the archived flag."""
    return _command("archive", spec_task_id, envelope, archived=archived)


def set_shared_context(spec_task_id: str, key: str, value: str | None, **envelope: Any) -> Command:
    """A context entry readable by all sessions of the task; ``value=None`` clears it."""
    return _command("set_shared_context", spec_task_id, envelope, key=key, value=value)


def retry_work_session(
    spec_task_id: str, work_session_id: str, *, new_work_session_id: str | None = None, **envelope: Any
) -> Command:
    """A new attempt for a failed or cancelled session's implementation task."""
    return _command(
        "retry_work_session",
        spec_task_id,
        envelope,
        work_session_id=work_session_id,
        new_work_session_id=new_work_session_id,
    )


def set_concurrency_limit(spec_task_id: str, max_concurrent_sessions: int | None, **envelope: Any) -> Command:
    """Most sessions active at once (``None``: no limit); the others wait as pending and start in plan order."""
    return _command("set_concurrency_limit", spec_task_id, envelope, max_concurrent_sessions=max_concurrent_sessions)


def set_budget(
    spec_task_id: str, *, max_tokens: int | None = None, max_cost_micros: int | None = None, **envelope: Any
) -> Command:
    """What the task's threads may spend (tokens in + out; cost in millionths of a dollar); both ``None``: none."""
    return _command("set_budget", spec_task_id, envelope, max_tokens=max_tokens, max_cost_micros=max_cost_micros)


#: The builder of each command name.
BUILDERS = {
    builder.__name__: builder
    for builder in (
        create,
        start_planning,
        submit_specs,
        approve_specs,
        request_changes,
        start_implementation,
        spawn_work_session,
        update_work_session_status,
        update_zed_thread,
        stop_zed_instance,
        approve_implementation,
        request_implementation_changes,
        cancel,
        archive,
        set_shared_context,
        retry_work_session,
        set_concurrency_limit,
        set_budget,
    )
}
