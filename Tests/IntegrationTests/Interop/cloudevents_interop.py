#!/usr/bin/env python3
"""Interoperability with the official CloudEvents Python SDK over the CloudEvents Kafka protocol binding.

Sends commands to a running spectask system built with the SDK (cloudevents.core.bindings.kafka): one spec task
entirely in structured mode (to_structured), one entirely in binary mode (to_binary), each from create to
start_implementation, plus one bad command in each mode. Then reads every output topic (spectask.status,
spectask.progress, zed.commands, spectask.rejected) and turns each record back into an event with the SDK:
from_structured when the content-type header names the CloudEvents JSON format (the binding's rule), else
from_binary. Checks that every output is structured mode, that its ce_ headers repeat its attributes, and the
outcomes, sequence numbers, Zed commands and rejected records the commands must have caused.

    cloudevents_interop.py --bootstrap-servers 127.0.0.1:19092 --prefix e2e-1234. [--timeout 120]

Exit status: 0 when every check passed, 1 when one failed (each failure is printed), 2 when python's
cloudevents (2.2.0, scripts/deps installs it) or confluent-kafka is missing.

Why not the SDK's from_kafka: in cloudevents 2.2.0 it picks binary mode whenever any ce_ header is present, while
the binding decides by content-type and allows ce_ headers in structured mode (section 3.3.3); the worker's
records carry both, so from_kafka would read their whole value as data.
"""
import argparse
import json
import sys
import time
import uuid

SDK_VERSION = "2.2.0"

try:
    import cloudevents
    from cloudevents.core.bindings import kafka as binding
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent
    import confluent_kafka
except ImportError as error:
    print(
        f"cloudevents_interop: a Python package is missing ({error}); scripts/deps installs "
        f"cloudevents=={SDK_VERSION} and confluent-kafka",
        file=sys.stderr,
    )
    sys.exit(2)

STRUCTURED = "application/cloudevents"
PLAN = "## Task 1: Build it\n\nDescription: the whole thing.\n"


class Checks:
    def __init__(self):
        self.failures = []

    def expect(self, condition, what):
        if not condition:
            self.failures.append(what)
        return condition


def command(task, name, data, mode, partitionkey=True):
    """A command as the SDK builds it; the key comes from the partitionkey extension (the SDK's default mapper)."""
    attributes = {
        "id": f"interop-{uuid.uuid4()}",
        "source": "cloudevents-python-sdk",
        "type": f"spectask.command.{name}",
        "subject": task,
        "datacontenttype": "application/json",
        "actor": "interop",
    }
    if partitionkey:
        attributes["partitionkey"] = task
    event = CloudEvent(attributes=attributes, data=data)
    convert = binding.to_structured if mode == "structured" else binding.to_binary
    return event, convert(event, JSONFormat())


def lifecycle(task):
    return [
        ("create", {"name": f"CloudEvents interop {task}"}),
        ("start_planning", None),
        ("submit_specs", {"requirements": "r", "design": "d", "implementationPlan": PLAN}),
        ("approve_specs", {"approver": "interop"}),
        ("start_implementation", None),
    ]


