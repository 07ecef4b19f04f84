import Foundation
import SpecTaskContract
import SpecTaskDomain

/// How the `rejected` commands print a record: a line for lists, a block for `show`, a JSON object for programs.
///
/// Everything in a record came from an input nobody vouches for, so text for a terminal shows control characters
/// escaped (`\u{1B}`): a rejected input must not be able to move the cursor or retitle the operator's terminal.
enum RejectedText {
    /// `2026-12-07T10:00:01Z  schema_violation  p.spectask.commands:0:5  event cmd-1  task st-1  312 B  reason…`
    static func line(_ entry: RejectedReader.Entry) -> String {
        let record = entry.record
        return [
            entry.time.map(secondsTime) ?? "-",
            printable(record.code),
            "\(record.topic):\(record.partition):\(record.offset)",
            "event \(record.eventID.map(printable) ?? "-")",
            "task \(record.specTaskID.map(printable) ?? "-")",
            "\(record.originalSize) B" + (record.originalTruncated ? " (truncated)" : ""),
            shortened(printable(record.reason), to: 100),
        ].joined(separator: "  ")
    }

    /// Every field of a record, what a redrive would do with it, and the original as text (or base64).
    static func details(
        _ entry: RejectedReader.Entry,
        rejectedTopic: String,
        redrive: Result<RedriveMessage, RedriveRefusal>
    ) -> String {
        let record = entry.record
        let stage =
            switch record.stage {
            case .input: "rejected before the rules; its event id was not claimed"
            case .rule: "rejected by the rules; its event id was claimed in the inbox"
            }
        let redriveLine =
            switch redrive {
            case .success: "possible: spectask rejected redrive \(record.topic):\(record.partition):\(record.offset)"
            case .failure(let refusal) where refusal.canBeForced: "only with --force: \(refusal.message)"
            case .failure(let refusal): "refused: \(refusal.message)"
            }
        var lines = [
            "rejected at  \(entry.time.map(RFC3339.string(from:)) ?? "-")",
            "record       \(rejectedTopic):\(entry.partition):\(entry.offset)",
            "input        \(record.topic):\(record.partition):\(record.offset)",
            "code         \(printable(record.code)) (\(stage))",
            "reason       \(printable(record.reason))",
            "event id     \(record.eventID.map(printable) ?? "-")",
            "spec task    \(record.specTaskID.map(printable) ?? "-")",
            "key          \(record.key.map(printable) ?? "-")",
            "headers      \(headers(record.originalHeaders ?? []))",
            "original     \(record.originalSize) bytes, SHA-256 \(record.originalSHA256)"
                + (record.originalTruncated ? ", truncated to its first \(RejectedRecord.maxOriginalBytes)" : ""),
            "redrive      \(redriveLine)",
        ]
        if let bytes = record.original, let text = utf8Text(bytes, truncated: record.originalTruncated) {
            lines.append("original as UTF-8 text\(record.originalTruncated ? " (its first part)" : ""):")
            lines.append(escaped(text, keepNewlines: true))
        } else {
            lines.append("original as base64 (not UTF-8 text)\(record.originalTruncated ? " (its first part)" : ""):")
            lines.append(record.originalBase64)
        }
        return lines.joined(separator: "\n")
    }

    /// One record as a JSON object (one line).
    ///
    /// - Parameter redrive: What a redrive would do, for `show`: then the original is added too, its headers, and
    ///   its value as base64 and as text when it is UTF-8. `nil` for a list: none of these.
    static func json(
        _ entry: RejectedReader.Entry,
        rejectedTopic: String,
        redrive: Result<RedriveMessage, RedriveRefusal>? = nil
    ) throws -> String {
        let record = entry.record
        var document = Document(
            time: entry.time.map(RFC3339.string(from:)),
            code: record.code,
            stage: record.stage.rawValue,
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            eventID: record.eventID,
            specTaskID: record.specTaskID,
            key: record.key,
            originalSize: record.originalSize,
            originalSHA256: record.originalSHA256,
            originalTruncated: record.originalTruncated,
            reason: record.reason,
            record: Document.Place(topic: rejectedTopic, partition: entry.partition, offset: entry.offset)
        )
        if let redrive {
            document.originalHeaders = record.originalHeaders
            document.originalBase64 = record.originalBase64
            document.originalText = record.original.flatMap { utf8Text($0, truncated: record.originalTruncated) }
            document.redrive =
                switch redrive {
                case .success: Document.Redrive(possible: true)
                case .failure(let refusal):
                    Document.Redrive(
                        possible: false,
                        refusal: refusal.code.rawValue,
                        reason: refusal.message,
                        canBeForced: refusal.canBeForced
                    )
                }
        }
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    /// The JSON form of a record; absent members are left out.
    struct Document: Encodable {
        struct Place: Encodable {
            var topic: String
            var partition: Int32
            var offset: Int64
        }

        struct Redrive: Encodable {
            var possible: Bool
            var refusal: String?
            var reason: String?
            var canBeForced: Bool?
        }

        var time: String?
        var code: String
        /// `input` (rejected before the rules) or `rule`.
        var stage: String
        var topic: String
        var partition: Int32
        var offset: Int64
        var eventID: String?
        var specTaskID: String?
        var key: String?
        var originalSize: Int
        var originalSHA256: String
        var originalTruncated: Bool
        var reason: String
        /// Where the record itself is on the rejected topic.
        var record: Place
        var originalHeaders: [RejectedRecord.Header]?
        var originalBase64: String?
        var originalText: String?
        var redrive: Redrive?
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    // MARK: - Text

    /// The bytes as text when they are UTF-8; a truncated original may end inside a character, which is dropped.
    static func utf8Text(_ bytes: [UInt8], truncated: Bool) -> String? {
        for cut in 0...(truncated ? min(3, bytes.count) : 0) {
            if let text = String(validating: bytes.dropLast(cut), as: UTF8.self) { return text }
        }
        return nil
    }

    /// `text` with control characters escaped as `\u{…}` (and line breaks too unless `keepNewlines`).
    static func escaped(_ text: String, keepNewlines: Bool) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            let isControl = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            let allowed = scalar == "\t" || (keepNewlines && scalar == "\n")
            if isControl && !allowed {
                result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func printable(_ text: String) -> String { escaped(text, keepNewlines: false) }

    /// `ce_id=cmd-1, ce_type=spectask.command.create`, or `-`.
    static func headers(_ headers: [RejectedRecord.Header]) -> String {
        guard !headers.isEmpty else { return "-" }
        return headers.map { printable($0.key) + ($0.value.map { "=" + printable($0) } ?? "") }.joined(separator: ", ")
    }

    static func shortened(_ text: String, to length: Int) -> String {
        text.count > length ? String(text.prefix(length - 1)) + "…" : text
    }

    /// An RFC 3339 time to the second: `2026-12-07T10:00:01Z`.
    static func secondsTime(_ date: Date) -> String {
        String(RFC3339.string(from: date).prefix(19)) + "Z"
    }
}
