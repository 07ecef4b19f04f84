"""The builders: one per command schema, in step with it, producing valid CloudEvents."""

import inspect
import json
import unittest
import uuid
from datetime import datetime, timedelta, timezone

from spectask_client import Command, CommandValidationError, SchemaSet, build, commands
from spectask_client.commands import BUILDERS, member_name

SCHEMAS = SchemaSet.bundled()

# Valid values for every builder argument, to call each builder with all of its members.
SAMPLES = {
    "name": "User authentication",
    "description": "Sign-up and sign-in",
    "project_path": "/srv/project",
    "max_concurrent_sessions": 3,
    "requirements": "R",
    "design": "D",
    "implementation_plan": "## Task 1: Do it",
    "approver": "alice",
    "comments": "looks good",
    "reviewer": "bob",
    "workspace_config": {"theme": "dark", "nested": [1, 2.5, None, True]},
    "agent_config": {"model": "m"},
    "zed_instance_id": "zed-1",
    "work_session_ids": ["ws-a", "ws-b"],
    "parent_work_session_id": "ws-a",
    "implementation_task_index": 2,
    "initial_prompt": "Help",
    "work_session_id": "ws-c",
    "status": "completed",
    "reason": "because",
    "zed_thread_external_id": "thread-9",
    "progress": 50,
    "archived": True,
    "key": "conventions",
    "value": "tabs",
    "new_work_session_id": "ws-d",
    "max_tokens": 1000,
    "max_cost_micros": 2500000,
    "implementation_task_indexes": [1, 3],
    "in_zed": True,
}
# update_zed_thread takes a Zed thread status, update_work_session_status a work session status.
THREAD_STATUS = "active"


def data_schema(name):
    return SCHEMAS.schema(f"spectask.command.{name}")["properties"]["data"]


def member_arguments(builder):
    """The builder's data arguments (all but the spec task id and the envelope options)."""
    parameters = inspect.signature(builder).parameters.values()
    return [p for p in parameters if p.name != "spec_task_id" and p.kind is not inspect.Parameter.VAR_KEYWORD]


def full_call(name):
    builder = BUILDERS[name]
    arguments = {p.name: SAMPLES[p.name] for p in member_arguments(builder)}
    if name == "update_zed_thread":
        arguments["status"] = THREAD_STATUS
    return builder("task-1", **arguments)


class BuilderCoverageTests(unittest.TestCase):
    def test_there_is_a_builder_for_every_command_schema_and_no_other(self):
        self.assertEqual(sorted(BUILDERS), SCHEMAS.command_names)

    def test_each_builder_takes_exactly_the_members_of_its_schema(self):
        for name, builder in BUILDERS.items():
            with self.subTest(name):
                schema = data_schema(name)
                arguments = member_arguments(builder)
                self.assertEqual(
                    sorted(member_name(p.name) for p in arguments),
                    sorted(schema.get("properties", {})),
                    f"commands.{name} and spectask.command.{name}.schema.json disagree on the data members",
                )
                # A member left at None is not sent, so a required one must not default to None.
                never_none = {member_name(p.name) for p in arguments if p.default is not None}
                for required in schema.get("required", []):
                    self.assertIn(required, never_none, f"commands.{name}: {required} is required")

    def test_member_names(self):
        self.assertEqual(member_name("work_session_ids"), "workSessionIDs")
        self.assertEqual(member_name("zed_thread_external_id"), "zedThreadExternalID")
        self.assertEqual(member_name("max_cost_micros"), "maxCostMicros")
        self.assertEqual(member_name("name"), "name")


class BuilderOutputTests(unittest.TestCase):
    def test_every_builder_with_every_member_makes_a_valid_command(self):
        for name in BUILDERS:
            with self.subTest(name):
                command = full_call(name)
                self.assertEqual(command.type, f"spectask.command.{name}")
                self.assertEqual(command.name, name)
                self.assertEqual(SCHEMAS.problems(command.type, json.loads(command.encode())), [])
                self.assertEqual(
                    sorted(command.data), sorted(data_schema(name).get("properties", {})), "every member is sent"
                )

    def test_the_wire_format(self):
        command = commands.create("auth-1", "User authentication", description="d", actor="alice")
        event = json.loads(command.encode())
        self.assertEqual(event["specversion"], "1.0")
        self.assertEqual(event["type"], "spectask.command.create")
        self.assertEqual(event["subject"], "auth-1")
        self.assertEqual(event["source"], "spectask-python-client")
        self.assertEqual(event["datacontenttype"], "application/json")
        self.assertEqual(event["actor"], "alice")
        self.assertEqual(event["data"], {"name": "User authentication", "description": "d"})
        self.assertEqual(str(uuid.UUID(event["id"])), event["id"], "a new UUID by default")
        self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(event, command.to_cloudevent())

    def test_members_left_at_none_are_not_sent(self):
        self.assertEqual(commands.create("t", "n").data, {"name": "n"})
        self.assertEqual(commands.start_planning("t").data, {})
        self.assertEqual(commands.set_shared_context("t", "k", None).data, {"key": "k"})
        self.assertEqual(commands.set_budget("t").data, {})

    def test_envelope_options(self):
        when = datetime(2026, 3, 1, 13, 0, 0, tzinfo=timezone(timedelta(hours=1)))
        command = commands.cancel(
            "t",
            reason="r",
            command_id="cmd-1",
            actor="ops",
            source="billing",
            time=when,
            correlation_id="upstream-7",
            extensions={"tenant": "acme", "priority": 2},
        )
        event = json.loads(command.encode())
        self.assertEqual(event["id"], "cmd-1")
        self.assertEqual(event["source"], "billing")
        self.assertEqual(event["time"], "2026-03-01T12:00:00.000Z")
        self.assertEqual(event["correlationid"], "upstream-7")
        self.assertEqual((event["tenant"], event["priority"]), ("acme", 2))

    def test_a_naive_time_is_taken_as_utc(self):
        command = commands.start_planning("t", time=datetime(2026, 1, 2, 3, 4, 5))
        self.assertEqual(command.to_cloudevent()["time"], "2026-01-02T03:04:05.000Z")

    def test_an_unknown_keyword_is_a_type_error(self):
        with self.assertRaises(TypeError):
            commands.create("t", "n", colour="red")
        with self.assertRaises(TypeError):
            commands.approve_specs("t", "alice", id="x")

    def test_build_takes_a_name_or_a_type(self):
        self.assertEqual(build("create", "t", {"name": "n"}).type, "spectask.command.create")
        self.assertEqual(build("spectask.command.start_planning", "t").data, None)
        self.assertEqual(build("archive", "t", {"archived": False}).data, {"archived": False})

    def test_commands_are_values(self):
        command = commands.start_planning("t", command_id="same")
        self.assertEqual(command, Command(**{**command.__dict__}))
        with self.assertRaises(AttributeError):  # dataclasses.FrozenInstanceError
            command.id = "other"

    def test_validation_errors_are_value_errors_with_every_problem(self):
        with self.assertRaises(ValueError) as caught:
            build("create", "t", {"name": 5, "colour": "red"})
        error = caught.exception
        self.assertIsInstance(error, CommandValidationError)
        self.assertEqual(error.command_type, "spectask.command.create")
        self.assertEqual(len(error.problems), 2, error.problems)
        self.assertIn("nothing was sent", str(error))


if __name__ == "__main__":
    unittest.main()
