import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns the bytes of a `spectask.commands` message into an ``IncomingCommand``, or says precisely why not.
///
/// Everything is checked before anything is applied, in this order: the size (before parsing), the JSON
/// (strict, see `StrictJSONParser`), the required CloudEvent attributes `specversion`, `id`, `source` and
/// `type`, the `subject` (the spec task id), NUL characters anywhere (PostgreSQL can not store them), the
/// optional attributes, and the `data`, strictly: unknown members are refused (a typo must not be ignored
/// silently), and every type, enum value and length limit of the command's ``PayloadField``s is enforced.
/// A rejection carries the event id and subject when they could be read, so the worker can correlate it.
/// No input makes this trap.
public enum CommandDecoder {
    /// 256 KiB: far above any real command (specs are limited to 200,000 characters each).
    public static let defaultMaxBytes = 262_144
    /// Longest `id`.
    public static let maxEventIDLength = 200
    /// Longest `subject`; spec task ids are 1...128 of ASCII letters, digits, '.', '_', ':', '-'.
    public static let maxSubjectLength = 128
    /// Command ids may not start with this: the worker scopes Zed event ids to their instance with it.
    public static let reservedIDPrefix = "zed:"
    /// Longest `source`, `actor` and `runnertoken`.
    public static let maxAttributeLength = 500

    /// Decodes and validates one command or Zed event, in either content mode of the CloudEvents Kafka binding.
    ///
    /// A binary-mode message (see ``KafkaBinding`` for how the mode is chosen) is read as the structured event
    /// it stands for: each `ce_<name>` header is the string attribute `<name>`, `content-type` is `datacontenttype`
    /// and the value, parsed strictly, is `data`. Then the same checks apply, with the same codes.
    ///
    /// - Parameters:
    ///   - bytes: The Kafka message value.
    ///   - headers: The Kafka message headers.
    ///   - maxBytes: Larger messages (in binary mode: the value and the headers together) are rejected as
    ///     `oversize` without being parsed.
    ///   - appliedAt: The worker's clock, used as ``IncomingCommand/time`` (the event's own `time` is only
    ///     checked for form).
    ///   - family: Which topic the bytes came from: commands (`spectask.command.*`) or Zed events (`zed.event.*`);
    ///     an input of the other family is an unknown type here. A Zed event's `runnertoken` is read but not
    ///     checked: only the worker knows the secret (a missing one is rejected there as `unauthenticated`).
    /// - Returns: The input, or the ``InputRejection`` to publish on `spectask.rejected`.
    public static func decode(
        _ bytes: [UInt8],
        headers: [MessageHeader] = [],
        maxBytes: Int = defaultMaxBytes,
        appliedAt: Date,
        family: InputFamily = .commands
    ) -> Result<IncomingCommand, InputRejection> {
        decodeTraced(bytes, headers: headers, maxBytes: maxBytes, appliedAt: appliedAt, family: family).result
    }

    /// ``decode(_:headers:maxBytes:appliedAt:family:)`` and the message's trace context (see ``TraceContext``),
    /// found without parsing anything twice. A rejected message has one too, when it could be read: its outcome and
    /// its record on `spectask.rejected` carry it on.
    public static func decodeTraced(
        _ bytes: [UInt8],
        headers: [MessageHeader] = [],
        maxBytes: Int = defaultMaxBytes,
        appliedAt: Date,
        family: InputFamily = .commands
    ) -> (result: Result<IncomingCommand, InputRejection>, trace: TraceContext?) {
        var trace = TraceContext.extract(headers: headers)
        let result = Result { () throws(InputRejection) in
            try decodeThrowing(
                bytes,
                headers: headers,
                maxBytes: maxBytes,
                appliedAt: appliedAt,
                family: family,
                trace: &trace
            )
        }
        return (result, trace)
    }

