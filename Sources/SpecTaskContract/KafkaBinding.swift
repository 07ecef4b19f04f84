import SpecTaskDomain

/// The CloudEvents Kafka protocol binding: how an event sits in a Kafka record.
///
/// In *structured* mode the whole event is JSON in the record's value; in *binary* mode the value is the event's
/// `data`, every other attribute is a header named `ce_<attribute>`, and `datacontenttype` is the `content-type`
/// header. The worker writes structured mode, with `content-type` ``structuredContentType`` and copies of the
/// routing attributes as `ce_` headers (the binding allows them, so a router can pick records without parsing
/// them). It reads both modes, deciding by the headers:
///
/// 1. `content-type` starting with `application/cloudevents` (any case): structured, whatever `ce_` headers say
///    (the binding decides by `content-type`). Only the JSON format (`application/cloudevents+json`) is read, and
///    any `ce_` header must repeat the event's own attribute: two different answers to "what is this record" are
///    refused rather than one of them silently winning.
/// 2. Otherwise, any `ce_` header: binary.
/// 3. Otherwise: structured. The binding would say binary, but a record without a single `ce_` header carries no
///    attributes to read, and every sender before this binding put the whole event in the value.
///
/// Trace context (`traceparent` and `tracestate`, as headers of their own or as `ce_` headers) decides nothing here:
/// ``TraceContext`` reads it, and ignores it unless it is valid.
///
/// The Kafka key is the spec task id (or the Zed instance id). The worker does not write the optional `partitionkey`
/// extension the binding maps keys to; on an input it is an extension like any other.
public enum KafkaBinding {
    /// The header that names the media type: the event format in structured mode, `datacontenttype` in binary mode.
    public static let contentTypeHeader = "content-type"
    /// Binary mode's attribute headers: `ce_id`, `ce_type`, …
    public static let attributeHeaderPrefix = "ce_"
    /// The `type` attribute's header on every record the worker writes: a reader can tell what a record is without
    /// parsing it.
    public static let typeHeader = attributeHeaderPrefix + "type"
    /// The `content-type` of every record the worker writes.
    public static let structuredContentType = "application/cloudevents+json; charset=utf-8"

    // MARK: - Writing

    /// The headers of a structured-mode record: its `content-type` and the attributes a router needs.
    ///
    /// - Returns: `content-type`, `ce_specversion`, `ce_id`, `ce_source`, `ce_type` and, when there is one,
    ///   `ce_subject`, in that order; then `traceparent` and `tracestate` when the record has a trace context.
    public static func structuredHeaders(
        id: String,
        source: String,
        type: String,
        subject: String?,
        trace: TraceContext? = nil
    ) -> [MessageHeader] {
        var headers = [
            MessageHeader(key: contentTypeHeader, text: structuredContentType),
            MessageHeader(key: attributeHeaderPrefix + "specversion", text: CloudEvent.specVersion),
            MessageHeader(key: attributeHeaderPrefix + "id", text: id),
            MessageHeader(key: attributeHeaderPrefix + "source", text: source),
            MessageHeader(key: typeHeader, text: type),
        ]
        if let subject { headers.append(MessageHeader(key: attributeHeaderPrefix + "subject", text: subject)) }
        if let trace { headers += trace.headers }
        return headers
    }

    /// The headers of a structured-mode record holding `event`.
    public static func structuredHeaders(of event: CloudEvent) -> [MessageHeader] {
        structuredHeaders(
            id: event.id,
            source: event.source,
            type: event.type,
            subject: event.subject,
            trace: event.traceparent.flatMap { TraceContext(traceparent: $0, tracestate: event.tracestate) }
        )
    }

    /// The headers of a structured-mode record whose value is `value`, read from the value itself; none when it
    /// is not a CloudEvent. For outbox rows written without their headers (see the relay): slower than
    /// ``structuredHeaders(id:source:type:subject:)``, which needs no parsing.
    public static func structuredHeaders(ofEncoded value: [UInt8]) -> [MessageHeader] {
        guard let event = try? MessageJSON.decode(CloudEvent.self, from: value) else { return [] }
        return structuredHeaders(of: event)
    }

    // MARK: - Reading

    /// How a record carries its event.
    enum ContentMode: Hashable {
        case structured
        case binary
    }

    /// The content mode of a record with these headers (see the type's documentation for the rules).
    ///
    /// - Throws: ``InputRejection`` when `content-type` is repeated, not UTF-8, or names an event format other than
    ///   JSON (a batch, Avro, …).
    static func contentMode(of headers: [MessageHeader]) throws(InputRejection) -> ContentMode {
        let contentTypes = headers.filter { $0.key.lowercased() == contentTypeHeader }
        if contentTypes.count > 1 {
            throw InputRejection(
                .notACloudEvent,
                "the content-type header appears \(contentTypes.count) times; a record has one media type"
            )
        }
        if let header = contentTypes.first {
            guard let contentType = header.text else {
                throw InputRejection(.notACloudEvent, "the content-type header is not UTF-8 text")
            }
            let mediaType = Self.mediaType(contentType)
            if mediaType.hasPrefix("application/cloudevents") {
                guard mediaType == "application/cloudevents+json" else {
                    throw InputRejection(
                        .schemaViolation,
                        "content-type \(MessageText.quoted(contentType)) names an event format this worker does not "
                            + "read; send one event per record, as application/cloudevents+json (structured mode) or "
                            + "with ce_ headers and the data as the value (binary mode)"
                    )
                }
                return .structured
            }
        }
        let isBinary = headers.contains {
            $0.key.hasPrefix(attributeHeaderPrefix) && !TraceContext.isTraceHeader($0.key)
        }
        return isBinary ? .binary : .structured
    }

