import ArgumentParser
import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain

/// Which rejected record an operator means: where its input was read, `<input-topic>:<partition>:<offset>`, or the
/// input's event id.
///
/// Topic names can not contain `:`, so text of the shape `name:number:number` is always read as a position; an
/// event id of that shape is selected by the position of its input instead (`spectask rejected list` shows it).
enum RejectedSelector: Sendable, Hashable, CustomStringConvertible {
    case position(topic: String, partition: Int32, offset: Int64)
    case eventID(String)

    /// - Throws: `ValidationError` (a usage error) for an empty selector, a position with a negative or too large
    ///   number or an illegal topic name, and an event id no input could have.
    init(parsing text: String) throws {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError(
                "the selector is empty; give <input-topic>:<partition>:<offset> (e.g. spectask.commands:0:42) or an "
                    + "event id"
            )
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, Self.isInteger(parts[1]), Self.isInteger(parts[2]) {
            let (topic, partitionText, offsetText) = (parts[0], parts[1], parts[2])
            do {
                try TopicName.validate(topic)
            } catch {
                throw ValidationError(
                    "'\(text)': '\(topic)' is not a topic name (ASCII letters, digits, '.', '_' and '-')"
                )
            }
            guard let partition = Int32(partitionText), partition >= 0 else {
                throw ValidationError("'\(text)': the partition must be a number from 0 to \(Int32.max)")
            }
            guard let offset = Int64(offsetText), offset >= 0 else {
                throw ValidationError("'\(text)': the offset must be a number from 0 to \(Int64.max)")
            }
            self = .position(topic: topic, partition: partition, offset: offset)
            return
        }
        guard text.unicodeScalars.count <= CommandDecoder.maxEventIDLength, !text.unicodeScalars.contains("\0")
        else {
            throw ValidationError(
                "'\(text.prefix(40))…' can not be an event id (at most \(CommandDecoder.maxEventIDLength) "
                    + "characters, no NUL); give <input-topic>:<partition>:<offset> or an event id"
            )
        }
        self = .eventID(text)
    }

    /// Whether `record` is the one meant; a position's topic may be given with or without the system's prefix.
    func matches(_ record: RejectedRecord, prefix: String) -> Bool {
        switch self {
        case .position(let topic, let partition, let offset):
            (record.topic == topic || record.topic == prefix + topic) && record.partition == partition
                && record.offset == offset
        case .eventID(let id):
            record.eventID == id
        }
    }

    var description: String {
        switch self {
        case .position(let topic, let partition, let offset): "input \(topic):\(partition):\(offset)"
        case .eventID(let id): "event id '\(id)'"
        }
    }

    /// An optional sign and digits, however many (the range is checked after, with a message that says so).
    private static func isInteger(_ text: String) -> Bool {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
