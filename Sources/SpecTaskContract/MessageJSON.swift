import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one JSON configuration of every message this system writes and reads back.
enum MessageJSON {
    /// Encodes with sorted keys (equal values give equal bytes) and RFC 3339 dates, exactly as ``foundationEncoder``
    /// would, through ``SortedJSONEncoder`` (which does less work; see there).
    ///
    /// Encoding the message types can not fail: the only error raised for them is a non-finite number, and those
    /// are written as strings ("NaN", "Infinity") rather than refused.
    static func encode(_ value: some Encodable) -> [UInt8] {
        do {
            return try encoder.encode(value)
        } catch {
            preconditionFailure("encoding a message failed, which its types rule out: \(error)")
        }
    }

    static let encoder = SortedJSONEncoder(
        dateString: { RFC3339.string(from: $0) },
        escapesSlashes: false,
        nonConformingFloats: (nan: "NaN", positiveInfinity: "Infinity", negativeInfinity: "-Infinity")
    )

    /// Foundation's encoder in the same configuration: the reference ``encode(_:)`` is tested against.
    static func foundationEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity",
            negativeInfinity: "-Infinity",
            nan: "NaN"
        )
        return encoder
    }

    /// Decodes with RFC 3339 dates.
    ///
    /// - Throws: `DecodingError` when the bytes do not match the type.
    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected an RFC 3339 timestamp, got '\(text)'"
                )
            }
            return date
        }
        return try decoder.decode(type, from: Data(bytes))
    }
}
