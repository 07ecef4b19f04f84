"""The exceptions of the client. Every one derives from :class:`SpecTaskError`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .events import StatusEvent


class SpecTaskError(Exception):
    """Base class of everything this package raises on purpose."""


class CommandValidationError(SpecTaskError, ValueError):
    """A command does not match its JSON Schema (or a rule the worker checks beyond it); nothing was sent.

    ``problems`` lists each problem as ``"<where>: <what>"``, e.g. ``"data.name: must be at most 500 characters,
    got 501"``.
    """

    def __init__(self, command_type: str, problems: Sequence[str]):
        self.command_type = command_type
        self.problems = list(problems)
        shown = "; ".join(self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"invalid {command_type or 'command'}: {shown}{more}; nothing was sent")


class CommandRejected(SpecTaskError):
    """The worker refused the command (``spectask.status.command_rejected``): ``code`` says why in one word
    (``illegal_transition``, ``unknown_spec_task``, ``conflict``, ``schema_violation``…), ``reason`` in a sentence.
    """

    def __init__(self, code: str, reason: str, command_id: str, command_type: str, event: "StatusEvent | None" = None):
        self.code = code
        self.reason = reason
        self.command_id = command_id
        self.command_type = command_type
        self.event = event
        super().__init__(f"{command_type} {command_id} rejected ({code}): {reason}")


class OutcomeTimeout(SpecTaskError, TimeoutError):
    """No outcome for the command arrived on ``spectask.status`` in time. The command was published and may still
    be applied: wait again with :meth:`Client.wait_for`, or check that a worker runs for this topic prefix."""

    def __init__(self, command_id: str, timeout: float, topic: str):
        self.command_id = command_id
        self.timeout = timeout
        self.topic = topic
        super().__init__(
            f"no outcome for command {command_id} on {topic} within {timeout:g} s; "
            "is a worker running for this topic prefix? (it may still be applied: Client.wait_for)"
        )


class PublishError(SpecTaskError):
    """The broker did not acknowledge the command (it was not sent, or it is unknown whether it was)."""


class TopicNotFound(SpecTaskError):
    """A topic the client needs does not exist (create them with ``spectask topics apply``)."""
