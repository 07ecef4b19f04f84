import SpecTaskDomain

/// A JSON parser (RFC 8259) for untrusted input, stricter and more talkative than `JSONDecoder`.
///
/// It refuses what a store or a second parser could read differently (invalid UTF-8, unpaired surrogates,
/// duplicate member names, numbers beyond `Double`), stops at ``maxDepth`` levels so hostile nesting can not
/// exhaust the stack, and says at which byte it stopped.
struct StrictJSONParser {
    /// Why the bytes are not JSON, as a sentence naming the byte offset.
    struct Failure: Error, Hashable {
        var message: String
    }

    /// Deep enough for any configuration object; hostile input of thousands of levels stops here.
    static let maxDepth = 64

    /// Parses one JSON value that must fill the whole input (whitespace aside).
    ///
    /// - Parameter bytes: UTF-8 JSON text.
    /// - Returns: The value.
    /// - Throws: ``Failure`` naming the problem and its byte offset.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = StrictJSONParser(bytes: bytes)
        parser.skipWhitespace()
        guard parser.position < bytes.count else {
            throw Failure(message: bytes.isEmpty ? "the message is empty" : "the message holds only whitespace")
        }
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw parser.failure("unexpected \(parser.describeCurrentByte()) after the JSON value")
        }
        return value
    }

    private let bytes: [UInt8]
    private var position = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of input", "expected a JSON value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected \(describeCurrentByte())", "expected a JSON value")
        }
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maxDepth else { throw failure("JSON nested more than \(Self.maxDepth) levels deep") }
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return .object(members) }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a member name in double quotes, found \(describeCurrentByte())")
            }
            let nameOffset = position
            let name = try parseString()
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else {
                throw failure("expected ':' after a member name, found \(describeCurrentByte())")
            }
            let value = try parseValue(depth: depth)
            guard members.updateValue(value, forKey: name) == nil else {
                throw Failure(message: "duplicate member \(MessageText.quoted(name)) at byte \(nameOffset)")
            }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            if take(UInt8(ascii: "}")) { return .object(members) }
            throw failure("expected ',' or '}' in an object, found \(describeCurrentByte())")
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maxDepth else { throw failure("JSON nested more than \(Self.maxDepth) levels deep") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return .array(elements) }
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            if take(UInt8(ascii: "]")) { return .array(elements) }
            throw failure("expected ',' or ']' in an array, found \(describeCurrentByte())")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString, _ value: JSONValue) throws(Failure) -> JSONValue {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard bytes.count - position >= expected.count,
            bytes[position..<position + expected.count].elementsEqual(expected)
        else { throw failure("unexpected \(describeCurrentByte())", "expected a JSON value") }
        position += expected.count
        return value
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, and finite as a `Double`.
    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = position
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
            // A leading zero stands alone; "01" fails on the "1" that follows.
        } else if skipDigits() == 0 {
            throw failure("invalid number: expected a digit, found \(describeCurrentByte())")
        }
        if take(UInt8(ascii: ".")), skipDigits() == 0 {
            throw failure("invalid number: expected a digit after '.', found \(describeCurrentByte())")
        }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            if skipDigits() == 0 {
                throw failure("invalid number: expected a digit in the exponent, found \(describeCurrentByte())")
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw Failure(message: "number \(MessageText.quoted(text)) at byte \(start) is out of range")
        }
        return .number(value)
    }

    private mutating func skipDigits() -> Int {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            position += 1
        }
        return position - start
    }

    // MARK: - Strings

    private mutating func parseString() throws(Failure) -> String {
        let opening = position
        position += 1
        var decoded: [UInt8] = []
        var runStart = position
        while true {
            guard position < bytes.count else {
                throw Failure(message: "unterminated string starting at byte \(opening)")
            }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                decoded.append(contentsOf: bytes[runStart..<position])
                position += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                decoded.append(contentsOf: bytes[runStart..<position])
                try parseEscape(into: &decoded)
                runStart = position
            case 0..<0x20:
                throw failure("unescaped control character \(MessageText.hexByte(byte)) in a string")
            case 0x20..<0x80:
                position += 1
            default:
                position += try validUTF8SequenceLength()
            }
        }
    }

    private mutating func parseEscape(into decoded: inout [UInt8]) throws(Failure) {
        let escapeStart = position
        position += 1
        guard position < bytes.count else { throw Failure(message: "unterminated escape at byte \(escapeStart)") }
        let letter = bytes[position]
        position += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(letter)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var value = try hexQuad(escapeStart: escapeStart)
            if (0xD800...0xDBFF).contains(value) {
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else {
                    throw Failure(message: "unpaired UTF-16 surrogate escape at byte \(escapeStart)")
                }
                let low = try hexQuad(escapeStart: escapeStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw Failure(message: "unpaired UTF-16 surrogate escape at byte \(escapeStart)")
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(value) {
                throw Failure(message: "unpaired UTF-16 surrogate escape at byte \(escapeStart)")
            }
            // Surrogates are handled above, so every remaining value is a scalar.
            UTF8.encode(Unicode.Scalar(value)!) { decoded.append($0) }
        default:
            throw Failure(message: "invalid escape '\\\(MessageText.printable(letter))' at byte \(escapeStart)")
        }
    }

    private mutating func hexQuad(escapeStart: Int) throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count, let digit = Self.hexValue(bytes[position]) else {
                throw Failure(message: "invalid \\u escape at byte \(escapeStart): expected four hex digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The length of the well-formed UTF-8 sequence at `position` (Unicode table 3-7), or a failure.
    private func validUTF8SequenceLength() throws(Failure) -> Int {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: throw failure("invalid UTF-8 (byte \(MessageText.hexByte(lead)))")
        }
        guard bytes.count - position >= length else { throw failure("invalid UTF-8 (truncated sequence)") }
        guard secondRange.contains(bytes[position + 1]),
            bytes[position + 2..<position + length].allSatisfy({ (0x80...0xBF).contains($0) })
        else { throw failure("invalid UTF-8 (byte \(MessageText.hexByte(lead)) starts a malformed sequence)") }
        return length
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// "<problem> at byte <position>", then "; <hint>" when there is one.
    private func failure(_ problem: String, _ hint: String? = nil) -> Failure {
        Failure(message: "\(problem) at byte \(position)" + (hint.map { "; \($0)" } ?? ""))
    }

    private func describeCurrentByte() -> String {
        guard position < bytes.count else { return "the end of input" }
        let byte = bytes[position]
        return (0x21..<0x7F).contains(byte) ? "'\(MessageText.printable(byte))'" : "byte \(MessageText.hexByte(byte))"
    }
}
