"""The client against a running system: a real broker, a real PostgreSQL and a real ``spectask worker`` on a
topic prefix and consumer group of this run's own (tests/support.py). Fails, never skips, without them."""

import secrets
import unittest
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka.admin import AdminClient

from spectask_client import (
    Client,
    CommandRejected,
    CommandValidationError,
    Outcome,
    OutcomeTimeout,
    ProgressSnapshot,
    StatusEvent,
    TopicNotFound,
    build,
    commands,
)

from .support import REPO_ROOT, SystemUnderTest

SYSTEM: SystemUnderTest | None = None
CLIENT: Client | None = None
PLAN = (REPO_ROOT / "docs" / "examples" / "auth-plan.md").read_text(encoding="utf-8")
SPEC_TASK_CHANGED = "spectask.status.spec_task_changed"


def setUpModule():
    global SYSTEM, CLIENT
    SYSTEM = SystemUnderTest().start()
    CLIENT = Client(SYSTEM.kafka, topic_prefix=SYSTEM.prefix)


def tearDownModule():
    if CLIENT is not None:
        CLIENT.close()
    if SYSTEM is not None:
        SYSTEM.stop()


def unique_task(label):
    return f"py-{label}-{secrets.token_hex(4)}"


def became(status):
    return lambda event: event.type == SPEC_TASK_CHANGED and event.to_status == status


class LifecycleTests(unittest.TestCase):
    def test_create_plan_submit_and_approve(self):
        task = unique_task("life")
        with CLIENT.follow(task, until=became("spec_approved"), timeout=90) as events:
            sent = [
                commands.create(task, "Implement complete user authentication system", project_path="/srv/auth"),
                commands.start_planning(task),
                commands.submit_specs(task, "Users sign up and sign in.", "Tokens in cookies.", PLAN),
                commands.approve_specs(task, "alice", comments="ship it"),
            ]
            outcomes = [CLIENT.send(command, timeout=60) for command in sent]
            seen = list(events)

        for command, outcome in zip(sent, outcomes, strict=True):
            self.assertIsInstance(outcome, Outcome)
            self.assertEqual((outcome.command_id, outcome.command_type), (command.id, command.type))
            self.assertEqual(outcome.spec_task_id, task)
        sequences = [outcome.sequence for outcome in outcomes]
        self.assertEqual(sequences[0], 1, "the outcome of create is the task's first status event")
        self.assertEqual(sequences, sorted(set(sequences)), "outcomes come in the task's sequence order")

        self.assertTrue(all(event.subject == task for event in seen))
        self.assertEqual(len({event.id for event in seen}), len(seen), "each event once")
        statuses = [event.to_status for event in seen if event.type == SPEC_TASK_CHANGED]
        self.assertEqual(statuses, ["backlog", "spec_generation", "spec_review", "spec_approved"])
        followed_outcomes = [e.command_id for e in seen if isinstance(e, StatusEvent) and e.is_outcome]
        self.assertEqual(followed_outcomes, [command.id for command in sent])
        status_sequences = [e.sequence for e in seen if isinstance(e, StatusEvent)]
        self.assertEqual(status_sequences, list(range(1, len(status_sequences) + 1)), "gap-free, in order")
        snapshots = [event for event in seen if isinstance(event, ProgressSnapshot)]
        self.assertTrue(snapshots, "progress snapshots are followed too")
        self.assertTrue(all(snapshot.data["specTaskID"] == task for snapshot in snapshots))

    def test_following_from_now_shows_nothing_older(self):
        # The broker may answer "the end" with the start of the last batch (Tansu): the follower confirms the end
        # with a first fetch, so the events published before it was positioned do not come again.
        task = unique_task("now")
        CLIENT.send(commands.create(task, "Follow from now"), timeout=60)
        CLIENT.send(commands.start_planning(task), timeout=60)
        with CLIENT.follow(
            task, progress=False, from_beginning=True, until=became("spec_generation"), timeout=60
        ) as old:
            before = max(event.sequence for event in old)
        with CLIENT.follow(task, progress=False, timeout=60) as events:
            context = CLIENT.send(commands.set_shared_context(task, "conventions", "tabs"), timeout=60)
            first = next(events)
        self.assertGreater(first.sequence, before, f"an event published before following came: {first}")
        self.assertLessEqual(first.sequence, context.sequence + 1)

    def test_following_from_the_beginning(self):
        task = unique_task("begin")
        created = commands.create(task, "Follow from the beginning")
        CLIENT.send(created, timeout=60)
        CLIENT.send(commands.cancel(task, reason="done with it"), timeout=60)
        with CLIENT.follow(task, from_beginning=True, until=became("cancelled"), timeout=60) as events:
            seen = list(events)
        status = [event for event in seen if isinstance(event, StatusEvent)]
        self.assertEqual(status[0].command_id, created.id)
        self.assertEqual(status[0].sequence, 1)
        self.assertEqual(status[-1].to_status, "cancelled")


