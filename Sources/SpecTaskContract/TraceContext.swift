import Crypto
import SpecTaskDomain

/// The W3C Trace Context of a message: its `traceparent` (trace id, span id, flags) and `tracestate`.
///
/// An input carries it as a Kafka header, `traceparent` (the protocol's own, what OpenTelemetry's Kafka
/// instrumentations write), or as the CloudEvents distributed-tracing extension: the `traceparent` attribute of a
/// structured event, the `ce_traceparent` header in binary mode. Every output the input causes carries a child
/// context (``child(for:)``): the same trace id, a span id of its own.
///
/// Trace context is advisory: a value that is not a valid version-00 `traceparent` (see ``init(traceparent:tracestate:)``)
/// is ignored, the input is applied as if it had none and its outputs carry none (the worker starts no trace of
/// its own), and nothing about it ever rejects an input.
public struct TraceContext: Sendable, Hashable {
    /// The header (and CloudEvents extension attribute) holding the trace id, span id and flags.
    public static let traceparentName = "traceparent"
    /// The header (and CloudEvents extension attribute) holding vendor-specific trace data.
    public static let tracestateName = "tracestate"
    /// A longer `tracestate` is dropped (the W3C limit on what must be propagated); the `traceparent` is kept.
    public static let maxTracestateLength = 512
    /// A `tracestate` with more list members is dropped (the W3C limit).
    public static let maxTracestateMembers = 32

    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: the span that sent the message (the `parent-id` field).
    public let spanID: String
    /// The trace flags; only the defined ones are kept (`sampled` 0x01 and `random` 0x02).
    public let flags: UInt8
    /// The `tracestate` list, passed on as it came, when it is acceptable (see ``maxTracestateLength``).
    public let tracestate: String?

    /// Reads a `traceparent` (and its `tracestate`) strictly, per W3C Trace Context; `nil` when it is not valid:
    /// longer than 55 characters for version 00 (extra fields), a version that is not two lowercase hex digits or
    /// is `ff`, fields of the wrong length or not lowercase hex (uppercase included), an all-zero trace id or span
    /// id. A later version is read as version 00 where it may carry more fields after a `-` (as the
    /// specification asks), and is passed on as version 00. A `tracestate` that is too long, has too many members or
    /// holds characters other than printable ASCII is dropped on its own.
    public init?(traceparent: String, tracestate: String? = nil) {
        let bytes = Array(traceparent.utf8.prefix(Self.maxTraceparentLength + 1))
        let dash = UInt8(ascii: "-")
        guard bytes.count >= 55, bytes.count <= Self.maxTraceparentLength,
            bytes[2] == dash, bytes[35] == dash, bytes[52] == dash
        else { return nil }
        let version = bytes[0..<2]
        let traceID = bytes[3..<35]
        let spanID = bytes[36..<52]
        let flags = bytes[53..<55]
        guard Self.isLowercaseHex(version), version.elementsEqual("ff".utf8) == false,
            Self.isLowercaseHex(traceID), Self.isLowercaseHex(spanID), Self.isLowercaseHex(flags),
            !Self.isAllZero(traceID), !Self.isAllZero(spanID)
        else { return nil }
        if bytes.count > 55 {
            guard !version.elementsEqual("00".utf8), bytes[55] == dash else { return nil }
        }
        self.traceID = String(decoding: traceID, as: UTF8.self)
        self.spanID = String(decoding: spanID, as: UTF8.self)
        self.flags = (Self.hexValue(flags.first!) << 4 | Self.hexValue(flags.last!)) & Self.knownFlags
        self.tracestate = tracestate.flatMap(Self.acceptableTracestate)
    }

