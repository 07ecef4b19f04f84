import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import Tracing

/// The outbox rows one batch produces, with per-task sequence numbers and ids derived from the input,
/// so applying the same input to the same state yields the same messages.
///
/// The outputs of an input with a trace context carry a child of it (see ``OutputTracing``), in their `traceparent`
/// and `tracestate` headers (stored with the row) and CloudEvent attributes.
struct OutputBatch {
    let topics: WorkerTopics
    let time: Date
    private(set) var messages: [OutboxMessage] = []
    private(set) var tracing: OutputTracing
    /// The trace context the outputs of the input being handled are children of.
    private var inputTrace: TraceContext?
    /// Per spec task, the trace context of the last input with one that changed it: its progress snapshot's parent.
    private var progressParents: [String: TraceContext] = [:]

    /// The outbox shards these messages go to, for the relay to publish at once.
    var shards: Set<Int32> { Set(messages.map(\.shard)) }
    private var ordinal = 0

    init(topics: WorkerTopics, time: Date, tracing: OutputTracing = OutputTracing(tracer: nil, batchContext: nil)) {
        self.topics = topics
        self.time = time
        self.tracing = tracing
    }

    /// Where the input being handled came from: output ids are derived from it, so they are unique (one input
    /// message, one position) and the same when the input is applied again after a crash.
    private var inputPosition = "batch"

    /// - Parameters:
    ///   - epoch: How many times the partition's position was reset (see ``inputPosition(of:epoch:)``).
    ///   - trace: The input's trace context, when it has a valid one.
    ///   - type: The input's CloudEvent type, when it could be read.
    mutating func beginInput(_ message: KafkaConsumerMessage, epoch: Int32, trace: TraceContext?, type: String?) {
        beginInput(position: Self.inputPosition(of: message, epoch: epoch))
        inputTrace = tracing.input(
            trace,
            type: type ?? "unreadable input",
            attributes: [
                "messaging.destination.name": .string(message.topic),
                "messaging.kafka.destination.partition": .int32(message.partition),
                "messaging.kafka.message.offset": .int64(message.offset),
            ]
        )
    }

    /// `topic.partition.offset`, and `@epoch` after the partition's position was reset (`spectask offsets reset`,
    /// its topic re-created): offsets start again at 0 then, and the ids derived from them must not repeat.
    static func inputPosition(of message: KafkaConsumerMessage, epoch: Int32) -> String {
        "\(message.topic).\(message.partition).\(message.offset)" + (epoch > 0 ? "@\(epoch)" : "")
    }

    /// For inputs that are not Kafka messages (the heartbeat sweeper's): `position` must be unique per input.
    mutating func beginInput(position: String) {
        inputPosition = position
        ordinal = 0
        inputTrace = nil
    }

    /// Adds what a decision wants published, in order.
    ///
    /// - Returns: The coordination log entries among the emissions, for the caller to store.
    mutating func add(
        _ emissions: [Emission],
        task: String,
        stored: inout StoredSpecTask?,
        correlationID: String
    ) -> [CoordinationEntry] {
        var coordination: [CoordinationEntry] = []
        if let inputTrace { progressParents[task] = inputTrace }
        for emission in emissions {
            switch emission {
            case .status(let event): status(event, task: task, stored: &stored, correlationID: correlationID)
            case .zed(let command): zed(command, task: task, correlationID: correlationID)
            case .coordination(let entry): coordination.append(entry)
            }
        }
        return coordination
    }

    private mutating func nextEventID() -> String {
        ordinal += 1
        return "\(inputPosition).\(ordinal)"
    }

    /// A status event of a task; it takes the task's next sequence number (0 when the task does not exist,
    /// which only happens for outcomes of commands rejected for that very reason).
    mutating func status(_ event: StatusEvent, task: String, stored: inout StoredSpecTask?, correlationID: String) {
        let sequence: Int64
        if stored != nil {
            sequence = stored!.nextSequence
            stored!.nextSequence += 1
        } else {
            sequence = 0
        }
        let eventID = nextEventID()
        let trace = tracing.output(of: inputTrace, eventID: eventID, type: event.type)
        let payload = EventEncoder.status(
            event,
            specTaskID: task,
            sequence: sequence,
            eventID: eventID,
            time: time,
            correlationID: correlationID,
            trace: trace
        )
        messages.append(
            OutboxMessage(
                topic: topics.status,
                key: task,
                payload: payload,
                headers: Self.headers(id: eventID, type: event.type, subject: task, trace: trace)
            )
        )
    }

