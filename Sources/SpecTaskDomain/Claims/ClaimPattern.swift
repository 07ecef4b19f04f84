/// A path or glob a Zed thread claims in its instance's workspace, checked and in normal form.
///
/// The claim language, kept small so that whether two claims overlap is always decidable exactly:
/// - Paths are relative to the workspace root and use `/` between segments. `./` at the start, `.` segments,
///   repeated and trailing slashes are dropped: `./Sources//App/` is `Sources/App`.
/// - Refused (`invalid_path`): an empty path or one that names the root itself (`.`), an absolute path (`/x`,
///   `C:x`, `~/x`), any `..` segment, a backslash, a control character, a segment of more than 255 UTF-8 bytes
///   (the longest file name), and more than ``ClaimLimits/pathLength`` characters in all.
/// - `*` matches any run of characters within one segment (also none), `?` exactly one character within a
///   segment, and a segment that is exactly `**` any number of whole segments (also none). `**` inside a
///   longer segment is refused. Every other character is itself (`[id].tsx` is a file name, not a class);
///   nothing escapes `*` or `?`.
/// - A claim covers what it matches **and everything below it**: `Sources/App` covers
///   `Sources/App/main.swift`, as a directory claim should. The manager does not know which names are
///   directories, so a plain path is treated as one that may be.
/// - Patterns are anchored at the root: `*.swift` covers the Swift files at the top (and anything below a
///   directory named so), `**/*.swift` every Swift file.
/// - Since any plain path may be a directory, a glob that can reach below it overlaps it (`**/*.swift` and
///   `docs/README.md` both cover `docs/README.md/x.swift`): the safe side, a claim waits rather than two threads
///   editing one file.
/// - Matching is exact, character by character (case-sensitive; Unicode canonical equivalence counts as equal).
///
/// Two claims overlap when some path is covered by both (``ClaimOverlap``).
public struct ClaimPattern: Sendable, Hashable, CustomStringConvertible {
    /// One `/`-separated part of a pattern.
    enum Segment: Sendable, Hashable {
        /// `**`: any number of whole segments.
        case anyDepth
        /// A segment name, possibly with `*` and `?`.
        case name([Token])
    }

    /// One character of a segment pattern.
    enum Token: Sendable, Hashable {
        case star
        case one
        case character(Character)
    }

    /// The pattern in normal form, as stored and shown.
    public let text: String
    let segments: [Segment]

    /// Whether the pattern has a wildcard (`*`, `?` or `**`), i.e. is a glob rather than a plain path.
    public var isGlob: Bool {
        segments.contains { segment in
            switch segment {
            case .anyDepth: true
            case .name(let tokens): tokens.contains { $0 == .star || $0 == .one }
            }
        }
    }

    public var description: String { text }

    /// Checks and normalises a claimed path.
    ///
    /// - Throws: ``ClaimPatternError`` saying what is wrong, for the `invalid_path` rejection.
    public init(_ raw: String) throws(ClaimPatternError) {
        guard !raw.isEmpty else { throw ClaimPatternError(raw, "is empty") }
        let length = raw.unicodeScalars.count
        guard length <= ClaimLimits.pathLength else {
            throw ClaimPatternError(
                raw,
                "is \(length) characters long; at most \(ClaimLimits.pathLength) are allowed"
            )
        }
        if let control = raw.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ClaimPatternError(raw, "contains the control character U+\(Self.hex(control.value))")
        }
        guard !raw.contains("\\") else {
            throw ClaimPatternError(raw, "contains a backslash; separate segments with /")
        }
        if raw.hasPrefix("/") || raw.hasPrefix("~") || Self.hasDrivePrefix(raw) {
            throw ClaimPatternError(raw, "is absolute; claim paths relative to the workspace root")
        }
        var names: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != ".." else {
                throw ClaimPatternError(raw, "has a .. segment; a claim can not leave or climb the workspace")
            }
            guard part.utf8.count <= ClaimLimits.segmentBytes else {
                throw ClaimPatternError(
                    raw,
                    "has a segment of \(part.utf8.count) bytes; a file name has at most \(ClaimLimits.segmentBytes)"
                )
            }
            guard part == "**" || !part.contains("**") else {
                throw ClaimPatternError(raw, "has ** inside the segment \(part); ** must be a whole segment")
            }
            names.append(part)
        }
        guard !names.isEmpty else {
            throw ClaimPatternError(raw, "names the workspace root; claim ** for the whole workspace")
        }
        text = names.joined(separator: "/")
        segments = names.map { name -> Segment in
            guard name != "**" else { return .anyDepth }
            return .name(
                name.map { character -> Token in
                    switch character {
                    case "*": .star
                    case "?": .one
                    default: .character(character)
                    }
                }
            )
        }
    }

    /// `C:` or `c:` at the start: a Windows drive, absolute in effect.
    private static func hasDrivePrefix(_ raw: String) -> Bool {
        let scalars = Array(raw.unicodeScalars.prefix(2))
        guard scalars.count == 2, scalars[1] == ":" else { return false }
        return (65...90).contains(scalars[0].value) || (97...122).contains(scalars[0].value)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// Why a claimed path is refused, naming it (shortened when it is long).
public struct ClaimPatternError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var problem: String

    init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        "the claimed path \(Self.quoted(path)) \(problem)"
    }

    /// `'path'`: at most 80 characters (then "…"), control characters written as `\u{…}`; the path may be hostile.
    private static func quoted(_ path: String) -> String {
        var result = "'"
        for (offset, scalar) in path.unicodeScalars.enumerated() {
            guard offset < 80 else {
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
}

/// The bounds on path claims: they keep the overlap check under the task's row lock short.
public enum ClaimLimits {
    /// Characters (Unicode scalars) in one claimed path, as the decoder also enforces.
    public static let pathLength = 1024
    /// UTF-8 bytes in one segment: the longest file name of common file systems.
    public static let segmentBytes = 255
    /// Paths in one `paths_claimed` event, as the decoder also enforces.
    public static let pathsPerClaim = 100
    /// Paths claimed (granted or waiting) in one spec task at a time.
    public static let pathsPerSpecTask = 1000
    /// Claim ids in one `paths_released` event.
    public static let claimsPerRelease = 100
    /// Steps the overlap check of one claim may take (states visited, see ``ClaimOverlap``). Counted, not timed,
    /// so the same claim against the same held claims is decided the same way every time.
    public static let overlapWork = 2_000_000
}
