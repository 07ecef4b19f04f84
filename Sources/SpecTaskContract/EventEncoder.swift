import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes the worker's output messages as CloudEvents 1.0 structured JSON (sorted keys, RFC 3339 dates).
///
/// Every output has `source` ``source``, `subject` = the spec task id (when known), `datacontenttype`
/// "application/json" and the payload struct as `data`; `topics/schemas/<type>.schema.json` describes each.
public enum EventEncoder {
    /// The `source` of everything the worker publishes.
    public static let source = "spectask-worker"
    /// The `type` of the snapshots on `spectask.progress`.
    public static let progressType = "spectask.progress.snapshot"
    /// The `type` of the records on `spectask.rejected`.
    public static let rejectedType = "spectask.rejected.input"
    static let dataContentType = "application/json"

    /// A `spectask.status` event.
    ///
    /// - Parameters:
    ///   - event: The change or command outcome; its ``StatusEvent/type`` is the CloudEvent type.
    ///   - specTaskID: The subject.
    ///   - sequence: The gap-free per-task sequence number (extension `spectasksequence`).
    ///   - eventID: The id of this output message.
    ///   - time: When the change happened.
    ///   - correlationID: The id of the input that caused it (extension `correlationid`).
    ///   - trace: Its trace context (extensions `traceparent` and `tracestate`), a child of the input's.
    /// - Returns: The message value.
    public static func status(
        _ event: StatusEvent,
        specTaskID: String,
        sequence: Int64,
        eventID: String,
        time: Date,
        correlationID: String?,
        trace: TraceContext? = nil
    ) -> [UInt8] {
        output(
            id: eventID,
            type: event.type,
            subject: specTaskID,
            time: time,
            correlationID: correlationID,
            sequence: sequence,
            trace: trace,
            payload: event.payload
        )
    }

    /// A `zed.commands` instruction to a Zed runner.
    ///
    /// - Parameters:
    ///   - command: The instruction; its ``ZedCommand/type`` is the CloudEvent type.
    ///   - specTaskID: The subject.
    ///   - eventID: The id of this output message.
    ///   - time: When it was decided.
    ///   - correlationID: The id of the input that caused it.
    ///   - trace: Its trace context, a child of the input's.
    /// - Returns: The message value (key it with ``ZedCommand/instanceID``).
    public static func zedCommand(
        _ command: ZedCommand,
        specTaskID: String,
        eventID: String,
        time: Date,
        correlationID: String?,
        trace: TraceContext? = nil
    ) -> [UInt8] {
        output(
            id: eventID,
            type: command.type,
            subject: specTaskID,
            time: time,
            correlationID: correlationID,
            trace: trace,
            payload: command.payload
        )
    }

    /// A `spectask.progress` snapshot (type ``progressType``).
    ///
    /// - Parameters:
    ///   - snapshot: The progress; its spec task id is the subject.
    ///   - sequence: The status sequence number the snapshot reflects (extension `spectasksequence`), so readers can
    ///     order snapshots.
    ///   - eventID: The id of this output message.
    ///   - time: When it was computed.
    ///   - trace: Its trace context, a child of the last input with one that changed the spec task.
    /// - Returns: The message value.
    public static func progress(
        _ snapshot: ProgressSnapshot,
        sequence: Int64,
        eventID: String,
        time: Date,
        trace: TraceContext? = nil
    ) -> [UInt8] {
        output(
            id: eventID,
            type: progressType,
            subject: snapshot.specTaskID,
            time: time,
            sequence: sequence,
            trace: trace,
            payload: snapshot
        )
    }

    /// A `spectask.rejected` record (type ``rejectedType``); the subject is the record's spec task id, if any.
    ///
    /// - Parameters:
    ///   - record: What was rejected and why.
    ///   - eventID: The id of this output message.
    ///   - time: When it was rejected.
    ///   - trace: Its trace context, a child of the rejected input's.
    /// - Returns: The message value.
    public static func rejected(
        _ record: RejectedRecord,
        eventID: String,
        time: Date,
        trace: TraceContext? = nil
    ) -> [UInt8] {
        output(
            id: eventID,
            type: rejectedType,
            subject: record.specTaskID,
            time: time,
            correlationID: record.eventID,
            trace: trace,
            payload: record
        )
    }

    /// One of this worker's outputs: its attributes (source and content type are always the worker's) and payload.
    private static func output(
        id: String,
        type: String,
        subject: String?,
        time: Date,
        correlationID: String? = nil,
        sequence: Int64? = nil,
        trace: TraceContext?,
        payload: some Encodable
    ) -> [UInt8] {
        encode(
            CloudEvent(
                id: id,
                source: source,
                type: type,
                subject: subject,
                time: RFC3339.string(from: time),
                datacontenttype: dataContentType,
                correlationid: correlationID,
                spectasksequence: sequence,
                trace: trace
            ),
            payload: payload
        )
    }

    static func encode(_ attributes: CloudEvent, payload: some Encodable) -> [UInt8] {
        MessageJSON.encode(TypedCloudEvent(attributes: attributes, payload: payload))
    }
}
