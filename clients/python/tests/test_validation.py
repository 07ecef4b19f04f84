"""Malformed and hostile input is refused before anything is sent, with a short message that says where and what."""

import json
import unittest

from spectask_client import Command, CommandValidationError, build, commands
from spectask_client.schemas import MAX_COMMAND_BYTES, MAX_NESTING

MEGABYTE = "x" * 1_000_000


class RefusedMixin:
    def assertRefused(self, make, *expected):
        """``make()`` raises CommandValidationError whose message names each of ``expected``; returns the error."""
        with self.assertRaises(CommandValidationError) as caught:
            command = make()
            if isinstance(command, Command):
                command.encode()
        error = caught.exception
        text = str(error)
        for fragment in expected:
            self.assertIn(fragment, text)
        self.assertLess(len(text), 2000, "messages stay short whatever the input")
        return error


class WrongTypesTests(RefusedMixin, unittest.TestCase):
    def test_strings(self):
        self.assertRefused(lambda: commands.create("t", 42), "data.name", "type string", "integer")
        self.assertRefused(lambda: commands.create("t", ["a"]), "data.name", "array")
        self.assertRefused(lambda: commands.create("t", None), "data", "missing required member name")

    def test_integers(self):
        self.assertRefused(lambda: commands.create("t", "n", max_concurrent_sessions="3"), "maxConcurrentSessions")
        self.assertRefused(lambda: commands.create("t", "n", max_concurrent_sessions=True), "boolean")
        self.assertRefused(lambda: commands.create("t", "n", max_concurrent_sessions=1.5), "maxConcurrentSessions")
        self.assertRefused(lambda: commands.create("t", "n", max_concurrent_sessions=0), "at least 1")
        self.assertRefused(lambda: commands.create("t", "n", max_concurrent_sessions=10001), "at most 10000")
        self.assertRefused(lambda: commands.set_budget("t", max_tokens=-1), "maxTokens", "at least 0")
        self.assertRefused(lambda: commands.update_zed_thread("t", "ws", progress=101), "progress", "at most 100")

    def test_booleans_and_enums(self):
        self.assertRefused(lambda: commands.archive("t", archived=1), "data.archived", "boolean")
        self.assertRefused(lambda: commands.archive("t", archived="true"), "data.archived")
        self.assertRefused(
            lambda: commands.update_work_session_status("t", "ws", "finished"), "data.status", "completed"
        )
        self.assertRefused(lambda: commands.update_zed_thread("t", "ws", status="blocked"), "data.status")

    def test_arrays(self):
        self.assertRefused(lambda: commands.start_implementation("t", work_session_ids="ws-1"), "workSessionIDs")
        self.assertRefused(lambda: commands.start_implementation("t", work_session_ids=["ok", 7]), "workSessionIDs[1]")
        many = [f"ws-{i}" for i in range(1001)]
        self.assertRefused(lambda: commands.start_implementation("t", work_session_ids=many), "at most 1000 items")
        commands.start_implementation("t", work_session_ids=tuple(many[:1000]))

    def test_data_of_the_wrong_shape(self):
        self.assertRefused(lambda: build("create", "t", ["name"]), "data", "object")
        self.assertRefused(lambda: build("create", "t", None), "data")
        self.assertRefused(lambda: build("create", "t", "name"), "data")
        build("start_planning", "t", None)  # start_planning's data may be null

    def test_not_a_command(self):
        self.assertRefused(lambda: build(42, "t"), "must be a string")
        self.assertRefused(lambda: build("drop_database", "t"), "unknown command", "known: approve_implementation")
        self.assertRefused(lambda: Command(type="zed.event.heartbeat", spec_task_id="t", data={}), "type")
        self.assertRefused(lambda: Command(type=MEGABYTE, spec_task_id="t"), "type")
        self.assertRefused(lambda: Command(type=None, spec_task_id="t"), "type")


