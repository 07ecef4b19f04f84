/// Whether two claim patterns cover a common path, within a budget of work.
///
/// Each pattern is read as followed by `/**` (a claim covers everything below what it matches), and two
/// patterns overlap when the sets of paths they cover intersect. The check walks pairs of positions in the two
/// patterns (segments, then characters within a segment pair), visiting each pair at most once, so it is exact
/// and its cost is at most the product of the patterns' sizes. Every pair visited counts against
/// ``remainingWork``; when that runs out the check stops with ``Exhausted``.
///
/// The one approximation is on the safe side: a segment pattern may be taken to match a name no file can have
/// (`.?` and `?.` are taken to overlap on `..`).
struct ClaimOverlap {
    /// Pairs of positions the checker may still visit.
    private(set) var remainingWork: Int

    struct Exhausted: Error {}

    init(work: Int = ClaimLimits.overlapWork) {
        remainingWork = work
    }

    /// Whether some path is covered by both patterns.
    mutating func overlaps(_ a: ClaimPattern, _ b: ClaimPattern) throws(Exhausted) -> Bool {
        if a.text == b.text { return true }
        if !a.isGlob && !b.isGlob {
            return Self.isPrefix(a.segments, of: b.segments) || Self.isPrefix(b.segments, of: a.segments)
        }
        return try segmentsOverlap(a.segments, b.segments)
    }

    /// Plain paths: one covers the other when its segments start the other's.
    private static func isPrefix(_ short: [ClaimPattern.Segment], of long: [ClaimPattern.Segment]) -> Bool {
        short.count <= long.count && zip(short, long).allSatisfy { $0 == $1 }
    }

    /// Segment positions (i, j): a state is reached when the first i segments of `a` and the first j of `b` can
    /// match the same path. Either pattern ending means its implicit `/**` takes the rest of the other.
    private mutating func segmentsOverlap(
        _ a: [ClaimPattern.Segment],
        _ b: [ClaimPattern.Segment]
    ) throws(Exhausted) -> Bool {
        let width = b.count + 1
        var visited = [Bool](repeating: false, count: (a.count + 1) * width)
        var pending = [(0, 0)]
        while let (i, j) = pending.popLast() {
            if i == a.count || j == b.count { return true }
            guard !visited[i * width + j] else { continue }
            visited[i * width + j] = true
            try spend()
            switch (a[i], b[j]) {
            case (.anyDepth, _):
                // a's ** matches nothing more, or also the segment b[j] stands for (b's ** ending, if it is one).
                pending.append((i + 1, j))
                pending.append((i, j + 1))
            case (_, .anyDepth):
                pending.append((i, j + 1))
                pending.append((i + 1, j))
            case (.name(let x), .name(let y)):
                if try namesOverlap(x, y) { pending.append((i + 1, j + 1)) }
            }
        }
        return false
    }

    /// Whether one segment name matches both patterns: positions (p, q) in the two token lists.
    private mutating func namesOverlap(_ x: [ClaimPattern.Token], _ y: [ClaimPattern.Token]) throws(Exhausted) -> Bool {
        if x == y { return true }
        let width = y.count + 1
        var visited = [Bool](repeating: false, count: (x.count + 1) * width)
        var pending = [(0, 0)]
        while let (p, q) = pending.popLast() {
            if p == x.count && q == y.count { return true }
            guard !visited[p * width + q] else { continue }
            visited[p * width + q] = true
            try spend()
            // A star may stop matching.
            if p < x.count, x[p] == .star { pending.append((p + 1, q)) }
            if q < y.count, y[q] == .star { pending.append((p, q + 1)) }
            // Both produce the same next character; a star stays where it is.
            guard p < x.count, q < y.count else { continue }
            if case .character(let c) = x[p], case .character(let d) = y[q], c != d { continue }
            if x[p] == .star && y[q] == .star { continue }
            pending.append((x[p] == .star ? p : p + 1, y[q] == .star ? q : q + 1))
        }
        return false
    }

    private mutating func spend() throws(Exhausted) {
        remainingWork -= 1
        if remainingWork < 0 { throw Exhausted() }
    }
}

extension ClaimPattern {
    /// Whether some path is covered by both patterns, or `nil` when finding out takes more than `work` steps.
    public static func overlap(_ a: ClaimPattern, _ b: ClaimPattern, work: Int = ClaimLimits.overlapWork) -> Bool? {
        var checker = ClaimOverlap(work: work)
        return try? checker.overlaps(a, b)
    }
}
