import SpecTaskDomain

/// A JSON value whose objects keep their member order, written the way the checked-in schema files are
/// (two-space indentation, one member per line, `", "`-free separators, a final newline): what Python's
/// `json.dumps(value, indent=2, ensure_ascii=False)` writes, so generated files and hand edits diff cleanly.
public indirect enum OrderedJSON: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case null
    case array([OrderedJSON])
    case object([Member])

    public struct Member: Sendable, Hashable {
        public var name: String
        public var value: OrderedJSON
        public init(_ name: String, _ value: OrderedJSON) {
            self.name = name
            self.value = value
        }
    }

    /// The document, ending with a newline.
    public var text: String {
        var output = ""
        write(to: &output, indent: 0)
        return output + "\n"
    }

    private func write(to output: inout String, indent: Int) {
        switch self {
        case .string(let text): output += Self.quoted(text)
        case .integer(let number): output += String(number)
        case .boolean(let flag): output += flag ? "true" : "false"
        case .null: output += "null"
        case .array(let items) where items.isEmpty: output += "[]"
        case .object(let members) where members.isEmpty: output += "{}"
        case .array(let items):
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += String(repeating: " ", count: indent + 2)
                item.write(to: &output, indent: indent + 2)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            output += "{\n"
            for (index, member) in members.enumerated() {
                output += String(repeating: " ", count: indent + 2) + Self.quoted(member.name) + ": "
                member.value.write(to: &output, indent: indent + 2)
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "}"
        }
    }

    /// A JSON string with the escapes Python's `json.dumps` uses (non-ASCII characters as they are).
    public static func quoted(_ text: String) -> String {
        // Most texts (ids, types, times) need no escape: written whole, not a scalar at a time (the outbox writes
        // several per output).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case "\u{8}": quoted += "\\b"
            case "\u{C}": quoted += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}
