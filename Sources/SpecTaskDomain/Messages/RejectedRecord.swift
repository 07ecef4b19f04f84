#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An input that could not be applied, as published on `spectask.rejected`: the original bytes, where they
/// came from, and why. Nothing is dropped silently.
public struct RejectedRecord: Sendable, Hashable, Codable {
    /// The original message value, base64.
    public var originalBase64: String
    /// The topic, partition and offset it was read from.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The original message key, when it had one.
    public var key: String?
    /// A stable code: an ``InputRejection/Code``, a `Rejection.Code` of the decision function, or another
    /// reason the worker names.
    public var code: String
    /// What was wrong, in a sentence.
    public var reason: String
    /// The CloudEvent `id` of the input, when it could be read.
    public var eventID: String?
    /// The spec task the input was for, when it could be read.
    public var specTaskID: String?

    /// Creates a record of a rejected input.
    public init(
        original: [UInt8],
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        code: String,
        reason: String,
        eventID: String? = nil,
        specTaskID: String? = nil
    ) {
        self.originalBase64 = Data(original).base64EncodedString()
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.code = code
        self.reason = reason
        self.eventID = eventID
        self.specTaskID = specTaskID
    }

    /// Creates the record of an input the decoder rejected, with its code, message, event id and subject.
    public init(
        original: [UInt8],
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        rejection: InputRejection
    ) {
        self.init(
            original: original,
            topic: topic,
            partition: partition,
            offset: offset,
            key: key,
            code: rejection.code.rawValue,
            reason: rejection.message,
            eventID: rejection.eventID,
            specTaskID: rejection.subject
        )
    }

    /// The original bytes, or `nil` when ``originalBase64`` is not valid base64.
    public var original: [UInt8]? {
        Data(base64Encoded: originalBase64).map(Array.init)
    }
}