    /// The two kinds of input topic.
    public enum InputFamily: Sendable, Hashable {
        /// `spectask.commands`: `spectask.command.<name>`.
        case commands
        /// `zed.events`: `zed.event.<name>`, each with a `runnertoken`.
        case zedEvents

        var typePrefix: String {
            switch self {
            case .commands: SpecTaskCommand.typePrefix
            case .zedEvents: ZedEvent.typePrefix
            }
        }

        var names: [String] {
            switch self {
            case .commands: SpecTaskCommand.names
            case .zedEvents: ZedEvent.names
            }
        }
    }

    private static func decodeThrowing(
        _ bytes: [UInt8],
        headers: [MessageHeader],
        maxBytes: Int,
        appliedAt: Date,
        family: InputFamily,
        trace: inout TraceContext?
    ) throws(InputRejection) -> IncomingCommand {
        if try KafkaBinding.contentMode(of: headers) == .binary {
            // Trace headers are read only when valid, so a huge one is ignored rather than making the input oversize.
            let size = headers.reduce(bytes.count) {
                TraceContext.isTraceHeader($1.key) ? $0 : $0 + $1.key.utf8.count + ($1.value?.count ?? 0)
            }
            guard size <= maxBytes else {
                throw InputRejection(
                    .oversize,
                    "message of \(size) bytes (value and headers) exceeds the \(maxBytes)-byte limit"
                )
            }
            let (attributes, problem) = KafkaBinding.binaryAttributes(headers: headers, value: bytes)
            let envelope = Envelope(attributes, binary: true)
            if let problem { throw envelope.reject(problem.code, problem.message) }
            return try envelope.command(appliedAt: appliedAt, family: family)
        }
        guard bytes.count <= maxBytes else {
            throw InputRejection(.oversize, "message of \(bytes.count) bytes exceeds the \(maxBytes)-byte limit")
        }
        let root: JSONValue
        do {
            root = try StrictJSONParser.parse(bytes)
        } catch {
            throw InputRejection(.malformedJSON, "message is not valid JSON: \(error.message)")
        }
        guard case .object(let attributes) = root else {
            throw InputRejection(
                .notACloudEvent,
                "message is a JSON \(MessageText.typeName(of: root)), not a CloudEvent (a JSON object)"
            )
        }
        if trace == nil { trace = TraceContext.extract(attributes: attributes) }
        let envelope = Envelope(attributes, binary: false)
        if let problem = KafkaBinding.disagreement(headers: headers, attributes: attributes) {
            throw envelope.reject(problem.code, problem.message)
        }
        return try envelope.command(appliedAt: appliedAt, family: family)
    }
}

// MARK: - Envelope

/// The attributes of one message, read with the event id and subject at hand for every rejection.
extension CommandDecoder {
    /// What is wrong with a spec task id (or any id a command may name), or `nil`. The one rule for ids:
    /// the read API checks its path parameters with it too.
    public static func subjectProblem(_ subject: String) -> String? {
        Envelope.subjectProblem(subject)
    }

    /// `application/json` or `application/<x>+json`, parameters allowed (the schema's
    /// `^application/([a-z0-9.+-]+\+)?json *(;.*)?$`).
    static func isJSONMediaType(_ contentType: String) -> Bool {
        if contentType == "application/json" { return true }  // nearly every message's
        var mediaType = Substring(contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0])
        while mediaType.hasSuffix(" ") { mediaType = mediaType.dropLast() }
        guard mediaType.hasPrefix("application/"), mediaType.hasSuffix("json") else { return false }
        let subtype = mediaType.dropFirst("application/".count).dropLast("json".count)
        guard !subtype.isEmpty else { return true }
        return subtype.count > 1 && subtype.hasSuffix("+")
            && subtype.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            }
    }
}

private struct Envelope {
    let attributes: [String: JSONValue]
    /// The `id`, when it is a usable one.
    let eventID: String?
    /// The `subject`, when it is a valid spec task id.
    let subject: String?

