/// One line of a plan, with what the parser needs to know before interpreting it.
struct PlanLine {
    /// 1-based line number, for error messages.
    var number: Int
    /// The line as written (without its line break).
    var text: Substring
    /// Leading whitespace in columns (a tab advances to the next multiple of 4).
    var indent: Int
    /// The line without surrounding whitespace.
    var content: Substring
    /// Set when the line is inside a fenced code block or is one of its fences: the
    /// indentation of the opening fence. Such a line is text, never a task.
    var codeBlockIndent: Int?

    var isBlank: Bool { content.isEmpty }
    var isCode: Bool { codeBlockIndent != nil }

    /// Splits a plan into lines and marks fenced code blocks.
    ///
    /// Any line break works (LF, CRLF, CR): Swift treats CRLF as one newline `Character`.
    /// A fence is three or more backticks or tildes; it is closed by a line holding at least
    /// as many of the same character and nothing else. An unclosed fence runs to the end.
    static func lines(of plan: String) -> [PlanLine] {
        var lines: [PlanLine] = []
        var openFence: (marker: Character, length: Int, indent: Int)?
        let rawLines = plan.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        lines.reserveCapacity(rawLines.count)
        for (offset, text) in rawLines.enumerated() {
            var line = PlanLine(
                number: offset + 1,
                text: text,
                indent: Self.indentation(of: text),
                content: text.trimmed(),
                codeBlockIndent: nil
            )
            let fence = Self.fence(in: line.content)
            if let open = openFence {
                line.codeBlockIndent = open.indent
                if let fence, fence.marker == open.marker, fence.length >= open.length, fence.isBare {
                    openFence = nil
                }
            } else if let fence {
                line.codeBlockIndent = line.indent
                openFence = (fence.marker, fence.length, line.indent)
            }
            lines.append(line)
        }
        return lines
    }

    private static func indentation(of text: Substring) -> Int {
        var columns = 0
        for character in text {
            switch character {
            case " ": columns += 1
            case "\t": columns += 4 - columns % 4
            default: return columns
            }
        }
        return columns
    }

    /// The fence a line starts with, if any; `isBare` when nothing follows the markers.
    private static func fence(in content: Substring) -> (marker: Character, length: Int, isBare: Bool)? {
        guard let marker = content.first, marker == "`" || marker == "~" else { return nil }
        let markers = content.prefix(while: { $0 == marker })
        guard markers.count >= 3 else { return nil }
        return (marker, markers.count, content.dropFirst(markers.count).allSatisfy(\.isWhitespace))
    }
}
