"""A Python client for spectask: build and validate commands, send them to ``spectask.commands``, wait for their
outcomes and follow a spec task's status and progress.

    from spectask_client import Client, commands

    with Client(topic_prefix="") as client:
        client.send(commands.create("auth-1", "User authentication"))
"""

from . import commands
from .client import Client, Follower
from .commands import Command, build
from .config import Topics, kafka_config_from_env
from .errors import (
    CommandRejected,
    CommandValidationError,
    OutcomeTimeout,
    PublishError,
    SpecTaskError,
    TopicNotFound,
)
from .events import Event, Outcome, ProgressSnapshot, StatusEvent
from .schemas import SchemaSet

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Command",
    "CommandRejected",
    "CommandValidationError",
    "Event",
    "Follower",
    "Outcome",
    "OutcomeTimeout",
    "ProgressSnapshot",
    "PublishError",
    "SchemaSet",
    "SpecTaskError",
    "StatusEvent",
    "TopicNotFound",
    "Topics",
    "build",
    "commands",
    "kafka_config_from_env",
]