    /// Read from Kafka headers (binary mode): rejections name the header of a missing attribute.
    let binary: Bool

    static let knownAttributes: Set<String> = [
        "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data",
        "actor", "correlationid", "runnertoken",
        // Read by `TraceContext` and ignored unless valid: trace context never rejects an input.
        TraceContext.traceparentName, TraceContext.tracestateName,
    ]

    init(_ attributes: [String: JSONValue], binary: Bool) {
        self.attributes = attributes
        self.binary = binary
        if case .string(let id) = attributes["id"],
            (1...CommandDecoder.maxEventIDLength).contains(id.unicodeScalars.count),
            !id.unicodeScalars.contains("\0")
        {
            eventID = id
        } else {
            eventID = nil
        }
        if case .string(let subject) = attributes["subject"], Self.subjectProblem(subject) == nil {
            self.subject = subject
        } else {
            subject = nil
        }
    }

    func reject(_ code: InputRejection.Code, _ message: String) -> InputRejection {
        let type: String? = if case .string(let type) = attributes["type"] { type } else { nil }
        return InputRejection(code, message, eventID: eventID, subject: subject, type: type)
    }

    func command(appliedAt: Date, family: CommandDecoder.InputFamily) throws(InputRejection) -> IncomingCommand {
        let specversion = try requiredString("specversion")
        guard specversion == CloudEvent.specVersion else {
            throw reject(
                .unsupportedSpecVersion,
                "specversion \(MessageText.quoted(specversion)) is not supported; only '1.0' is"
            )
        }
        let id = try requiredString("id")
        try checkLength(id, of: "id", max: CommandDecoder.maxEventIDLength)
        if family == .commands, id.hasPrefix(CommandDecoder.reservedIDPrefix) {
            throw reject(
                .schemaViolation,
                "command ids may not start with '\(CommandDecoder.reservedIDPrefix)': it is reserved for Zed events"
            )
        }
        let source = try requiredString("source")
        try checkLength(source, of: "source", max: CommandDecoder.maxAttributeLength)
        let type = try requiredString("type")
        let shape = try commandShape(type, family: family)
        let subject = try validSubject()
        // PostgreSQL text and jsonb refuse U+0000 anywhere; finding it here keeps it from failing a transaction.
        if let path = Self.pathOfNUL(in: .object(attributesExceptTraceContext), at: "") {
            throw reject(.schemaViolation, "\(path) contains a NUL character (\\u0000), which can not be stored")
        }
        try checkOptionalAttributes()
        let actor = try optionalString("actor", max: CommandDecoder.maxAttributeLength)
        let runnerToken = try optionalString("runnertoken", max: CommandDecoder.maxAttributeLength)

        let data = try checkedData(for: shape, type: type)
        do {
            return IncomingCommand(
                id: id,
                specTaskID: subject,
                actor: actor,
                time: appliedAt,
                command: try shape.decode(data),
                runnerToken: runnerToken
            )
        } catch {
            // The fields were checked above, so this means the table and the payload struct disagree.
            throw reject(.schemaViolation, "data does not match \(type): \(DecodingFailure.describe(error))")
        }
    }

    // MARK: Attributes

    /// The attributes without `traceparent` and `tracestate`, which are ignored when not valid, NUL or not.
    private var attributesExceptTraceContext: [String: JSONValue] {
        guard attributes[TraceContext.traceparentName] != nil || attributes[TraceContext.tracestateName] != nil else {
            return attributes
        }
        return attributes.filter { $0.key != TraceContext.traceparentName && $0.key != TraceContext.tracestateName }
    }

    private func present(_ name: String) -> JSONValue? {
        switch attributes[name] {
        case .none, .null: nil
        case .some(let value): value
        }
    }

