import SpecTaskDomain

/// How input is quoted inside rejection messages: short, one line, control characters made visible,
/// because a message is read by people and logged, and the input may be hostile.
enum MessageText {
    /// The longest piece of input quoted in a message, in Unicode scalars.
    static let maxQuotedLength = 60

    /// `'text'`, truncated with "…" and with control characters written as `\u{…}`.
    static func quoted(_ text: String) -> String {
        var result = "'"
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            if offset == maxQuotedLength {
                result += "…"
                break
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "'"
    }

    /// "0x0A"
    static func hexByte(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }

    /// The ASCII character of a byte, or its hex value when it is not printable.
    static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : hexByte(byte)
    }

    /// The JSON type of a value as messages name it: "string", "number", "boolean", "null", "array", "object".
    static func typeName(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The path of a member: `data.name`, or `data["odd key"]` when the name is not a plain identifier.
    static func path(_ base: String, member: String) -> String {
        let isPlain =
            !member.isEmpty
            && member.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            }
        if isPlain { return base.isEmpty ? member : "\(base).\(member)" }
        return "\(base)[\"\(quoted(member).dropFirst().dropLast())\"]"
    }
}
