import SpecTaskDomain

/// Blanks the value of every `"runnertoken"` attribute in a message's bytes (and of a `ce_runnertoken` header), for
/// records that others may read (`spectask.rejected`): a runner token is a credential.
///
/// Works on the raw bytes, so malformed JSON is redacted too, and everything else stays byte for byte as it
/// was: each character of the token's string becomes `*`.
public enum RunnerTokenRedaction {
    private static let key = Array(#""runnertoken""#.utf8)

    public static func redact(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes
        var index = 0
        while let found = firstOccurrence(of: key, in: result, from: index) {
            var position = found + key.count
            position = skipWhitespace(result, from: position)
            guard position < result.count, result[position] == UInt8(ascii: ":") else {
                index = found + key.count
                continue
            }
            position = skipWhitespace(result, from: position + 1)
            guard position < result.count, result[position] == UInt8(ascii: "\"") else {
                index = position
                continue
            }
            position += 1
            // Up to the closing quote; an escaped character is blanked with its backslash.
            while position < result.count, result[position] != UInt8(ascii: "\"") {
                if result[position] == UInt8(ascii: "\\"), position + 1 < result.count {
                    result[position] = UInt8(ascii: "*")
                    position += 1
                }
                result[position] = UInt8(ascii: "*")
                position += 1
            }
            index = position
        }
        return result
    }

    /// The headers with the value of `ce_runnertoken` (the token of a binary-mode Zed event) blanked the same way,
    /// one `*` per character.
    public static func redact(_ headers: [MessageHeader]) -> [MessageHeader] {
        headers.map { header in
            guard header.key == KafkaBinding.attributeHeaderPrefix + "runnertoken", let value = header.value else {
                return header
            }
            let characters = header.text?.count ?? value.count
            return MessageHeader(key: header.key, value: Array(repeating: UInt8(ascii: "*"), count: characters))
        }
    }

    private static func skipWhitespace(_ bytes: [UInt8], from start: Int) -> Int {
        var position = start
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        return position
    }

    private static func firstOccurrence(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for position in start...(haystack.count - needle.count)
        where haystack[position] == needle[0] && Array(haystack[position..<(position + needle.count)]) == needle {
            return position
        }
        return nil
    }
}