    private func requiredString(_ name: String) throws(InputRejection) -> String {
        guard let value = present(name) else {
            let header = binary ? " (header \(KafkaBinding.attributeHeaderPrefix)\(name) in binary mode)" : ""
            throw reject(.notACloudEvent, "missing required attribute '\(name)'\(header)")
        }
        guard case .string(let text) = value else {
            throw reject(
                .notACloudEvent,
                "attribute '\(name)' must be a string, got \(MessageText.typeName(of: value))"
            )
        }
        guard !text.isEmpty else { throw reject(.notACloudEvent, "attribute '\(name)' must not be empty") }
        return text
    }

    private func checkLength(_ text: String, of name: String, max: Int) throws(InputRejection) {
        let count = text.unicodeScalars.count
        guard count <= max else {
            throw reject(
                .schemaViolation,
                "attribute '\(name)' must be at most \(max) characters long, got \(count)"
            )
        }
    }

    private func optionalString(_ name: String, max: Int) throws(InputRejection) -> String? {
        guard let value = present(name) else { return nil }
        guard case .string(let text) = value else {
            throw reject(
                .schemaViolation,
                "attribute '\(name)' must be a string, got \(MessageText.typeName(of: value))"
            )
        }
        guard !text.isEmpty else { throw reject(.schemaViolation, "attribute '\(name)' must not be empty") }
        try checkLength(text, of: name, max: max)
        return text
    }

    private func commandShape(_ type: String, family: CommandDecoder.InputFamily) throws(InputRejection) -> CommandShape
    {
        guard type.hasPrefix(family.typePrefix), let shape = SpecTaskCommand.shapesByType[type] else {
            let known = family.names.sorted().map { family.typePrefix + $0 }
            let what = family == .commands ? "command" : "Zed event"
            throw reject(
                .unknownType,
                "unknown \(what) type \(MessageText.quoted(type)); known: \(known.joined(separator: ", "))"
            )
        }
        return shape
    }

    private func validSubject() throws(InputRejection) -> String {
        guard let value = present("subject") else {
            throw reject(
                .invalidSubject,
                "missing subject: a command needs the spec task id as its CloudEvent subject"
            )
        }
        guard case .string(let subject) = value else {
            throw reject(.invalidSubject, "subject must be a string, got \(MessageText.typeName(of: value))")
        }
        if let problem = Self.subjectProblem(subject) { throw reject(.invalidSubject, problem) }
        return subject
    }

    /// What is wrong with a spec task id, or `nil`.
    static func subjectProblem(_ subject: String) -> String? {
        let scalars = Array(subject.unicodeScalars)
        if scalars.isEmpty { return "subject must not be empty" }
        if scalars.count > CommandDecoder.maxSubjectLength {
            return "subject must be at most \(CommandDecoder.maxSubjectLength) characters long, got \(scalars.count)"
        }
        if let index = scalars.firstIndex(where: { !isSubjectCharacter($0) }) {
            return "subject \(MessageText.quoted(subject)) contains \(MessageText.quoted(String(scalars[index]))) "
                + "at position \(index + 1); only ASCII letters, digits, '.', '_', ':' and '-' are allowed"
        }
        return nil
    }

