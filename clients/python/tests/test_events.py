"""Reading the worker's outputs, and the settings: no broker needed."""

import json
import unittest

from spectask_client import CommandRejected, Event, Outcome, ProgressSnapshot, StatusEvent, Topics
from spectask_client.client import _outcome
from spectask_client.config import kafka_config_from_env


def status(type_, data, **extra):
    return json.dumps(
        {
            "specversion": "1.0",
            "id": "spectask.commands.0.5@0.1",
            "source": "spectask-worker",
            "type": type_,
            "subject": "auth-1",
            "time": "2026-03-01T12:00:00Z",
            "datacontenttype": "application/json",
            "correlationid": "cmd-1",
            "spectasksequence": 4,
            "data": data,
            **extra,
        }
    ).encode()


APPLIED = {
    "commandID": "cmd-1",
    "commandType": "spectask.command.start_implementation",
    "created": {
        "workSessionIDs": ["ws-1"],
        "zedThreadIDs": ["th-1"],
        "zedInstanceID": "zed-1",
        "implementationTaskIndexes": [1],
    },
}


class EventDecodingTests(unittest.TestCase):
    def test_an_applied_outcome(self):
        event = Event.decode(status("spectask.status.command_applied", APPLIED), "p.spectask.status", 2, 9)
        self.assertIsInstance(event, StatusEvent)
        self.assertTrue(event.is_outcome)
        self.assertEqual((event.command_id, event.sequence, event.name), ("cmd-1", 4, "command_applied"))
        self.assertEqual((event.topic, event.partition, event.offset), ("p.spectask.status", 2, 9))
        outcome = _outcome(event)
        self.assertIsInstance(outcome, Outcome)
        self.assertEqual(outcome.work_session_ids, ["ws-1"])
        self.assertEqual(outcome.zed_instance_id, "zed-1")
        self.assertEqual(outcome.implementation_task_indexes, [1])
        self.assertEqual(outcome.command_type, "spectask.command.start_implementation")

    def test_a_rejected_outcome_raises_with_its_code(self):
        data = {**APPLIED, "code": "illegal_transition", "reason": "cannot go from backlog to spec_approved"}
        event = Event.decode(status("spectask.status.command_rejected", data))
        with self.assertRaises(CommandRejected) as caught:
            _outcome(event)
        self.assertEqual(caught.exception.code, "illegal_transition")
        self.assertEqual(caught.exception.command_id, "cmd-1")
        self.assertIn("cannot go from backlog", str(caught.exception))
        self.assertIs(caught.exception.event, event)

    def test_a_change(self):
        event = Event.decode(status("spectask.status.spec_task_changed", {"from": "backlog", "to": "spec_generation"}))
        self.assertEqual((event.from_status, event.to_status), ("backlog", "spec_generation"))
        self.assertFalse(event.is_outcome)
        self.assertIsNone(event.command_id)

    def test_a_progress_snapshot(self):
        data = {"specTaskID": "auth-1", "specTaskStatus": "implementation", "overallPercent": 40, "workSessions": [{}]}
        event = Event.decode(status("spectask.progress.snapshot", data))
        self.assertIsInstance(event, ProgressSnapshot)
        self.assertEqual(
            (event.overall_percent, event.spec_task_status, len(event.work_sessions)), (40, "implementation", 1)
        )

    def test_the_sequence_of_workers_before_spectasksequence(self):
        value = json.loads(status("spectask.status.spec_task_changed", {"to": "backlog"}))
        value["sequence"] = value.pop("spectasksequence")
        self.assertEqual(Event.decode(json.dumps(value).encode()).sequence, 4)

    def test_what_is_not_a_cloud_event_is_skipped(self):
        for value in [
            None,
            b"",
            b"not json",
            b"\xff\xfe",
            b"[1]",
            b'{"type": 1, "id": "x"}',
            b'{"type": "t"}',
            b"1e999",
        ]:
            with self.subTest(value=value):
                self.assertIsNone(Event.decode(value))

    def test_odd_attributes_are_ignored_not_trusted(self):
        event = Event.decode(status("spectask.status.spec_task_changed", "text", spectasksequence=True, subject=5))
        self.assertIsNone(event.sequence)
        self.assertIsNone(event.subject)
        self.assertIsNone(event.to_status)


class SettingsTests(unittest.TestCase):
    def test_kafka_settings_from_the_environment(self):
        config = kafka_config_from_env(
            {
                "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
                "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_PROPERTY_SOCKET_TIMEOUT_MS": "5000",
                "UNRELATED": "x",
            }
        )
        self.assertEqual(
            config,
            {
                "bootstrap.servers": "k1:9092,k2:9092",
                "security.protocol": "sasl_ssl",
                "sasl.username": "u",
                "socket.timeout.ms": "5000",
            },
        )
        self.assertEqual(kafka_config_from_env({}), {"bootstrap.servers": "127.0.0.1:19092"})

    def test_topic_names(self):
        topics = Topics("test-1.")
        self.assertEqual(
            (topics.commands, topics.status, topics.progress, topics.rejected),
            (
                "test-1.spectask.commands",
                "test-1.spectask.status",
                "test-1.spectask.progress",
                "test-1.spectask.rejected",
            ),
        )
        self.assertEqual(Topics.from_env({}).commands, "spectask.commands")
        for bad in ["a b", "ü.", "x/", "p" * 240, None]:
            with self.subTest(prefix=bad), self.assertRaises(ValueError):
                Topics(bad)


if __name__ == "__main__":
    unittest.main()
