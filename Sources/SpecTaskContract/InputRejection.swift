import SpecTaskDomain

/// Why a message read from a topic can not be used, as a code for programs and a sentence for people.
///
/// Produced by ``CommandDecoder`` (and thrown by ``EventDecoder``) before any state is touched. The worker
/// publishes it to `spectask.rejected` with the original bytes and moves on: bad input never stops the line.
public struct InputRejection: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The message is larger than the limit; it was not parsed.
        public static let oversize = Code(rawValue: "oversize")
        /// Not JSON (including invalid UTF-8, duplicate members and nesting beyond the depth limit).
        public static let malformedJSON = Code(rawValue: "malformed_json")
        /// JSON, but not a CloudEvent: not an object, or a required attribute is missing or not a string.
        public static let notACloudEvent = Code(rawValue: "not_a_cloud_event")
        /// A CloudEvent of a version other than 1.0.
        public static let unsupportedSpecVersion = Code(rawValue: "unsupported_spec_version")
        /// The `type` names no message this reader knows.
        public static let unknownType = Code(rawValue: "unknown_type")
        /// The `subject` (the spec task id) is missing or not a valid id.
        public static let invalidSubject = Code(rawValue: "invalid_subject")
        /// The attributes or the `data` do not match the message type's schema.
        public static let schemaViolation = Code(rawValue: "schema_violation")
        /// A Zed event without the runner token of the instance it names, or with a wrong one.
        public static let unauthenticated = Code(rawValue: "unauthenticated")

        public var description: String { rawValue }
    }

    public var code: Code
    /// What is wrong and where, e.g. "data.maxConcurrentSessions must be an integer, got string".
    public var message: String
    /// The CloudEvent `id`, when it could be read, so the rejection can be correlated with the input.
    public var eventID: String?
    /// The CloudEvent `subject` (the spec task id), when it could be read and is a valid id.
    public var subject: String?
    /// The CloudEvent `type`, when it could be read: a malformed command still gets an outcome naming it.
    public var type: String?

    /// Creates a rejection.
    public init(_ code: Code, _ message: String, eventID: String? = nil, subject: String? = nil, type: String? = nil) {
        self.code = code
        self.message = message
        self.eventID = eventID
        self.subject = subject
        self.type = type
    }

    public var description: String { "\(code): \(message)" }
}