class UnknownFieldsTests(RefusedMixin, unittest.TestCase):
    def test_unknown_data_members(self):
        error = self.assertRefused(
            lambda: build("create", "t", {"name": "n", "colour": "red"}), "unknown member 'colour'", "known:"
        )
        self.assertEqual(len(error.problems), 1)
        self.assertRefused(lambda: build("start_planning", "t", {"force": True}), "unknown member 'force'")
        self.assertRefused(lambda: commands.start_planning("t", in_zed="yes"), "inZed")
        # camelCase only: the worker would not read a snake_case member.
        self.assertRefused(lambda: build("create", "t", {"name": "n", "project_path": "/p"}), "project_path")

    def test_unknown_and_hostile_envelope_attributes(self):
        self.assertRefused(lambda: commands.start_planning("t", extensions={"Tenant": "x"}), "'Tenant'")
        self.assertRefused(lambda: commands.start_planning("t", extensions={"data_base64": "eA=="}), "data_base64")
        self.assertRefused(lambda: commands.start_planning("t", extensions={"a" * 21: "x"}), "attribute name")
        self.assertRefused(lambda: commands.start_planning("t", extensions={"tenant": {"a": 1}}), "tenant")
        self.assertRefused(lambda: commands.start_planning("t", extensions={"specversion": "0.3"}), "specversion")
        commands.start_planning("t", extensions={"tenant": "acme", "retry": 2, "dry": False, "note": None})

    def test_envelope_attributes_of_the_wrong_type(self):
        self.assertRefused(lambda: commands.start_planning("t", actor=""), "actor")
        self.assertRefused(lambda: commands.start_planning("t", actor=7), "actor")
        self.assertRefused(lambda: commands.start_planning("t", source="s" * 501), "source", "at most 500")
        self.assertRefused(lambda: commands.start_planning("t", time="yesterday"), "time")
        self.assertRefused(lambda: commands.start_planning("t", correlation_id="c" * 201), "correlationid")


class IdentifierTests(RefusedMixin, unittest.TestCase):
    def test_subjects(self):
        for subject in ["", "a b", "t\n", "t/1", "täsk", "t" * 129, "t\x00"]:
            with self.subTest(subject=subject):
                self.assertRefused(lambda subject=subject: commands.start_planning(subject), "subject")
        self.assertRefused(lambda: commands.start_planning(None), "subject")
        self.assertRefused(lambda: commands.start_planning(12), "subject")
        commands.start_planning("A-z_0.9:" + "x" * 120)

    def test_command_ids(self):
        self.assertRefused(lambda: commands.start_planning("t", command_id="zed:1"), "reserved for Zed events")
        self.assertRefused(lambda: commands.start_planning("t", command_id=""), "id")
        self.assertRefused(lambda: commands.start_planning("t", command_id="i" * 201), "at most 200")
        self.assertRefused(lambda: commands.start_planning("t", command_id=5), "id")
        commands.start_planning("t", command_id="i" * 200)

    def test_member_ids(self):
        self.assertRefused(lambda: commands.update_work_session_status("t", "", "active"), "workSessionID")
        self.assertRefused(lambda: commands.update_work_session_status("t", "w" * 129, "active"), "at most 128")


class HugeInputTests(RefusedMixin, unittest.TestCase):
    def test_texts_are_limited_in_characters_not_bytes(self):
        commands.create("t", "é" * 500)
        commands.create("t", "😀" * 500)  # 2,000 UTF-8 bytes, 500 characters: the worker counts characters too
        self.assertRefused(lambda: commands.create("t", "😀" * 501), "at most 500 characters, got 501")

    def test_a_megabyte_in_any_member(self):
        self.assertRefused(lambda: commands.create("t", MEGABYTE), "data.name", "at most 500")
        self.assertRefused(lambda: commands.create("t", "n", description=MEGABYTE), "data.description")
        self.assertRefused(lambda: commands.start_planning(MEGABYTE), "subject")
        self.assertRefused(lambda: commands.start_implementation("t", workspace_config={"blob": MEGABYTE}), "bytes")

    def test_the_whole_message_is_limited(self):
        spec = "s" * 100_000
        commands.submit_specs("t", spec, "d", "p")
        error = self.assertRefused(lambda: commands.submit_specs("t", spec, spec, spec), f"at most {MAX_COMMAND_BYTES}")
        self.assertEqual(len(error.problems), 1)
        self.assertRefused(lambda: commands.submit_specs("t", "s" * 200_001, "d", "p"), "at most 200000")

    def test_many_members(self):
        config = {f"k{i}": i for i in range(50_000)}
        self.assertRefused(lambda: commands.start_implementation("t", agent_config=config), "bytes")


