import Crypto
import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// What sending a rejected input again can do, decided from the record alone, so the operator tool
// (`spectask rejected redrive`) and its tests agree on it without a broker.

extension RejectedRecord {
    /// Where the worker turned an input away, which decides what the same bytes sent again come to.
    public enum Stage: String, Sendable, Hashable, Codable {
        /// Before the rules: the bytes could not be read as a usable input (malformed, not a CloudEvent, unknown
        /// type, schema violation, oversize, a Zed event without its token). Such an input claims no event id in
        /// the inbox, so a copy sent again is read afresh: rejected again unless what rejected it has changed
        /// (say, workers that know a newer command type).
        case input
        /// By the rules: a well-formed command the state machine refused (`illegal_transition`, `conflict`,
        /// `unknown_spec_task`, …). Its event id was claimed in the inbox before the rules ran, so a copy with the
        /// same id is skipped as a duplicate for as long as the inbox keeps the id.
        case rule
    }

    /// The codes the decoder (``InputRejection/Code``) gives, that is, the rejections made before the rules.
    ///
    /// `unauthenticated` is also a `Rejection.Code` of the decision function, but the worker gives it while
    /// decoding (a missing or wrong runner token), before any id is claimed. Any code not listed here counts as a
    /// rule's: for an unknown code that is the cautious side (a redrive then needs `--force`).
    public static let inputStageCodes: Set<String> = [
        InputRejection.Code.oversize, .malformedJSON, .notACloudEvent, .unsupportedSpecVersion, .unknownType,
        .invalidSubject, .schemaViolation, .unauthenticated,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Whether the input was rejected before the rules or by them.
    public var stage: Stage { Self.inputStageCodes.contains(code) ? .input : .rule }

    /// The whole original, checked against the record's size and SHA-256.
    ///
    /// - Returns: The bytes, or why the record does not hold the whole original as it was read.
    public func wholeOriginal() -> Result<[UInt8], RedriveRefusal> {
        guard !originalTruncated else {
            return .failure(
                RedriveRefusal(
                    .truncated,
                    "the record holds only the first \(Self.maxOriginalBytes) of the original's \(originalSize) "
                        + "bytes, so the original can not be sent again from it; its sender must send it again"
                )
            )
        }
        guard let bytes = original else {
            return .failure(RedriveRefusal(.corrupted, "the record's originalBase64 is not valid base64"))
        }
        guard bytes.count == originalSize else {
            return .failure(
                RedriveRefusal(
                    .corrupted,
                    "the record's original has \(bytes.count) bytes but its originalSize says \(originalSize)"
                )
            )
        }
        let digest = SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        guard digest == originalSHA256.lowercased() else {
            return .failure(
                RedriveRefusal(
                    .corrupted,
                    "the SHA-256 of the record's original is \(digest), not the \(originalSHA256) the record names"
                )
            )
        }
        return .success(bytes)
    }

    /// The message to publish again: the original bytes with the original key and headers, to the topic they were
    /// read from.
    ///
    /// Only commands qualify: a Zed event's runner token was blanked in its record (a credential), so a copy could
    /// never authenticate. Checks that can not be lifted come first, so `force` never hides a damaged record.
    ///
    /// - Parameters:
    ///   - commandsTopic: This system's `spectask.commands` (with its prefix).
    ///   - zedEventsTopic: This system's `zed.events`, named in the refusal of a Zed event.
    ///   - force: Send a rule rejection anyway (see ``Stage/rule`` for what that comes to).
    /// - Returns: What to publish, or why not.
    public func redrive(
        commandsTopic: String,
        zedEventsTopic: String,
        force: Bool
    ) -> Result<RedriveMessage, RedriveRefusal> {
        guard topic == commandsTopic else {
            if topic == zedEventsTopic {
                return .failure(
                    RedriveRefusal(
                        .notACommand,
                        "it is a Zed event from \(topic): its runner token was blanked in the record, so a copy "
                            + "could never authenticate; the runner must send the event again"
                    )
                )
            }
            return .failure(
                RedriveRefusal(
                    .notACommand,
                    "it was read from \(topic), not from \(commandsTopic): only commands are sent again"
                )
            )
        }
        let bytes: [UInt8]
        switch wholeOriginal() {
        case .success(let whole): bytes = whole
        case .failure(let refusal): return .failure(refusal)
        }
        if let key, key.utf8.count >= Self.maxKeyBytes || key.contains("\u{FFFD}") {
            return .failure(
                RedriveRefusal(
                    .keyAltered,
                    "the record's key may not be the original one (records keep at most \(Self.maxKeyBytes) bytes "
                        + "of a key, as UTF-8), so a copy could land on another partition than the original"
                )
            )
        }
        let headers: [MessageHeader]
        switch originalHeadersAsSent() {
        case .success(let sent): headers = sent
        case .failure(let refusal): return .failure(refusal)
        }
        if stage == .rule, !force {
            return .failure(
                RedriveRefusal(
                    .ruleRejection,
                    "\(code) is a rule's rejection: the command was well formed and its event id "
                        + "\(eventID.map { "'\($0)' " } ?? "")was claimed in the inbox, so the workers would skip a copy "
                        + "as a duplicate while the inbox keeps the id; send a new command with a new id instead"
                )
            )
        }
        return .success(RedriveMessage(topic: topic, key: key, value: bytes, headers: headers))
    }

    /// The original's headers as they were sent (in the CloudEvents binary mode they hold the event's attributes,
    /// so a copy without them would be another input), or why the record may not hold them as they were.
    func originalHeadersAsSent() -> Result<[MessageHeader], RedriveRefusal> {
        let headers = originalHeaders ?? []
        let altered = headers.contains { header in
            [header.key, header.value ?? ""].contains { $0.utf8.count >= Self.maxKeyBytes || $0.contains("\u{FFFD}") }
        }
        guard headers.count < Self.maxHeaders, !altered else {
            return .failure(
                RedriveRefusal(
                    .headersAltered,
                    "the record's headers may not be the original ones (records keep at most \(Self.maxHeaders) "
                        + "headers and \(Self.maxKeyBytes) bytes of each key and value, as UTF-8)"
                )
            )
        }
        return .success(headers.map { MessageHeader(key: $0.key, value: $0.value.map { Array($0.utf8) }) })
    }
}

/// A rejected input as it is to be published again.
public struct RedriveMessage: Sendable, Hashable {
    public var topic: String
    public var key: String?
    public var value: [UInt8]
    /// The original's headers, in order.
    public var headers: [MessageHeader]

    public init(topic: String, key: String?, value: [UInt8], headers: [MessageHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Why a rejected input can not be published again from its record.
public struct RedriveRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        /// The record holds only the first part of the original.
        case truncated
        /// The record's original does not match its size or SHA-256, or is not base64.
        case corrupted
        /// The record's key may have been cut or re-encoded.
        case keyAltered
        /// The record's headers may have been cut or re-encoded.
        case headersAltered
        /// Not a command of this system (a Zed event, or another topic).
        case notACommand
        /// The rules refused it; only this one can be lifted (`--force`).
        case ruleRejection
    }

    public var code: Code
    /// What is wrong, in a sentence that says what to do.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether the operator may send it anyway.
    public var canBeForced: Bool { code == .ruleRejection }

    public var description: String { message }
}
