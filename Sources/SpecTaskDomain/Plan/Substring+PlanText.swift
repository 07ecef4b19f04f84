// Small text helpers for the plan parser. They work on Characters so that CRLF and
// multi-scalar graphemes behave, and they never lowercase more than a short prefix,
// so a hostile 1 MB line costs one pass, not several.

extension Substring {
    /// The text without leading and trailing whitespace.
    func trimmed() -> Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return self[endIndex...] }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return self[first...last]
    }

    /// The text without leading whitespace.
    func trimmedLeading() -> Substring {
        drop(while: \.isWhitespace)
    }

    /// The text with the given characters removed from both ends.
    func trimming(_ characters: Set<Character>) -> Substring {
        guard let first = firstIndex(where: { !characters.contains($0) }) else { return self[endIndex...] }
        let last = lastIndex(where: { !characters.contains($0) })!
        return self[first...last]
    }

    /// Whether the text starts with `prefix`, ignoring ASCII case.
    func hasPrefixIgnoringCase(_ prefix: String) -> Bool {
        var index = startIndex
        for expected in prefix {
            guard index < endIndex, self[index].lowercased() == expected.lowercased() else { return false }
            index = self.index(after: index)
        }
        return true
    }

    /// The leading run of ASCII digits and the text after it.
    func splitLeadingDigits() -> (digits: Substring, rest: Substring) {
        let end = firstIndex(where: { !($0.isASCII && $0.isNumber) }) ?? endIndex
        return (self[..<end], self[end...])
    }

    /// The leading digits as an `Int`, or `nil` when there are none or they do not fit.
    var leadingInteger: Int? {
        let digits = splitLeadingDigits().digits
        // More than 9 digits cannot be a task number a person wrote; don't risk overflow.
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        return Int(digits)
    }
}

/// The separators that may follow a task number: "Task 1: …", "1. …", "Task 1 - …", "1) …".
let taskNumberSeparators: Set<Character> = [":", ".", ")", "-", "–", "—"]

/// Emphasis markers that may wrap a field name or a whole heading: `**Effort:**`, `_Requirements: 1.1_`.
let emphasisMarkers: Set<Character> = ["*", "_"]
