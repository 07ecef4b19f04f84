import Foundation
import SpecTaskContract
import SpecTaskDomain

/// A YAML document as an ordered tree, written as block-style YAML 1.2 text.
///
/// Only what generated documents need: maps keep their order (so the text is stable and diffs read well),
/// strings are written plain when that is unambiguous and double-quoted (JSON escapes) otherwise.
public indirect enum YAMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    public static func == (left: YAMLValue, right: YAMLValue) -> Bool {
        left.text == right.text
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
    }

    /// The document, ending with a newline.
    public var text: String {
        lines(indent: 0).joined(separator: "\n") + "\n"
    }

    private var isScalar: Bool {
        switch self {
        case .string, .integer, .boolean: true
        case .list(let items): items.isEmpty
        case .map(let pairs): pairs.isEmpty
        }
    }

    private var scalarText: String {
        switch self {
        case .string(let text): Self.quotedIfNeeded(text)
        case .integer(let number): String(number)
        case .boolean(let flag): flag ? "true" : "false"
        case .list: "[]"
        case .map: "{}"
        }
    }

    private func lines(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let pairs) where !pairs.isEmpty:
            return pairs.flatMap { key, value in
                let key = Self.quotedIfNeeded(key)
                if value.isScalar { return ["\(pad)\(key): \(value.scalarText)"] }
                return ["\(pad)\(key):"] + value.lines(indent: indent + 2)
            }
        case .list(let items) where !items.isEmpty:
            return items.flatMap { item -> [String] in
                if item.isScalar { return ["\(pad)- \(item.scalarText)"] }
                // The item's first line goes after the dash; the rest keeps the item's indentation.
                var nested = item.lines(indent: indent + 2)
                nested[0] = pad + "- " + nested[0].dropFirst(indent + 2)
                return nested
            }
        default:
            return [pad + scalarText]
        }
    }

    /// Plain when the text can only be read back as this string, else a double-quoted (JSON-escaped) scalar.
    static func quotedIfNeeded(_ text: String) -> String {
        let plainFirst = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_/")
        let plainRest = plainFirst.union("0123456789.-+;= ")
        let reserved: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]
        if let first = text.first, plainFirst.contains(first), text.allSatisfy(plainRest.contains),
            text.last != " ", !reserved.contains(text.lowercased())
        {
            return text
        }
        // A JSON string is a YAML double-quoted scalar, but for DEL, which YAML (unlike JSON) must see escaped.
        return OrderedJSON.quoted(text).replacingOccurrences(of: "\u{7F}", with: "\\x7F")
    }
}
