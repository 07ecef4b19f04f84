import SpecTaskDomain
import Testing

/// The claim language: which paths a claim accepts, its normal form, and when two claims overlap.
@Suite("Path claims: patterns and overlap")
struct ClaimPatternTests {
    private static func overlaps(_ a: String, _ b: String) throws -> Bool {
        let (x, y) = (try ClaimPattern(a), try ClaimPattern(b))
        let forward = try #require(ClaimPattern.overlap(x, y))
        // Overlap is symmetric; checking both ways catches an asymmetric slip in the walk.
        #expect(ClaimPattern.overlap(y, x) == forward, "\(a) vs \(b)")
        return forward
    }

    @Test(
        "overlapping pairs",
        arguments: [
            // Plain paths: the same path, or one below the other (a claim covers everything below it).
            ("Sources/App/main.swift", "Sources/App/main.swift"),
            ("Sources", "Sources/App/main.swift"),
            ("Sources/App", "Sources/App/Models/User.swift"),
            // ** at any depth, also none.
            ("Sources/**", "Sources/App/main.swift"),
            ("Sources/**", "Sources"),
            ("**", "README.md"),
            ("**/*.swift", "Sources/App/main.swift"),
            ("**/*.swift", "main.swift"),
            ("Sources/**/Tests/*.swift", "Sources/A/B/Tests/X.swift"),
            // * and ? within a segment.
            ("*.swift", "main.swift"),
            ("Sources/*/main.swift", "Sources/App/main.swift"),
            ("Sources/App/ma?n.swift", "Sources/App/main.swift"),
            // A match covers what is below it: *.swift also names a directory called x.swift.
            ("*.swift", "x.swift/inner.txt"),
            // Two globs that share a path.
            ("Sources/*.swift", "Sources/A*"),
            ("Sources/**", "**/main.swift"),
            ("a*b", "*ab"),
            ("*.swift", "main.*"),
            ("Sources/App/**", "Sources/*"),
            // Brackets and braces are literal characters.
            ("app/[id].tsx", "app/[id].tsx"),
            // Canonically equivalent names are the same name (é precomposed and decomposed), also under a glob.
            ("Sources/caf\u{E9}.swift", "Sources/cafe\u{301}.swift"),
            ("Sources/caf?.swift", "Sources/cafe\u{301}.swift"),
            // Normal forms meet.
            ("./Sources//App/", "Sources/App/x"),
            // A plain path may be a directory, so a glob that reaches below it overlaps it: on
            // Sources/main.swift/main.swift, Sources/README.md/x.swift and docs/README.md/x.swift.
            ("Sources/*/main.swift", "Sources/main.swift"),
            ("Sources/**/*.swift", "Sources/README.md"),
            ("**/*.swift", "docs/README.md"),
        ]
    )
    func overlapping(_ pair: (String, String)) throws {
        #expect(try Self.overlaps(pair.0, pair.1), "\(pair.0) should overlap \(pair.1)")
    }

    @Test(
        "disjoint pairs",
        arguments: [
            ("Sources/App/main.swift", "Sources/App/other.swift"),
            ("Sources/App", "Sources/Application"),
            ("Sources/App", "Tests/App"),
            // Anchored at the root: *.swift is only the top level (and below directories so named).
            ("*.swift", "Sources/main.swift"),
            ("Sources/*/main.swift", "Sources/App/other.swift"),
            ("Sources/*/main.swift", "Sources/A/B/main.swift"),
            ("Sources/**/*.swift", "Tests/X.swift"),
            ("Sources/**", "Tests/**"),
            ("Sources/App/ma?n.swift", "Sources/App/maiin.swift"),
            ("*.swift", "*.md"),
            ("a*b", "*c"),
            ("Sources/*.swift", "Sources/*.md"),
            ("README.md", "readme.md"),
            ("app/[id].tsx", "app/i.tsx"),
        ]
    )
    func disjoint(_ pair: (String, String)) throws {
        #expect(try !Self.overlaps(pair.0, pair.1), "\(pair.0) should not overlap \(pair.1)")
    }

    @Test("normal form: ./, . segments, repeated and trailing slashes dropped")
    func normalForm() throws {
        #expect(try ClaimPattern("./Sources//App/").text == "Sources/App")
        #expect(try ClaimPattern("Sources/./App/./x.swift").text == "Sources/App/x.swift")
        #expect(try ClaimPattern("**/").text == "**")
        #expect(try ClaimPattern("Sources/App").isGlob == false)
        #expect(try ClaimPattern("Sources/*.swift").isGlob)
        #expect(try ClaimPattern("Sources/**").isGlob)
        #expect(try ClaimPattern("ma?n").isGlob)
    }

    @Test(
        "hostile or meaningless paths are refused, saying why",
        arguments: [
            ("", "is empty"),
            (".", "names the workspace root"),
            ("./", "names the workspace root"),
            ("//", "is absolute"),
            ("/etc/passwd", "is absolute"),
            ("~/secrets", "is absolute"),
            ("C:/Windows", "is absolute"),
            ("c:relative", "is absolute"),
            ("..", "has a .. segment"),
            ("../outside", "has a .. segment"),
            ("Sources/../../etc", "has a .. segment"),
            ("Sources/..", "has a .. segment"),
            ("Sources\\App", "contains a backslash"),
            ("Sources/\u{0}x", "contains the control character U+0000"),
            ("line\nbreak", "contains the control character U+000A"),
            ("del\u{7F}", "contains the control character U+007F"),
            ("Sources/a**b", "** must be a whole segment"),
            ("***", "** must be a whole segment"),
        ]
    )
    func refused(_ case_: (String, String)) throws {
        let error = try #require(throws: ClaimPatternError.self) { try ClaimPattern(case_.0) }
        #expect(error.description.contains(case_.1), "\(error.description)")
    }

    @Test("limits: 1024 characters in a path, 255 bytes in a segment; a long path is shortened in the message")
    func lengthLimits() throws {
        let segment = String(repeating: "a", count: 255)
        let longest = Array(repeating: segment, count: 4).joined(separator: "/")  // 1023 characters
        #expect(try ClaimPattern(longest).text == longest)
        #expect(try ClaimPattern(longest + "/").text == longest)

        let tooLong = try #require(throws: ClaimPatternError.self) { try ClaimPattern(longest + "/bb") }
        #expect(tooLong.description.contains("is 1026 characters long; at most 1024 are allowed"))
        #expect(tooLong.description.count < 200)

        let wideSegment = try #require(throws: ClaimPatternError.self) {
            try ClaimPattern("Sources/" + String(repeating: "é", count: 128))
        }
        #expect(wideSegment.description.contains("has a segment of 256 bytes; a file name has at most 255"))
    }

    @Test("the overlap check stops at its work budget instead of running on")
    func workBudget() throws {
        // Stars everywhere make the walk visit nearly every pair of positions (about 254 × 254) before it finds
        // that no name ends in both a and b.
        let x = try ClaimPattern(String(repeating: "*a", count: 127))
        let y = try ClaimPattern(String(repeating: "*a", count: 126) + "*b")
        #expect(ClaimPattern.overlap(x, y, work: 10_000_000) == false)
        #expect(ClaimPattern.overlap(x, y, work: 1000) == nil)
    }
}