    /// The outcome of a command that was not applied, on its spec task's status (`stored` is `nil` when the task
    /// does not exist).
    mutating func commandRejected(_ outcome: CommandOutcome, task: String, stored: inout StoredSpecTask?) {
        status(.commandRejected(outcome), task: task, stored: &stored, correlationID: outcome.commandID)
    }

    mutating func zed(_ command: ZedCommand, task: String, correlationID: String) {
        let eventID = nextEventID()
        let trace = tracing.output(of: inputTrace, eventID: eventID, type: command.type)
        let payload = EventEncoder.zedCommand(
            command,
            specTaskID: task,
            eventID: eventID,
            time: time,
            correlationID: correlationID,
            trace: trace
        )
        messages.append(
            OutboxMessage(
                topic: topics.zedCommands,
                key: command.instanceID,
                payload: payload,
                task: task,
                headers: Self.headers(id: eventID, type: command.type, subject: task, trace: trace)
            )
        )
    }

    mutating func progress(_ stored: StoredSpecTask) {
        let state = stored.state
        let snapshot = ProgressCalculator.snapshot(
            for: state.task,
            implementationTasks: state.implementationTasks,
            workSessions: state.workSessions,
            zedThreads: state.zedThreads,
            threadProgress: state.threadProgress
        )
        let eventID = "\(inputPosition).progress.\(state.task.id)"
        let trace = tracing.output(
            of: progressParents[state.task.id],
            eventID: eventID,
            type: EventEncoder.progressType
        )
        let payload = EventEncoder.progress(
            snapshot,
            sequence: stored.nextSequence - 1,
            eventID: eventID,
            time: time,
            trace: trace
        )
        messages.append(
            OutboxMessage(
                topic: topics.progress,
                key: state.task.id,
                payload: payload,
                headers: Self.headers(
                    id: eventID,
                    type: EventEncoder.progressType,
                    subject: state.task.id,
                    trace: trace
                )
            )
        )
    }

    /// The record of an input that could not be applied, with its original bytes and where it came from.
    mutating func reject(
        _ message: KafkaConsumerMessage,
        code: String,
        reason: String,
        eventID: String?,
        specTaskID: String?,
        epoch: Int32
    ) {
        // A runner's token is a credential: whoever reads spectask.rejected must not be able to replay it.
        let isZedEvent = message.topic == topics.zedEvents
        let headers = message.domainHeaders
        let record = RejectedRecord(
            original: isZedEvent ? RunnerTokenRedaction.redact(message.value) : message.value,
            headers: isZedEvent ? RunnerTokenRedaction.redact(headers) : headers,
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
            key: message.key.map { String(decoding: $0.prefix(RejectedRecord.maxKeyBytes), as: UTF8.self) },
            code: code,
            reason: reason,
            eventID: eventID,
            specTaskID: specTaskID
        )
        let eventID = "\(Self.inputPosition(of: message, epoch: epoch)).rejected"
        let trace = tracing.output(of: inputTrace, eventID: eventID, type: EventEncoder.rejectedType)
        let payload = EventEncoder.rejected(record, eventID: eventID, time: time, trace: trace)
        messages.append(
            OutboxMessage(
                topic: topics.rejected,
                key: record.specTaskID,
                payload: payload,
                headers: Self.headers(
                    id: eventID,
                    type: EventEncoder.rejectedType,
                    subject: record.specTaskID,
                    trace: trace
                )
            )
        )
    }

    /// The CloudEvents Kafka binding's headers of an output: written with the row, so the relay publishes them
    /// without parsing the payload.
    private static func headers(id: String, type: String, subject: String?, trace: TraceContext?) -> [MessageHeader] {
        KafkaBinding.structuredHeaders(id: id, source: EventEncoder.source, type: type, subject: subject, trace: trace)
    }
}