    private static func isSubjectCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", ":", "-": true
        default: false
        }
    }

    /// `time`, `datacontenttype`, the known extensions and any other extension attribute.
    private func checkOptionalAttributes() throws(InputRejection) {
        if let value = present("time") {
            guard case .string(let time) = value, RFC3339.date(from: time) != nil else {
                let got: String =
                    if case .string(let time) = value { MessageText.quoted(time) } else {
                        MessageText.typeName(of: value)
                    }
                throw reject(
                    .schemaViolation,
                    "attribute 'time' must be an RFC 3339 timestamp such as 2025-03-01T12:00:00Z, got \(got)"
                )
            }
        }
        if let contentType = try optionalString("datacontenttype", max: 200),
            !CommandDecoder.isJSONMediaType(contentType)
        {
            throw reject(
                .schemaViolation,
                "attribute 'datacontenttype' must be application/json, got \(MessageText.quoted(contentType))"
            )
        }
        _ = try optionalString("correlationid", max: CommandDecoder.maxEventIDLength)
        _ = try optionalString("runnertoken", max: CommandDecoder.maxAttributeLength)
        let extensions = attributes.filter { !Self.knownAttributes.contains($0.key) }
        for (name, value) in extensions.sorted(by: { $0.key < $1.key }) {
            if name == "data_base64" {
                throw reject(.schemaViolation, "attribute 'data_base64' is not supported: send data as a JSON object")
            }
            guard Self.isExtensionName(name) else {
                throw reject(
                    .schemaViolation,
                    "attribute \(MessageText.quoted(name)) is not a CloudEvents attribute name "
                        + "(1 to 20 lowercase ASCII letters or digits)"
                )
            }
            switch value {
            case .null, .bool, .number, .string: continue
            case .array, .object:
                throw reject(
                    .schemaViolation,
                    "extension attribute '\(name)' must be a string, number or boolean, got "
                        + MessageText.typeName(of: value)
                )
            }
        }
    }

    private static func isExtensionName(_ name: String) -> Bool {
        (1...20).contains(name.utf8.count)
            && name.utf8.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            }
    }

    // MARK: Data

    /// Checks `data` against the command's fields and returns the members to decode the payload from (those of its
    /// fields that are present and not null).
    private func checkedData(for shape: CommandShape, type: String) throws(InputRejection) -> JSONValue {
        let members: [String: JSONValue]
        switch present("data") {
        case .none:
            guard shape.requiredNames.isEmpty else {
                throw reject(
                    .schemaViolation,
                    "data is missing; \(type) requires \(shape.requiredNames.joined(separator: ", "))"
                )
            }
            members = [:]
        case .object(let object):
            members = object
        case .some(let value):
            throw reject(.schemaViolation, "data must be a JSON object, got \(MessageText.typeName(of: value))")
        }

        let known = Set(shape.fields.map(\.name))
        let unknown = members.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            let accepted =
                shape.fields.isEmpty
                ? "\(type) takes no members"
                : "\(type) accepts \(shape.fields.map(\.name).joined(separator: ", "))"
            throw reject(
                .schemaViolation,
                "data has unknown member\(unknown.count == 1 ? "" : "s") "
                    + "\(unknown.map(MessageText.quoted).joined(separator: ", ")); \(accepted)"
            )
        }

        var checked: [String: JSONValue] = [:]
        for field in shape.fields {
            let path = MessageText.path("data", member: field.name)
            switch members[field.name] {
            case .none:
                if field.isRequired { throw reject(.schemaViolation, "\(path) is missing; \(type) requires it") }
            case .null where !field.isRequired:
                continue
            case .some(let value):
                if let problem = field.problem(with: value, at: path) { throw reject(.schemaViolation, problem) }
                checked[field.name] = value
            }
        }
        return .object(checked)
    }

    /// The path of the first string or member name holding U+0000, which PostgreSQL text and jsonb refuse.
    static func pathOfNUL(in value: JSONValue, at path: String) -> String? {
        // The paths are spelled out only when there is one to find: nearly every message has none.
        guard containsNUL(value) else { return nil }
        return firstPathOfNUL(in: value, at: path)
    }

    private static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains(where: containsNUL)
        case .object(let members): members.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        case .null, .bool, .number: false
        }
    }

    private static func firstPathOfNUL(in value: JSONValue, at path: String) -> String? {
        switch value {
        case .string(let text):
            return text.unicodeScalars.contains("\0") ? (path.isEmpty ? "the message" : path) : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = firstPathOfNUL(in: item, at: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if name.unicodeScalars.contains("\0") {
                    return "a member name in \(path.isEmpty ? "the message" : path)"
                }
                if let found = firstPathOfNUL(in: member, at: MessageText.path(path, member: name)) { return found }
            }
            return nil
        case .null, .bool, .number:
            return nil
        }
    }
}