class RejectionTests(unittest.TestCase):
    def test_approving_in_the_wrong_state_raises_the_code(self):
        task = unique_task("wrong")
        CLIENT.send(commands.create(task, "Not planned yet"), timeout=60)
        approve = commands.approve_specs(task, "alice")
        with self.assertRaises(CommandRejected) as caught:
            CLIENT.send(approve, timeout=60)
        rejected = caught.exception
        self.assertEqual(rejected.code, "illegal_transition")
        self.assertEqual(rejected.command_id, approve.id)
        self.assertEqual(rejected.command_type, "spectask.command.approve_specs")
        self.assertIn("backlog", rejected.reason)
        self.assertEqual(rejected.event.subject, task)
        self.assertEqual(rejected.event.sequence, 3, "create's outcome and change were 1 and 2")

    def test_a_command_for_an_unknown_task(self):
        with self.assertRaises(CommandRejected) as caught:
            CLIENT.send(commands.start_planning(unique_task("nobody")), timeout=60)
        self.assertEqual(caught.exception.code, "unknown_spec_task")
        self.assertEqual(caught.exception.event.sequence, 0)

    def test_creating_a_task_twice(self):
        task = unique_task("twice")
        CLIENT.send(commands.create(task, "First"), timeout=60)
        with self.assertRaises(CommandRejected) as caught:
            CLIENT.send(commands.create(task, "Second"), timeout=60)
        self.assertEqual(caught.exception.code, "already_exists")

    def test_an_invalid_command_is_refused_before_sending(self):
        with self.assertRaises(CommandValidationError):
            CLIENT.send(build("create", unique_task("invalid"), {"name": "n", "colour": "red"}))


class WaitingTests(unittest.TestCase):
    def test_sending_without_waiting_then_waiting(self):
        command = commands.create(unique_task("later"), "Wait later")
        self.assertIsNone(CLIENT.send(command, wait=False))
        self.assertEqual(CLIENT.wait_for(command.id, timeout=60).command_id, command.id)

    def test_a_timeout_is_typed_and_the_outcome_can_still_be_had(self):
        command = commands.create(unique_task("slow"), "Times out at once")
        with self.assertRaises(OutcomeTimeout) as caught:
            CLIENT.send(command, timeout=0)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertEqual(caught.exception.command_id, command.id)
        self.assertEqual(CLIENT.wait_for(command.id, timeout=60).command_id, command.id)

    def test_sending_from_several_threads(self):
        tasks = [unique_task(f"thread{i}") for i in range(12)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(lambda task: CLIENT.send(commands.create(task, "parallel"), timeout=60), tasks))
        self.assertEqual([outcome.spec_task_id for outcome in outcomes], tasks)
        self.assertTrue(all(outcome.sequence == 1 for outcome in outcomes))

    def test_topics_that_do_not_exist(self):
        prefix = f"pyclient-missing-{secrets.token_hex(4)}."
        with Client(SYSTEM.kafka, topic_prefix=prefix, setup_timeout=10) as client:
            with self.assertRaises(TopicNotFound) as caught:
                client.send(commands.create(unique_task("void"), "No topics"))
            self.assertIn("spectask topics apply", str(caught.exception))
        existing = AdminClient({"bootstrap.servers": SYSTEM.kafka}).list_topics(timeout=10).topics
        self.assertFalse([name for name in existing if name.startswith(prefix)], "asking created no topic")


if __name__ == "__main__":
    unittest.main()
