import Foundation
import SpecTaskContract
import SpecTaskDomain

/// How entities are written to and read from the `doc` columns: JSON with ISO 8601 dates (fractional seconds),
/// readable with `psql` and stable across versions.
enum DocumentCoding {
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The same bytes as ``foundationEncoder`` (tested), with less work: writing the stored documents through
    /// `JSONEncoder` showed in a saturated worker's profile.
    private static let encoder = SortedJSONEncoder(
        dateString: { $0.formatted(iso8601) },
        escapesSlashes: true,
        nonConformingFloats: nil
    )

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }

    /// Foundation's encoder in the same configuration: the reference `encoder` is tested against.
    static let foundationEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(iso8601))
        }
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = try? iso8601.parse(text) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date: \(text)")
                )
            }
            return date
        }
        return decoder
    }()

    private static let iso8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
