import SpecTaskDomain

/// One Kafka message header, as the domain sees it (the `Kafka` module has its own type; the domain does no I/O).
///
/// Kafka allows a key to repeat and a header without a value; both are kept as they came.
public struct MessageHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, text: String) {
        self.init(key: key, value: Array(text.utf8))
    }

    /// The value as UTF-8 text; `nil` when there is no value or it is not valid UTF-8.
    public var text: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}
