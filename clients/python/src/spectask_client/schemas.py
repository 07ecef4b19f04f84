"""The JSON Schemas of the spectask messages, and validation of commands against them.

The package ships a byte-for-byte copy of the checkout's ``topics/schemas/`` (the one source of truth; a test fails
while the copy is stale, ``tools/sync_schemas.py`` refreshes it). Besides the schema, :meth:`SchemaSet.encode`
checks what the worker's decoder refuses and JSON Schema can not say: message size, command ids reserved for Zed
events, NUL characters anywhere, text that is not valid UTF-8, nesting depth, numbers JSON can not carry.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .errors import CommandValidationError

COMMAND_TYPE_PREFIX = "spectask.command."
#: The worker rejects larger commands as ``oversize`` without reading them (``CommandDecoder.defaultMaxBytes``).
MAX_COMMAND_BYTES = 262_144
#: The worker's JSON parser stops at this many nested objects and arrays (``StrictJSONParser.maxDepth``).
MAX_NESTING = 64
#: Command ids may not start with this: the worker scopes Zed event ids with it.
RESERVED_ID_PREFIX = "zed:"
# Python's `$` also matches before a final newline, so the schema's subject pattern is checked again in full.
_SUBJECT = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_MAX_SHOWN = 60


class SchemaSet:
    """Every ``*.schema.json`` of one folder, each registered under its file name (the base of the relative
    ``$ref``\\ s between them), with a validator per message type."""

    def __init__(self, directory: Path | Any):
        self.directory = directory
        self._schemas: dict[str, dict] = {}
        registry = Registry()
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".schema.json"):
                continue
            contents = json.loads(entry.read_text(encoding="utf-8"))
            self._schemas[entry.name] = contents
            registry = registry.with_resource(
                entry.name, Resource.from_contents(contents, default_specification=DRAFT202012)
            )
        if "common.schema.json" not in self._schemas:
            raise FileNotFoundError(f"no common.schema.json in {directory}: not a spectask schema folder")
        self._registry = registry.crawl()
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def bundled(cls) -> "SchemaSet":
        """The schemas shipped with the package (a copy of the checkout's ``topics/schemas``)."""
        return _bundled()

    @property
    def command_names(self) -> list[str]:
        """The command names (``create``, ``submit_specs``…) there is a schema for, sorted."""
        prefix, suffix = COMMAND_TYPE_PREFIX, ".schema.json"
        return sorted(name[len(prefix) : -len(suffix)] for name in self._schemas if name.startswith(prefix))

    def schema(self, message_type: str) -> dict:
        """The schema document of a message type, e.g. ``spectask.command.create``."""
        try:
            return self._schemas[f"{message_type}.schema.json"]
        except KeyError:
            raise KeyError(f"no schema for message type {message_type!r} in {self.directory}") from None

    def validator(self, message_type: str) -> Draft202012Validator:
        if message_type not in self._validators:
            self.schema(message_type)
            # Validating {"$ref": file} makes the file's own name the base URI of its relative $refs.
            self._validators[message_type] = Draft202012Validator(
                {"$ref": f"{message_type}.schema.json"}, registry=self._registry
            )
        return self._validators[message_type]

    def problems(self, message_type: str, instance: Any) -> list[str]:
        """What is wrong with ``instance`` as a ``message_type`` message, one sentence per problem; ``[]`` when
        it is valid."""
        errors = sorted(self.validator(message_type).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [_describe(error) for error in errors]

    def encode(self, event: dict) -> bytes:
        """Checks a command (a CloudEvent as a dict) and returns the bytes to publish.

        What is validated is the JSON document those bytes hold (so a tuple becomes an array and an int key a
        string exactly as they will on the wire).

        :raises CommandValidationError: with every problem found; nothing is returned then.
        """
        message_type = event.get("type") if isinstance(event, dict) else None
        label = message_type if isinstance(message_type, str) and len(message_type) <= 100 else "command"
        if not isinstance(event, dict):
            raise CommandValidationError(label, [f"a command is a JSON object (dict), got {type(event).__name__}"])
        problems: list[str] = []
        _check_values(event, "", 1, problems)
        if problems:
            raise CommandValidationError(label, problems)
        try:
            text = json.dumps(event, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as error:
            raise CommandValidationError(label, [f"not representable as JSON: {error}"]) from None
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise CommandValidationError(
                label, [f"text is not valid UTF-8 (unpaired surrogate at character {error.start})"]
            ) from None
        document = json.loads(payload)
        if not (isinstance(message_type, str) and message_type.startswith(COMMAND_TYPE_PREFIX)):
            raise CommandValidationError(
                label, [f"type: must be {COMMAND_TYPE_PREFIX}<name>, got {_show(message_type)}"]
            )
        if f"{message_type}.schema.json" not in self._schemas:
            known = ", ".join(self.command_names)
            raise CommandValidationError(label, [f"type: unknown command {_show(message_type)}; known: {known}"])
        problems = self.problems(message_type, document)
        if len(payload) > MAX_COMMAND_BYTES:
            problems.append(f"the message is {len(payload)} bytes; the worker accepts at most {MAX_COMMAND_BYTES}")
        subject = document.get("subject")
        reported = any(problem.startswith("subject:") for problem in problems)
        if isinstance(subject, str) and not reported and not _SUBJECT.fullmatch(subject):
            problems.append(
                f"subject: a spec task id is 1 to 128 ASCII letters, digits, '.', '_', ':' or '-', got {_show(subject)}"
            )
        command_id = document.get("id")
        if isinstance(command_id, str) and command_id.startswith(RESERVED_ID_PREFIX):
            problems.append(f"id: command ids may not start with {RESERVED_ID_PREFIX!r} (reserved for Zed events)")
        if problems:
            raise CommandValidationError(label, sorted(set(problems), key=problems.index))
        return payload


@lru_cache(maxsize=1)
def _bundled() -> SchemaSet:
    return SchemaSet(resources.files(__package__) / "schemas")


# MARK: - What JSON Schema can not see


def _check_values(value: Any, path: str, depth: int, problems: list[str]) -> None:
    """NUL characters, unpaired surrogates, non-finite and oversized numbers and nesting, anywhere (keys too)."""
    if len(problems) >= 20:
        return
    if isinstance(value, str):
        _check_text(value, path or "(root)", problems)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            problems.append(f"{path}: {value} is not a JSON number")
    elif isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            problems.append(f"{path}: integer of {len(str(abs(value)))} digits is beyond what JSON numbers carry")
    elif isinstance(value, (dict, list, tuple)):
        if depth > MAX_NESTING:
            problems.append(f"{path}: nested more than {MAX_NESTING} levels deep")
            return
        items: Iterable = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                _check_text(key, f"{path} (a member name)" if path else "(a member name)", problems)
                child = f"{path}.{key}" if path else key
            else:
                child = f"{path}[{key!r}]" if path else f"[{key!r}]"
            _check_values(item, child, depth + 1, problems)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        problems.append(f"{path}: bytes are not JSON; decode them to text (str) first")
    # Anything else is reported by json.dumps (not serializable) or by the schema (wrong type).


def _check_text(text: str, where: str, problems: list[str]) -> None:
    if "\x00" in text:
        problems.append(f"{where}: contains a NUL character (\\u0000), which the worker can not store")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        problems.append(f"{where}: is not valid UTF-8 text (unpaired surrogate at character {error.start})")


# MARK: - Messages


def _show(value: Any) -> str:
    """A short rendering of a value for a message: hostile input may be megabytes long."""
    if isinstance(value, str):
        shown = repr(value[:_MAX_SHOWN]) + (f"… ({len(value)} characters)" if len(value) > _MAX_SHOWN else "")
        return shown
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    shown = json.dumps(value) if value is None or isinstance(value, (bool, int, float)) else repr(value)
    return shown if len(shown) <= _MAX_SHOWN else shown[:_MAX_SHOWN] + "…"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _describe(error: SchemaError) -> str:
    """``<where>: <what>`` for the most specific error under ``error``."""
    best = error
    while best.context:
        # Of alternatives (anyOf: a text or null), the branch that got furthest into the value says what is
        # wrong; when every branch only wanted another type, say which types would do.
        deepest = max(len(e.absolute_path) for e in best.context)
        candidates = [e for e in best.context if len(e.absolute_path) == deepest]
        fitting = [e for e in candidates if e.validator != "type"]
        if not fitting and deepest == len(best.absolute_path):
            wanted = []
            for candidate in candidates:
                types = (
                    candidate.validator_value
                    if isinstance(candidate.validator_value, list)
                    else [candidate.validator_value]
                )
                wanted += [t for t in types if t not in wanted]
            value = best.instance
            shown = "" if isinstance(value, (dict, list)) else f" {_show(value)}"
            return f"{_path(best)}: must be of type {' or '.join(wanted)}, got {_json_type(value)}{shown}"
        best = min(fitting or candidates, key=lambda e: len(e.relative_schema_path))
    return f"{_path(best)}: {_sentence(best)}"


def _path(error: SchemaError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    return path or "(message)"


def _sentence(error: SchemaError) -> str:
    keyword, limit, value = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.absolute_schema_path:
        return (
            f"{_show(value)} is not an allowed attribute name "
            "(extension attributes are 1 to 20 lowercase ASCII letters or digits)"
        )
    if keyword == "type":
        wanted = " or ".join(limit) if isinstance(limit, list) else limit
        shown = "" if isinstance(value, (dict, list)) else f" {_show(value)}"
        return f"must be of type {wanted}, got {_json_type(value)}{shown}"
    if keyword == "maxLength":
        return f"must be at most {limit} characters, got {len(value)}"
    if keyword == "minLength":
        return f"must be at least {limit} character{'s' if limit != 1 else ''}, got {len(value)}"
    if keyword in ("minimum", "maximum"):
        return f"must be {'at least' if keyword == 'minimum' else 'at most'} {limit}, got {_show(value)}"
    if keyword == "maxItems":
        return f"must have at most {limit} items, got {len(value)}"
    if keyword == "pattern":
        return f"{_show(value)} does not match the pattern {limit}"
    if keyword == "enum":
        return f"must be one of {', '.join(map(str, limit))}; got {_show(value)}"
    if keyword == "const":
        return f"must be {_show(limit)}, got {_show(value)}"
    if keyword == "required":
        missing = [name for name in limit if isinstance(value, dict) and name not in value]
        return f"missing required member{'s' if len(missing) != 1 else ''} {', '.join(missing)}"
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        allowed = error.schema.get("properties", {})
        unknown = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        names = ", ".join(_show(k) for k in unknown[:5]) or "?"
        known = ", ".join(sorted(allowed)) or "none"
        return f"unknown member{'s' if len(unknown) != 1 else ''} {names} (known: {known})"
    message = error.message
    return message if len(message) <= 200 else message[:200] + "…"
