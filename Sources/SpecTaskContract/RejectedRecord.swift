import Crypto
import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An input that could not be applied, as published on `spectask.rejected`: the original bytes, where they
/// came from, and why. Nothing is dropped silently.
///
/// Publishable by construction: the record carries at most the first ``maxOriginalBytes`` of the original (with
/// its full size and SHA-256), at most ``maxKeyBytes`` of its key, of each header's key and of each header's value,
/// at most ``maxHeaders`` headers and ``maxReasonCharacters`` of the reason, so an input of any size yields a record
/// far below any broker's message limit.
public struct RejectedRecord: Sendable, Hashable, Codable {
    /// How much of the original a record carries: 64 KiB (about 87 KiB as base64).
    public static let maxOriginalBytes = 65_536
    /// How much of the original key a record carries.
    public static let maxKeyBytes = 1_024
    /// How long a reason may be.
    public static let maxReasonCharacters = 4_096
    /// How many of the original's headers a record carries.
    public static let maxHeaders = 64

    /// The original message value (its first ``maxOriginalBytes`` when ``originalTruncated``), base64.
    public var originalBase64: String
    /// The size of the whole original value, in bytes.
    public var originalSize: Int
    /// The SHA-256 of the whole original value, lowercase hex: identifies an original the record only has part of.
    public var originalSHA256: String
    /// `originalBase64` holds only the first ``maxOriginalBytes`` of the original.
    public var originalTruncated: Bool
    /// The topic, partition and offset it was read from.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The original message key, when it had one.
    public var key: String?
    /// The original message headers, in order, when it had any: in the binary mode of the CloudEvents Kafka binding
    /// they hold the event's attributes (`ce_id`, `ce_type`, …), and the value only its data.
    public var originalHeaders: [Header]?
    /// A stable code: an ``InputRejection/Code``, a `Rejection.Code` of the decision function, or another
    /// reason the worker names.
    public var code: String
    /// What was wrong, in a sentence.
    public var reason: String
    /// The CloudEvent `id` of the input, when it could be read.
    public var eventID: String?
    /// The spec task the input was for, when it could be read.
    public var specTaskID: String?

    /// One header of the original: its key and value as text (cut to ``maxKeyBytes`` each, invalid UTF-8 shown as
    /// U+FFFD, like the record's ``key``); no value when the header had none.
    public struct Header: Sendable, Hashable, Codable {
        public var key: String
        public var value: String?

        public init(key: String, value: String?) {
            self.key = key
            self.value = value
        }
    }

    /// Creates a record of a rejected input.
    public init(
        original: [UInt8],
        headers: [MessageHeader] = [],
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        code: String,
        reason: String,
        eventID: String? = nil,
        specTaskID: String? = nil
    ) {
        self.originalBase64 = Data(original.prefix(Self.maxOriginalBytes)).base64EncodedString()
        self.originalSize = original.count
        self.originalSHA256 = SHA256.hash(data: original).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        self.originalTruncated = original.count > Self.maxOriginalBytes
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key.map { Self.prefix($0, maxBytes: Self.maxKeyBytes) }
        self.originalHeaders =
            headers.isEmpty
            ? nil
            : headers.prefix(Self.maxHeaders).map { header in
                Header(
                    key: Self.prefix(header.key, maxBytes: Self.maxKeyBytes),
                    value: header.value.map { value in
                        let text = String(decoding: value.prefix(Self.maxKeyBytes), as: UTF8.self)
                        return Self.prefix(text, maxBytes: Self.maxKeyBytes)
                    }
                )
            }
        self.code = code
        self.reason =
            reason.count > Self.maxReasonCharacters ? String(reason.prefix(Self.maxReasonCharacters)) + "…" : reason
        self.eventID = eventID
        self.specTaskID = specTaskID
    }

    /// Creates the record of an input the decoder rejected, with its code, message, event id and subject.
    public init(
        original: [UInt8],
        headers: [MessageHeader] = [],
        topic: String,
        partition: Int32,
        offset: Int64,
        key: String?,
        rejection: InputRejection
    ) {
        self.init(
            original: original,
            headers: headers,
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

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a character boundary.
    static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: maxBytes)
        while end > text.startIndex, String.Index(end, within: text) == nil { end = text.utf8.index(before: end) }
        return String(text[..<end])
    }

    /// The original bytes (their first ``maxOriginalBytes`` when ``originalTruncated``), or `nil` when
    /// ``originalBase64`` is not valid base64.
    public var original: [UInt8]? {
        Data(base64Encoded: originalBase64).map(Array.init)
    }
}
