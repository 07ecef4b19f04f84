"""Sending commands and following what the worker publishes.

How an outcome is never missed: the client starts reading ``spectask.status`` before its first command goes out,
at the current end of every partition, and keeps that position for as long as it lives; outcomes are matched by
command id. The end is asked of the broker (ListOffsets) and then confirmed by a first fetch, because some brokers
(Tansu) answer ListOffsets with the base offset of the last batch instead of the end of the log; what lies before
the confirmed end is skipped, so :meth:`Client.follow` does not replay older events either. Consumers fetch with
``fetch.wait.max.ms`` 10 ms: Tansu holds an empty fetch for the whole wait, so the default 500 ms would delay
every outcome.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Callable, Iterator, Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

from .commands import Command
from .config import Topics, kafka_config_from_env
from .errors import CommandRejected, OutcomeTimeout, PublishError, SpecTaskError, TopicNotFound
from .events import REJECTED_TYPE, Event, Outcome, StatusEvent
from .schemas import SchemaSet

#: librdkafka's ``fetch.wait.max.ms`` for every consumer of the client (see the module's doc).
FETCH_WAIT_MAX_MS = 10
#: How long the broker may take to acknowledge a command before :class:`PublishError`, in seconds.
PUBLISH_TIMEOUT = 30.0
_KEPT_OUTCOMES = 10_000
_POLL_SLICE = 0.2


class Client:
    """Sends commands to one spectask system and follows its outputs.

    :param bootstrap_servers: ``host:port[,…]``; default ``KAFKA_BOOTSTRAP_SERVERS``, else ``127.0.0.1:19092``.
    :param topic_prefix: prefix of every topic name; default ``SPECTASK_TOPIC_PREFIX``, else none.
    :param kafka_config: more librdkafka properties (they win over the environment's ``KAFKA_*``).
    :param schemas: the schemas commands are validated against; default the ones shipped with the package.
    :param setup_timeout: how long finding topics and positioning on them may take, in seconds.

    A client may be used from several threads. Close it (or use it as a context manager) to leave the broker
    cleanly.
    """

    def __init__(
        self,
        bootstrap_servers: str | None = None,
        *,
        topic_prefix: str | None = None,
        kafka_config: Mapping[str, Any] | None = None,
        schemas: SchemaSet | None = None,
        setup_timeout: float = 30.0,
    ):
        self.topics = Topics.from_env() if topic_prefix is None else Topics(topic_prefix)
        config: dict[str, Any] = kafka_config_from_env()
        if bootstrap_servers:
            config["bootstrap.servers"] = bootstrap_servers
        config.update(kafka_config or {})
        self._config = config
        self._schemas = schemas or SchemaSet.bundled()
        self._setup_timeout = setup_timeout
        self._lock = threading.RLock()
        self._producer: Producer | None = None
        self._commands_checked = False
        self._status: _OutputReader | None = None
        self._outcomes: OrderedDict[str, StatusEvent] = OrderedDict()
        self._closed = False

    # MARK: - Commands

    def send(self, command: Command, *, wait: bool = True, timeout: float = 30.0) -> Outcome | None:
        """Validates ``command``, publishes it on ``<prefix>spectask.commands`` (key = spec task id) and, with
        ``wait``, waits up to ``timeout`` seconds for its outcome on ``<prefix>spectask.status`` (the broker's
        acknowledgement of the command itself is awaited first, up to ``PUBLISH_TIMEOUT``).

        :returns: the :class:`Outcome` of an applied command; ``None`` with ``wait=False`` (then
            :meth:`wait_for` gets the outcome later).
        :raises CommandValidationError: the command does not match its schema; nothing was sent.
        :raises CommandRejected: the worker refused it (``code``, ``reason``).
        :raises OutcomeTimeout: no outcome within ``timeout`` seconds (the command was published).
        :raises PublishError: the broker did not acknowledge the command.
        :raises TopicNotFound: the system's topics do not exist (``spectask topics apply``).
        """
        if not isinstance(command, Command):
            raise TypeError(f"send() takes a Command (see spectask_client.commands), got {type(command).__name__}")
        payload = command.encode(self._schemas)
        self._check_open()
        # Follow the status topic before sending, so the outcome can not be missed.
        self._status_reader()
        self._publish(command.spec_task_id, payload)
        if not wait:
            return None
        return self.wait_for(command.id, timeout=timeout)

    def wait_for(self, command_id: str, *, timeout: float = 30.0) -> Outcome:
        """The outcome of a command this client sent (or of any command whose outcome is published after the
        client's first :meth:`send`).

        :raises CommandRejected: the worker refused it.
        :raises OutcomeTimeout: no outcome within ``timeout`` seconds.
        """
        self._check_open()
        deadline = time.monotonic() + timeout
        reader = self._status_reader()
        while True:
            with self._lock:
                event = self._outcomes.pop(command_id, None)
                if event is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise OutcomeTimeout(command_id, timeout, self.topics.status)
                    for message in reader.poll(min(remaining, _POLL_SLICE)):
                        if isinstance(message, StatusEvent) and message.is_outcome and message.command_id:
                            self._outcomes[message.command_id] = message
                            while len(self._outcomes) > _KEPT_OUTCOMES:
                                self._outcomes.popitem(last=False)
                    continue
            return _outcome(event)

    # MARK: - Following

    def follow(
        self,
        spec_task_id: str,
        *,
        from_beginning: bool = False,
        progress: bool = True,
        until: Callable[[Event], bool] | None = None,
        timeout: float | None = None,
    ) -> "Follower":
        """The status events (and, with ``progress``, the progress snapshots) of one spec task, as they are
        published from now on (or from the start of the topics with ``from_beginning``: the compacted progress
        topic then begins with the task's latest snapshot).

        The follower is positioned when this returns, so what you send afterwards is seen. Iteration ends after
        the event for which ``until(event)`` is true, or when ``timeout`` seconds have passed; otherwise it
        blocks for the next event. Each event comes once (republished duplicates are dropped by id). Use it as a
        context manager, or call ``close()``.
        """
        self._check_open()
        topics = [self.topics.status] + ([self.topics.progress] if progress else [])
        reader = _OutputReader(self._config, topics, from_beginning=from_beginning, timeout=self._setup_timeout)
        return Follower(reader, spec_task_id, until=until, timeout=timeout)

    # MARK: - Lifecycle

    def close(self) -> None:
        """Delivers what is still queued (up to 10 s) and closes the connections."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._producer is not None:
                self._producer.flush(10)
            if self._status is not None:
                self._status.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # MARK: - Internals

    def _check_open(self) -> None:
        if self._closed:
            raise SpecTaskError("the client is closed")

    def _status_reader(self) -> "_OutputReader":
        with self._lock:
            if self._status is None:
                self._status = _OutputReader(self._config, [self.topics.status], timeout=self._setup_timeout)
            return self._status

    def _publish(self, key: str, payload: bytes) -> None:
        timeout = PUBLISH_TIMEOUT
        with self._lock:
            if self._producer is None:
                self._producer = Producer(
                    {
                        **self._config,
                        # A metadata request must never create a missing topic (Tansu would, with defaults).
                        "allow.auto.create.topics": False,
                        "enable.idempotence": True,
                        "acks": "all",
                        "linger.ms": 1,
                        "message.timeout.ms": int(timeout * 1000),
                    }
                )
            producer = self._producer
            if not self._commands_checked:
                _partitions(producer, self.topics.commands, self._setup_timeout)
                self._commands_checked = True
        delivery: dict[str, Any] = {}
        deadline = time.monotonic() + timeout + 5

        def delivered(error: KafkaError | None, message: Any) -> None:
            delivery["error"] = error
            delivery["done"] = True

        while True:
            try:
                producer.produce(self.topics.commands, value=payload, key=key.encode("utf-8"), on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
                if time.monotonic() > deadline:
                    raise PublishError("the producer's queue stayed full; the command was not sent") from None
            except KafkaException as error:
                raise PublishError(f"could not publish to {self.topics.commands}: {error}") from error
        while "done" not in delivery:
            if time.monotonic() > deadline:
                raise PublishError(
                    f"the broker did not acknowledge the command on {self.topics.commands} within {timeout:g} s; "
                    "it may or may not have been sent (sending it again with the same id is safe)"
                )
            producer.poll(0.05)
        if delivery["error"] is not None:
            raise PublishError(f"the broker refused the command on {self.topics.commands}: {delivery['error']}")


class Follower(Iterator[Event]):
    """The iterator :meth:`Client.follow` returns: :class:`StatusEvent` and :class:`ProgressSnapshot` values of
    one spec task."""

    def __init__(
        self,
        reader: "_OutputReader",
        spec_task_id: str,
        *,
        until: Callable[[Event], bool] | None,
        timeout: float | None,
    ):
        self._reader = reader
        self.spec_task_id = spec_task_id
        self._until = until
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._pending: deque[Event] = deque()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._done = False

    def __iter__(self) -> "Follower":
        return self

    def __next__(self) -> Event:
        while not self._done:
            if self._pending:
                event = self._pending.popleft()
                if self._until is not None and self._until(event):
                    self.close()
                return event
            wait = _POLL_SLICE
            if self._deadline is not None:
                wait = min(wait, self._deadline - time.monotonic())
                if wait <= 0:
                    break
            for event in self._reader.poll(wait):
                if event.subject != self.spec_task_id or event.id in self._seen:
                    continue
                self._seen[event.id] = None
                if len(self._seen) > _KEPT_OUTCOMES:
                    self._seen.popitem(last=False)
                self._pending.append(event)
        self.close()
        raise StopIteration

    def close(self) -> None:
        self._done = True
        self._pending.clear()
        self._reader.close()

    def __enter__(self) -> "Follower":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _OutputReader:
    """Reads every partition of some output topics by explicit assignment (no consumer group), positioned at
    their current end (see the module's doc) or at their start."""

    def __init__(self, config: Mapping[str, Any], topics: list[str], *, from_beginning: bool = False, timeout: float):
        self._consumer = Consumer(
            {
                **config,
                "group.id": f"spectask-python-{uuid.uuid4()}",
                "allow.auto.create.topics": False,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": False,
                "auto.offset.reset": "earliest" if from_beginning else "latest",
                "fetch.wait.max.ms": FETCH_WAIT_MAX_MS,
                "queued.max.messages.kbytes": 16384,
            }
        )
        self._start: dict[tuple[str, int], int] = {}
        self._closed = False
        try:
            self._position(topics, from_beginning, timeout)
        except BaseException:
            self.close()
            raise

    def _position(self, topics: list[str], from_beginning: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        partitions = [TopicPartition(topic, p) for topic in topics for p in _partitions(self._consumer, topic, timeout)]
        if from_beginning:
            self._consumer.assign([TopicPartition(tp.topic, tp.partition, OFFSET_BEGINNING) for tp in partitions])
            return
        queried = {}
        for tp in partitions:
            what = f"the end of {tp.topic}[{tp.partition}]"
            watermarks = _retry(
                lambda tp=tp: self._consumer.get_watermark_offsets(
                    tp, timeout=max(0.1, deadline - time.monotonic()), cached=False
                ),
                deadline,
                what,
            )
            if watermarks is None:
                raise SpecTaskError(f"the broker did not tell {what} within {timeout:g} s; is it up?")
            queried[(tp.topic, tp.partition)] = max(0, watermarks[1])
        self._consumer.assign([TopicPartition(t, p, offset) for (t, p), offset in queried.items()])
        # The first fetch of each partition brings its true end: everything before it was there before us.
        confirm_until = min(deadline, time.monotonic() + 5.0)
        unconfirmed = set(queried)
        while unconfirmed and time.monotonic() < confirm_until:
            for key in list(unconfirmed):
                _, high = self._consumer.get_watermark_offsets(TopicPartition(*key), cached=True) or (-1, -1)
                if high >= 0:
                    self._start[key] = max(queried[key], high)
                    unconfirmed.discard(key)
            if unconfirmed:
                time.sleep(0.005)

    def poll(self, timeout: float) -> list[Event]:
        """The events that arrived within ``timeout`` seconds (``[]`` when none); undecodable messages are
        skipped."""
        if self._closed:
            return []
        events = []
        for message in self._consumer.consume(num_messages=1000, timeout=max(0.0, timeout)):
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise SpecTaskError(f"reading {message.topic()}: {error}")
                continue
            if message.offset() < self._start.get((message.topic(), message.partition()), 0):
                continue
            event = Event.decode(message.value(), message.topic(), message.partition(), message.offset())
            if event is not None:
                events.append(event)
        return events

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.close()


def _partitions(client: Consumer | Producer, topic: str, timeout: float) -> list[int]:
    """The partition numbers of ``topic``; :class:`TopicNotFound` when it does not exist."""
    deadline = time.monotonic() + timeout
    metadata = _retry(
        lambda: client.list_topics(topic=topic, timeout=max(0.1, deadline - time.monotonic())),
        deadline,
        f"the metadata of {topic}",
    )
    described = metadata.topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        raise TopicNotFound(
            f"topic {topic} does not exist ({described.error if described else 'not in the metadata'}); "
            "create the topics with: spectask topics apply [--topic-prefix P]"
        )
    return sorted(described.partitions)


def _retry(call: Callable[[], Any], deadline: float, what: str) -> Any:
    """Retries a metadata call while the broker says "try again" (as it does for a topic created a moment ago)."""
    while True:
        try:
            return call()
        except KafkaException as error:
            code = error.args[0] if error.args and isinstance(error.args[0], KafkaError) else None
            retriable = code is not None and (code.retriable() or code.code() in _TRANSIENT)
            if not retriable or time.monotonic() >= deadline:
                raise SpecTaskError(
                    f"could not read {what} from the broker ({error}); is it up? (scripts/services status)"
                ) from error
            time.sleep(0.1)


_TRANSIENT = {
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
    KafkaError.REQUEST_TIMED_OUT,
}


def _outcome(event: StatusEvent) -> Outcome:
    if event.type == REJECTED_TYPE:
        data = event.data if isinstance(event.data, dict) else {}
        raise CommandRejected(
            code=str(data.get("code", "unknown")),
            reason=str(data.get("reason", "")),
            command_id=event.command_id or "",
            command_type=str(data.get("commandType", "")),
            event=event,
        )
    return Outcome.of(event)
