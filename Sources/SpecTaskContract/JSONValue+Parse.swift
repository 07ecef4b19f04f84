import SpecTaskDomain

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