    /// A context from its parts, which must already be valid (e.g. a child's).
    init(traceID: String, spanID: String, flags: UInt8, tracestate: String?) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.tracestate = tracestate
    }

    /// The `traceparent` value: always version 00.
    public var traceparent: String {
        "00-\(traceID)-\(spanID)-" + (flags < 16 ? "0" : "") + String(flags, radix: 16)
    }

    /// Whether the sender recorded its span (the `sampled` flag).
    public var isSampled: Bool { flags & 0x01 != 0 }

    /// The context of an output caused by the input with this context: the same trace id, flags and `tracestate`,
    /// and a span id of its own, derived from this span id and the output's event id. An output is a child of the
    /// input: the same input applied again yields the same outputs, with the same span ids, and the outputs of one
    /// input have different ones.
    ///
    /// - Parameter outputID: The CloudEvent `id` of the output, unique per output.
    public func child(for outputID: String) -> TraceContext {
        var hasher = SHA256()
        hasher.update(data: Array("\(traceID)-\(spanID)-\(outputID)".utf8))
        var span = Array(hasher.finalize().prefix(8))
        if span.allSatisfy({ $0 == 0 }) { span[7] = 1 }
        return TraceContext(traceID: traceID, spanID: Self.hex(span), flags: flags, tracestate: tracestate)
    }

    /// A child with the span id `spanID`, e.g. one a tracer chose; `nil` unless it is 16 lowercase hex digits, not
    /// all zero.
    public func child(spanID: String) -> TraceContext? {
        let bytes = Array(spanID.utf8)
        guard bytes.count == 16, Self.isLowercaseHex(bytes[...]), !Self.isAllZero(bytes[...]) else { return nil }
        return TraceContext(traceID: traceID, spanID: spanID, flags: flags, tracestate: tracestate)
    }

    /// The headers that carry this context on a Kafka record: `traceparent`, and `tracestate` when there is one.
    public var headers: [MessageHeader] {
        var headers = [MessageHeader(key: Self.traceparentName, text: traceparent)]
        if let tracestate { headers.append(MessageHeader(key: Self.tracestateName, text: tracestate)) }
        return headers
    }

    // MARK: - Reading

    /// The trace context in a message's Kafka headers, or `nil`: the `traceparent` header when it is valid (the
    /// protocol's own, which describes the last hop), else `ce_traceparent` (the CloudEvents extension in binary
    /// mode). Each `traceparent` goes with the `tracestate` beside it. A header that appears more than once is not
    /// read.
    public static func extract(headers: [MessageHeader]) -> TraceContext? {
        guard headers.contains(where: { isTraceHeader($0.key) }) else { return nil }
        return fromHeaders(headers, prefix: "") ?? fromHeaders(headers, prefix: KafkaBinding.attributeHeaderPrefix)
    }

    /// The CloudEvents distributed-tracing extension of a structured event: its `traceparent` and `tracestate`
    /// attributes; `nil` when there is no valid one.
    public static func extract(attributes: [String: JSONValue]) -> TraceContext? {
        guard case .string(let traceparent) = attributes[traceparentName] else { return nil }
        let tracestate: String? = if case .string(let state) = attributes[tracestateName] { state } else { nil }
        return TraceContext(traceparent: traceparent, tracestate: tracestate)
    }

    /// Whether a header carries trace context (`traceparent`, `tracestate` or their `ce_` forms): such headers are
    /// read only here, never as CloudEvent attributes the binding checks.
    static func isTraceHeader(_ key: String) -> Bool {
        let name = key.hasPrefix(KafkaBinding.attributeHeaderPrefix) ? key.dropFirst(3) : Substring(key)
        return name == traceparentName || name == tracestateName
    }

    private static func fromHeaders(_ headers: [MessageHeader], prefix: String) -> TraceContext? {
        var traceparent: MessageHeader?
        var tracestate: MessageHeader?
        var repeated = false
        for header in headers where header.key.hasPrefix(prefix) && isTraceHeader(header.key) {
            let name = header.key.dropFirst(prefix.count)
            if name == traceparentName {
                repeated = repeated || traceparent != nil
                traceparent = header
            } else if name == tracestateName {
                repeated = repeated || tracestate != nil
                tracestate = header
            }
        }
        guard !repeated, let value = traceparent?.value, value.count <= maxTraceparentLength,
            let text = String(validating: value, as: UTF8.self)
        else { return nil }
        let state = tracestate?.value.flatMap { $0.count <= maxTracestateLength ? $0 : nil }
        return TraceContext(traceparent: text, tracestate: state.flatMap { String(validating: $0, as: UTF8.self) })
    }

    // MARK: - Format

    /// Longest `traceparent` read (a later version may add fields; version 00 is exactly 55 characters).
    static let maxTraceparentLength = 256
    /// `sampled` and `random`: the flags W3C Trace Context defines; the others must be passed on as zero.
    static let knownFlags: UInt8 = 0x03

    private static func acceptableTracestate(_ state: String) -> String? {
        guard !state.isEmpty, state.utf8.count <= maxTracestateLength,
            state.utf8.allSatisfy({ (0x20...0x7E).contains($0) }),
            state.utf8.lazy.filter({ $0 == UInt8(ascii: ",") }).count < maxTracestateMembers
        else { return nil }
        return state
    }

    private static func isLowercaseHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func isAllZero(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: "0") }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8 {
        byte <= 0x39 ? byte - 0x30 : byte - 0x61 + 10
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
