/// Any JSON value, for the free-form parts of messages (workspace and agent configuration).
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    /// Parses JSON text as strictly as message bodies are parsed, for configuration values.
    ///
    /// - Returns: The value, or why the text is not JSON (naming the byte offset).
    public static func parse(_ text: String) -> Result<JSONValue, JSONTextError> {
        do throws(StrictJSONParser.Failure) {
            return .success(try StrictJSONParser.parse(Array(text.utf8)))
        } catch {
            return .failure(JSONTextError(message: error.message))
        }
    }
}

/// Why a configuration text is not JSON.
public struct JSONTextError: Error, Hashable, Sendable {
    public var message: String
}
