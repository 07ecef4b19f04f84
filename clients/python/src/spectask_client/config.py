"""Connection settings from the environment, read the way the ``spectask`` binary reads them (README,
Configuration), so one environment serves the workers, the CLI and this client."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:19092"
_PREFIX = re.compile(r"[A-Za-z0-9._-]*")
# Kafka's longest topic name; the longest name with a prefix is "<prefix>spectask.commands".
_MAX_TOPIC_NAME = 249

_VARIABLES = {
    "KAFKA_SECURITY_PROTOCOL": "security.protocol",
    "KAFKA_SASL_MECHANISM": "sasl.mechanism",
    "KAFKA_SASL_USERNAME": "sasl.username",
    "KAFKA_SASL_PASSWORD": "sasl.password",
    "KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
    "KAFKA_SSL_CERTIFICATE_LOCATION": "ssl.certificate.location",
    "KAFKA_SSL_KEY_LOCATION": "ssl.key.location",
    "KAFKA_SSL_KEY_PASSWORD": "ssl.key.password",
    "KAFKA_CLIENT_ID": "client.id",
}


def kafka_config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """librdkafka properties from ``KAFKA_BOOTSTRAP_SERVERS`` (default ``127.0.0.1:19092``, the local broker),
    ``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*``, ``KAFKA_SSL_*``, ``KAFKA_CLIENT_ID`` and any
    ``KAFKA_PROPERTY_<NAME>`` (``KAFKA_PROPERTY_SOCKET_TIMEOUT_MS=5000`` sets ``socket.timeout.ms``)."""
    environ = os.environ if environ is None else environ
    config = {"bootstrap.servers": environ.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP_SERVERS}
    for variable, name in _VARIABLES.items():
        if environ.get(variable):
            config[name] = environ[variable]
    for variable, value in environ.items():
        if variable.startswith("KAFKA_PROPERTY_") and len(variable) > len("KAFKA_PROPERTY_"):
            config[variable[len("KAFKA_PROPERTY_") :].lower().replace("_", ".")] = value
    return config


@dataclass(frozen=True)
class Topics:
    """The topic names of one spectask system: ``<prefix>spectask.commands`` and so on."""

    prefix: str = ""

    def __post_init__(self):
        if not isinstance(self.prefix, str) or not _PREFIX.fullmatch(self.prefix):
            raise ValueError(
                f"the topic prefix {self.prefix!r} would make illegal topic names; "
                "use ASCII letters, digits, '.', '_' and '-'"
            )
        if len(self.prefix + "spectask.commands") > _MAX_TOPIC_NAME:
            raise ValueError(f"the topic prefix is {len(self.prefix)} characters long; topic names would be too long")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Topics":
        """The prefix of ``SPECTASK_TOPIC_PREFIX`` (default: none)."""
        environ = os.environ if environ is None else environ
        return cls(environ.get("SPECTASK_TOPIC_PREFIX", ""))

    @property
    def commands(self) -> str:
        return self.prefix + "spectask.commands"

    @property
    def status(self) -> str:
        return self.prefix + "spectask.status"

    @property
    def progress(self) -> str:
        return self.prefix + "spectask.progress"

    @property
    def rejected(self) -> str:
        return self.prefix + "spectask.rejected"
