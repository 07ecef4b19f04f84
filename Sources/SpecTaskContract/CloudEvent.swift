import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A CloudEvents 1.0 event in the structured JSON format: every message this system writes, and every input it
/// reads in structured mode (binary-mode inputs are read by ``CommandDecoder`` from Kafka headers, see
/// ``KafkaBinding``).
///
/// Property names are the CloudEvents attribute names, so the Swift value and the JSON read the same.
/// Encoding leaves out absent attributes; ``jsonBytes()`` sorts the keys so equal events give equal bytes.
public struct CloudEvent: Codable, Sendable, Hashable {
    /// The only version this system reads and writes.
    public static let specVersion = "1.0"

    /// Always "1.0".
    public var specversion: String
    /// Unique per `source`; the idempotency key of the message.
    public var id: String
    /// Who produced the event, e.g. "spectask-worker".
    public var source: String
    /// What the event is, e.g. "spectask.command.create"; selects the schema of `data`.
    public var type: String
    /// The spec task id.
    public var subject: String?
    /// When the event happened, as an RFC 3339 timestamp (see ``RFC3339``).
    public var time: String?
    /// The media type of `data`; "application/json" when set by this system.
    public var datacontenttype: String?
    /// The payload.
    public var data: JSONValue?
    /// Extension: who asked for this (a user or service name).
    public var actor: String?
    /// Extension: the id of the message this one answers, e.g. the command an outcome is for.
    public var correlationid: String?
    /// Extension: the per-spec-task sequence number of an output event (gap-free on `spectask.status`).
    ///
    /// A private extension rather than the CloudEvents `sequence` extension: that one orders every event of a
    /// `source` and is a string compared character by character, while this number counts the events of one spec
    /// task (the `subject`), and readers check it for gaps by arithmetic.
    public var spectasksequence: Int64?
    /// Extension: the token a Zed runner puts on its events to prove which instance it speaks for.
    public var runnertoken: String?
    /// Distributed-tracing extension: the W3C `traceparent` of the event (see ``TraceContext``).
    public var traceparent: String?
    /// Distributed-tracing extension: the W3C `tracestate` that goes with ``traceparent``.
    public var tracestate: String?

    /// Creates an event; `specversion` is always ``specVersion``.
    public init(
        id: String,
        source: String,
        type: String,
        subject: String? = nil,
        time: String? = nil,
        datacontenttype: String? = nil,
        data: JSONValue? = nil,
        actor: String? = nil,
        correlationid: String? = nil,
        spectasksequence: Int64? = nil,
        runnertoken: String? = nil,
        trace: TraceContext? = nil
    ) {
        self.specversion = Self.specVersion
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.datacontenttype = datacontenttype
        self.data = data
        self.actor = actor
        self.correlationid = correlationid
        self.spectasksequence = spectasksequence
        self.runnertoken = runnertoken
        self.traceparent = trace?.traceparent
        self.tracestate = trace?.tracestate
    }

    /// The `time` attribute read as a date; `nil` when absent or not RFC 3339.
    public var date: Date? { time.flatMap(RFC3339.date(from:)) }

    /// The event as structured-mode JSON with sorted keys.
    public func jsonBytes() -> [UInt8] {
        MessageJSON.encode(self)
    }

    // MARK: - Coding

    enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, subject, time, datacontenttype, data
        case actor, correlationid, spectasksequence, runnertoken, traceparent, tracestate
    }

    public func encode(to encoder: any Encoder) throws {
        try encode(to: encoder, data: data)
    }

    /// Encodes the attributes of this event with `data` in place of its own, so a typed payload is written
    /// in one pass instead of through ``JSONValue``. Absent attributes are left out.
    ///
    /// In key order, as the worker's outputs are written (sorted keys): ``SortedJSONEncoder`` then writes the
    /// members as they come instead of moving every byte of the event, its `data` included, into order afterwards.
    func encode(to encoder: any Encoder, data: (some Encodable)?) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(actor, forKey: .actor)
        try container.encodeIfPresent(correlationid, forKey: .correlationid)
        try container.encodeIfPresent(data, forKey: .data)
        try container.encodeIfPresent(datacontenttype, forKey: .datacontenttype)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(runnertoken, forKey: .runnertoken)
        try container.encode(source, forKey: .source)
        try container.encodeIfPresent(spectasksequence, forKey: .spectasksequence)
        try container.encode(specversion, forKey: .specversion)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encodeIfPresent(time, forKey: .time)
        try container.encodeIfPresent(traceparent, forKey: .traceparent)
        try container.encodeIfPresent(tracestate, forKey: .tracestate)
        try container.encode(type, forKey: .type)
    }
}

/// A CloudEvent whose `data` is a payload struct rather than a ``JSONValue``.
struct TypedCloudEvent<Payload: Encodable>: Encodable {
    var attributes: CloudEvent
    var payload: Payload

    func encode(to encoder: any Encoder) throws {
        try attributes.encode(to: encoder, data: payload)
    }
}