def read_record(record):
    """The record as the SDK's KafkaMessage and the event, choosing the mode by content-type as the binding says."""
    headers = {key: value for key, value in (record.headers() or [])}
    message = binding.KafkaMessage(headers=headers, key=record.key(), value=record.value() or b"")
    content_type = headers.get("content-type", b"").decode("utf-8").lower()
    if content_type.startswith(STRUCTURED):
        return headers, "structured", binding.from_structured(message, JSONFormat())
    return headers, "binary", binding.from_binary(message, JSONFormat())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--prefix", required=True, help="the system's topic prefix, e.g. 'e2e-1234.'")
    parser.add_argument("--timeout", type=float, default=120)
    arguments = parser.parse_args()
    checks = Checks()
    if cloudevents.__version__ != SDK_VERSION:
        print(f"cloudevents_interop: cloudevents {cloudevents.__version__} is installed, the test pins {SDK_VERSION}",
              file=sys.stderr)
        return 2
    topic = {name: arguments.prefix + name for name in
             ["spectask.commands", "spectask.status", "spectask.progress", "zed.commands", "spectask.rejected"]}
    run = uuid.uuid4().hex[:8]
    tasks = {"structured": f"interop-s-{run}", "binary": f"interop-b-{run}"}

    # MARK: Send: a whole lifecycle per mode, and one bad command per mode.
    # Idempotence keeps each partition in send order through retries: a bad create overtaking the good one would
    # be answered for a task that does not exist yet.
    producer = confluent_kafka.Producer({"bootstrap.servers": arguments.bootstrap_servers, "enable.idempotence": True})
    sent = {}  # command id -> (mode, task, name)
    for mode, task in tasks.items():
        for name, data in lifecycle(task):
            event, message = command(task, name, data, mode)
            sent[event.get_id()] = (mode, task, name)
            producer.produce(topic["spectask.commands"], value=message.value, key=message.key,
                             headers=list(message.headers.items()))
    bad = {}
    for mode, task in tasks.items():
        # Binary: an unknown command type. Structured: create without its required name.
        name, data = ("does_not_exist", {"name": "x"}) if mode == "binary" else ("create", {"description": "no name"})
        event, message = command(task, name, data, mode)
        bad[event.get_id()] = (mode, task, "unknown_type" if mode == "binary" else "schema_violation")
        producer.produce(topic["spectask.commands"], value=message.value, key=message.key,
                         headers=list(message.headers.items()))
    left = producer.flush(30)
    if left:
        print(f"cloudevents_interop: {left} commands were not delivered to {arguments.bootstrap_servers}",
              file=sys.stderr)
        return 1
    print(f"sent {len(sent)} commands and {len(bad)} bad ones for {tasks['structured']} (structured mode) "
          f"and {tasks['binary']} (binary mode)")

    # MARK: Read every output topic from its beginning, by assignment (no consumer group to wait for).
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": arguments.bootstrap_servers,
        "group.id": f"interop-{run}",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 50,
    })
    outputs = [topic[name] for name in ["spectask.status", "spectask.progress", "zed.commands", "spectask.rejected"]]
    metadata = consumer.list_topics(timeout=30)
    assignment = []
    for name in outputs:
        partitions = metadata.topics[name].partitions if name in metadata.topics else {}
        if not checks.expect(partitions, f"topic {name} does not exist"):
            continue
        assignment += [confluent_kafka.TopicPartition(name, p, confluent_kafka.OFFSET_BEGINNING) for p in partitions]
    consumer.assign(assignment)

    events = {name: [] for name in outputs}  # topic -> [(record, headers, mode, event)]

    def outcome_ids():
        return {event.get_extension("correlationid") for _, _, _, event in events[topic["spectask.status"]]
                if event.get_type() in ("spectask.status.command_applied", "spectask.status.command_rejected")}

    def complete():
        subjects = lambda name: {event.get_subject() for _, _, _, event in events[topic[name]]}
        rejected = {event.get_extension("correlationid") for _, _, _, event in events[topic["spectask.rejected"]]}
        return (set(sent) | set(bad)) <= outcome_ids() and set(bad) <= rejected \
            and set(tasks.values()) <= subjects("zed.commands") and set(tasks.values()) <= subjects("spectask.progress")

    deadline = time.monotonic() + arguments.timeout
    while not complete() and time.monotonic() < deadline:
        for record in consumer.consume(num_messages=500, timeout=0.5):
            if record.error():
                continue
            try:
                headers, mode, event = read_record(record)
            except Exception as error:  # the SDK could not read it: that is the finding
                checks.expect(False, f"{record.topic()}[{record.partition()}]@{record.offset()}: the SDK could "
                                     f"not read the record: {type(error).__name__}: {error}")
                continue
            if event.get_subject() in tasks.values():
                events[record.topic()].append((record, headers, mode, event))
    consumer.close()
    checks.expect(complete(), f"not every expected output arrived within {arguments.timeout} s: "
                              f"outcomes for {len(outcome_ids() & (set(sent) | set(bad)))} of "
                              f"{len(sent) + len(bad)} commands, {sum(map(len, events.values()))} records read")

    # MARK: Every output: structured mode, ce_ headers that repeat the attributes, the key as partitionkey.
    for name, records in events.items():
        for record, headers, mode, event in records:
            where = f"{name}@{record.offset()} ({event.get_type()})"
            checks.expect(mode == "structured",
                          f"{where}: read as {mode} mode; content-type {headers.get('content-type')}")
            checks.expect(headers.get("content-type") == b"application/cloudevents+json; charset=utf-8",
                          f"{where}: content-type {headers.get('content-type')}")
            for attribute, value in [("specversion", event.get_specversion()), ("id", event.get_id()),
                                     ("source", event.get_source()), ("type", event.get_type()),
                                     ("subject", event.get_subject())]:
                checks.expect(headers.get("ce_" + attribute) == value.encode("utf-8"),
                              f"{where}: header ce_{attribute} {headers.get('ce_' + attribute)} is not {value!r}")
            checks.expect(event.get_specversion() == "1.0" and event.get_source() == "spectask-worker",
                          f"{where}: specversion/source {event.get_specversion()}/{event.get_source()}")
            checks.expect(event.get_time() is not None and event.get_time().tzinfo is not None,
                          f"{where}: time {event.get_time()!r}")
            checks.expect(event.get_datacontenttype() == "application/json",
                          f"{where}: datacontenttype {event.get_datacontenttype()!r}")
            checks.expect(event.get_extension("partitionkey") == record.key().decode("utf-8"),
                          f"{where}: the SDK's partitionkey {event.get_extension('partitionkey')!r} is not the key")
            checks.expect(isinstance(event.get_data(), dict), f"{where}: data {event.get_data()!r}")

    # MARK: spectask.status: one outcome per command, gap-free per-task sequence numbers.
    status = [event for _, _, _, event in events[topic["spectask.status"]]]
    for command_id, (mode, task, name) in sent.items():
        outcomes = [e for e in status if e.get_extension("correlationid") == command_id
                    and e.get_type().startswith("spectask.status.command_")]
        if checks.expect(len(outcomes) == 1, f"{mode} {name}: {len(outcomes)} outcomes"):
            checks.expect(outcomes[0].get_type() == "spectask.status.command_applied",
                          f"{mode} {name}: {outcomes[0].get_type()} {outcomes[0].get_data()}")
            checks.expect(outcomes[0].get_data().get("commandType") == f"spectask.command.{name}",
                          f"{mode} {name}: commandType {outcomes[0].get_data().get('commandType')}")
    for command_id, (mode, task, code) in bad.items():
        outcomes = [e for e in status if e.get_extension("correlationid") == command_id]
        if checks.expect(len(outcomes) == 1, f"bad {mode} command: {len(outcomes)} outcomes"):
            checks.expect(outcomes[0].get_type() == "spectask.status.command_rejected"
                          and outcomes[0].get_data().get("code") == code,
                          f"bad {mode} command: {outcomes[0].get_type()} {outcomes[0].get_data()}")
    for mode, task in tasks.items():
        sequences = sorted(e.get_extension("spectasksequence") for e in status if e.get_subject() == task)
        checks.expect(all(isinstance(s, int) for s in sequences) and sequences == list(range(1, len(sequences) + 1)),
                      f"{mode}: spectasksequence of {task} is not 1, 2, 3…: {sequences}")
        checks.expect(len(sequences) >= len(lifecycle(task)), f"{mode}: only {len(sequences)} status events")

    # MARK: spectask.progress and zed.commands.
    for mode, task in tasks.items():
        snapshots = [e for _, _, _, e in events[topic["spectask.progress"]] if e.get_subject() == task]
        checks.expect(snapshots and all(e.get_type() == "spectask.progress.snapshot"
                                        and isinstance(e.get_extension("spectasksequence"), int) for e in snapshots),
                      f"{mode}: progress snapshots "
                      f"{[(e.get_type(), e.get_extension('spectasksequence')) for e in snapshots]}")
        zed = [(record, e) for record, _, _, e in events[topic["zed.commands"]] if e.get_subject() == task]
        kinds = {e.get_type() for _, e in zed}
        checks.expect({"zed.command.create_instance", "zed.command.create_thread"} <= kinds,
                      f"{mode}: zed.commands {sorted(kinds)}")
        for record, e in zed:
            checks.expect(record.key().decode("utf-8") == e.get_data().get("instanceID"),
                          f"{mode}: {e.get_type()} keyed {record.key()!r}, not by its instance")

    # MARK: spectask.rejected: the record of each bad command; a binary one keeps the headers it came with.
    for command_id, (mode, task, code) in bad.items():
        records = [e for _, _, _, e in events[topic["spectask.rejected"]]
                   if e.get_extension("correlationid") == command_id]
        if not checks.expect(len(records) == 1, f"bad {mode} command: {len(records)} rejected records"):
            continue
        data = records[0].get_data()
        checks.expect(records[0].get_type() == "spectask.rejected.input" and data.get("code") == code
                      and data.get("eventID") == command_id and data.get("specTaskID") == task,
                      f"bad {mode} command: rejected record {json.dumps(data)[:400]}")
        headers = {h["key"]: h.get("value") for h in data.get("originalHeaders") or []}
        if mode == "binary":
            checks.expect(headers.get("ce_id") == command_id
                          and headers.get("ce_type") == "spectask.command.does_not_exist",
                          f"binary bad command: originalHeaders {data.get('originalHeaders')}")
        else:
            checks.expect(headers.get("content-type") == "application/cloudevents+json",
                          f"structured bad command: originalHeaders {data.get('originalHeaders')}")

    counts = ", ".join(f"{len(records)} on {name}" for name, records in events.items())
    if checks.failures:
        for failure in checks.failures:
            print(f"FAIL: {failure}")
        print(f"{len(checks.failures)} checks failed ({counts})")
        return 1
    print(f"read with cloudevents {cloudevents.__version__}: {counts}; every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
