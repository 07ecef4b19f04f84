/// Splits a SQL script into single statements.
///
/// PostgresNIO sends queries with the extended protocol, which takes one statement at a time, so a migration
/// file has to be cut at its top-level semicolons. Semicolons inside string literals, quoted identifiers,
/// comments and dollar-quoted bodies (`$$ … $$`, `$tag$ … $tag$`) do not end a statement.
public enum SQLStatementSplitter {
    public static func split(_ sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0

        func flush() {
            let statement = String(current).trimmingWhitespace()
            if !statement.isEmpty, !isOnlyComments(statement) { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func copy(until end: Int) {
            let stop = min(end, chars.count)
            current.append(contentsOf: chars[i..<stop])
            i = stop
        }
        func find(_ needle: [Unicode.Scalar], from start: Int) -> Int? {
            guard !needle.isEmpty, chars.count >= needle.count else { return nil }
            var j = start
            while j + needle.count <= chars.count {
                if Array(chars[j..<j + needle.count]) == needle { return j }
                j += 1
            }
            return nil
        }

        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            switch c {
            case "'", "\"":
                // A doubled quote inside is an escaped quote; the scan simply continues past it.
                var j = i + 1
                while j < chars.count {
                    if chars[j] == c {
                        if j + 1 < chars.count, chars[j + 1] == c {
                            j += 2
                            continue
                        }
                        break
                    }
                    j += 1
                }
                copy(until: j + 1)
            case "-" where next == "-":
                copy(until: (find(["\n"], from: i) ?? chars.count - 1) + 1)
            case "/" where next == "*":
                copy(until: (find(["*", "/"], from: i + 2) ?? chars.count) + 2)
            case "$":
                // $tag$ where tag is empty or an identifier not starting with a digit ($1 is a parameter).
                var j = i + 1
                while j < chars.count,
                    chars[j].properties.isAlphabetic || chars[j] == "_" || (j > i + 1 && ("0"..."9").contains(chars[j]))
                {
                    j += 1
                }
                if j < chars.count, chars[j] == "$" {
                    let tag = Array(chars[i...j])
                    let close = find(tag, from: j + 1)
                    copy(until: (close ?? chars.count) + tag.count)
                } else {
                    copy(until: i + 1)
                }
            case ";":
                i += 1
                flush()
            default:
                copy(until: i + 1)
            }
        }
        flush()
        return statements
    }

    private static func isOnlyComments(_ statement: String) -> Bool {
        statement.split(separator: "\n").allSatisfy {
            $0.trimmingWhitespace().isEmpty || $0.trimmingWhitespace().hasPrefix("--")
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