    /// The media type of a `content-type` value, lowercased, without parameters or spaces around it.
    private static func mediaType(_ contentType: String) -> String {
        let head = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return head.trimmingSpaces().lowercased()
    }

    /// The attributes of a binary-mode record, with its value parsed as `data`, as a structured event would have
    /// them; and the first problem found, which the caller reports with the id and subject that could be read.
    static func binaryAttributes(
        headers: [MessageHeader],
        value: [UInt8]
    ) -> (attributes: [String: JSONValue], problem: InputRejection?) {
        var attributes: [String: JSONValue] = [:]
        var problem: InputRejection?
        func note(_ code: InputRejection.Code, _ message: String) {
            if problem == nil { problem = InputRejection(code, message) }
        }
        var seen: [String: Int] = [:]
        for header in headers {
            let isContentType = header.key.lowercased() == contentTypeHeader
            // `ce_traceparent` and `ce_tracestate` are read by `TraceContext`, and ignored unless valid.
            guard isContentType || header.key.hasPrefix(attributeHeaderPrefix), !TraceContext.isTraceHeader(header.key)
            else { continue }
            seen[header.key, default: 0] += 1
            let name = isContentType ? "datacontenttype" : String(header.key.dropFirst(attributeHeaderPrefix.count))
            guard header.value != nil else {
                attributes[name] = .null
                continue
            }
            guard let text = header.text else {
                note(
                    .notACloudEvent,
                    "header \(MessageText.quoted(header.key)) is not valid UTF-8; the binding requires UTF-8 text"
                )
                continue
            }
            attributes[name] = .string(text)
            if !isContentType, ["data", "data_base64", "datacontenttype"].contains(name) {
                note(
                    .schemaViolation,
                    "header \(MessageText.quoted(header.key)) is not allowed in binary mode: the data is the record's "
                        + "value and its media type the content-type header"
                )
            }
        }
        for (key, count) in seen.sorted(by: { $0.key < $1.key }) where count > 1 {
            note(
                .notACloudEvent,
                "header \(MessageText.quoted(key)) appears \(count) times; each attribute is one header"
            )
        }
        if case .string(let contentType) = attributes["datacontenttype"], !CommandDecoder.isJSONMediaType(contentType) {
            note(
                .schemaViolation,
                "content-type \(MessageText.quoted(contentType)) is not JSON: in binary mode the content-type header "
                    + "is the media type of the value, and the data of every input is a JSON object (application/json)"
            )
        }
        guard problem == nil, !value.isEmpty else { return (attributes, problem) }
        do {
            let data = try StrictJSONParser.parse(value)
            if case .object(let members) = data, members["specversion"] != nil {
                note(
                    .schemaViolation,
                    "the value looks like a whole structured event, but the record has ce_ headers and no "
                        + "application/cloudevents content-type, so it is read in binary mode, where the value is "
                        + "the data alone; send a structured event with content-type application/cloudevents+json "
                        + "(or without ce_ headers)"
                )
            }
            attributes["data"] = data
        } catch {
            note(.malformedJSON, "the value (the data, in binary mode) is not valid JSON: \(error.message)")
        }
        return (attributes, problem)
    }

    /// In structured mode, a `ce_` header that does not repeat the event's attribute, as a rejection; else `nil`.
    static func disagreement(headers: [MessageHeader], attributes: [String: JSONValue]) -> InputRejection? {
        for header in headers
        where header.key.hasPrefix(attributeHeaderPrefix) && !TraceContext.isTraceHeader(header.key) {
            let name = String(header.key.dropFirst(attributeHeaderPrefix.count))
            let own: String? =
                switch attributes[name] {
                case .string(let text): text
                case .number, .bool: attributes[name].map { String(decoding: MessageJSON.encode($0), as: UTF8.self) }
                default: nil
                }
            guard let own else {
                return InputRejection(
                    .schemaViolation,
                    "header \(MessageText.quoted(header.key)) names an attribute the structured event does not have; "
                        + "in structured mode ce_ headers may only repeat the event's own attributes"
                )
            }
            guard header.text == own else {
                return InputRejection(
                    .schemaViolation,
                    "header \(MessageText.quoted(header.key)) "
                        + "\(header.text.map(MessageText.quoted) ?? "without a UTF-8 value") disagrees with the structured "
                        + "event's \(name) \(MessageText.quoted(own)); in structured mode ce_ headers may only repeat "
                        + "the event's own attributes"
                )
            }
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.hasSuffix(" ") { result = result.dropLast() }
        while result.hasPrefix(" ") { result = result.dropFirst() }
        return result
    }
}