class TextTests(RefusedMixin, unittest.TestCase):
    def test_text_that_is_not_utf8(self):
        lone = "\ud800"
        self.assertRefused(lambda: commands.create("t", f"a{lone}b"), "data.name", "not valid UTF-8")
        self.assertRefused(
            lambda: commands.start_implementation("t", workspace_config={f"k{lone}": 1}), "not valid UTF-8"
        )
        undecodable = b"caf\xe9".decode("utf-8", errors="surrogateescape")
        self.assertRefused(lambda: commands.create("t", undecodable), "not valid UTF-8")
        self.assertRefused(lambda: commands.create("t", b"caf\xc3\xa9"), "bytes are not JSON")
        self.assertRefused(lambda: commands.create("t", bytearray(b"n")), "bytes")

    def test_nul_characters_anywhere(self):
        self.assertRefused(lambda: commands.create("t", "a\x00b"), "NUL")
        self.assertRefused(lambda: commands.start_implementation("t", agent_config={"a": ["x\x00"]}), "NUL")
        self.assertRefused(lambda: commands.start_implementation("t", agent_config={"k\x00": 1}), "NUL")
        self.assertRefused(lambda: commands.start_planning("t", command_id="a\x00"), "NUL")

    def test_other_control_characters_and_unicode_are_text(self):
        command = commands.create("t", "tab\tnew\nline \u2028 \U0001f600 \u200b")
        self.assertEqual(json.loads(command.encode())["data"]["name"], "tab\tnew\nline \u2028 \U0001f600 \u200b")


class FreeFormJSONTests(RefusedMixin, unittest.TestCase):
    def test_numbers_json_can_not_carry(self):
        for bad in (float("nan"), float("inf"), -float("inf")):
            with self.subTest(bad=bad):
                make = lambda bad=bad: commands.start_implementation("t", agent_config={"x": bad})  # noqa: E731
                self.assertRefused(make, "agentConfig.x")
        self.assertRefused(lambda: commands.start_implementation("t", agent_config=10**400), "digits")

    def test_nesting_depth(self):
        def nested(levels):
            value = "leaf"
            for _ in range(levels):
                value = {"n": value}
            return value

        commands.start_implementation("t", agent_config=nested(MAX_NESTING - 3))
        self.assertRefused(lambda: commands.start_implementation("t", agent_config=nested(200)), "nested more than")
        self.assertRefused(lambda: commands.start_implementation("t", agent_config=nested(10_000)), "nested more than")

    def test_cycles(self):
        cycle = {}
        cycle["self"] = cycle
        self.assertRefused(lambda: commands.start_implementation("t", agent_config=cycle), "nested more than")

    def test_values_json_does_not_have(self):
        self.assertRefused(lambda: commands.start_implementation("t", agent_config={"when": object()}), "JSON")
        self.assertRefused(lambda: commands.start_implementation("t", agent_config={(1, 2): "tuple key"}), "JSON")
        self.assertRefused(lambda: commands.start_implementation("t", agent_config={1, 2}), "JSON")

    def test_what_is_validated_is_what_is_sent(self):
        # JSON turns an int key into a string and a tuple into an array, as the worker will see them.
        command = commands.start_implementation("t", agent_config={1: ("a", "b")})
        self.assertEqual(json.loads(command.encode())["data"]["agentConfig"], {"1": ["a", "b"]})


if __name__ == "__main__":
    unittest.main()
