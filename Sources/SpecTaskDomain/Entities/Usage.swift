/// What a thread's agent did and spent, summed over its activity events; also summed per work session and
/// spec task in progress snapshots.
public struct Usage: Sendable, Hashable, Codable {
    /// How many activity events were counted.
    public var activities: Int
    public var filesChanged: Int
    public var linesAdded: Int
    public var linesRemoved: Int
    public var testsRun: Int
    public var testsPassed: Int
    public var tokensIn: Int
    public var tokensOut: Int
    /// Millionths of a US dollar.
    public var costMicros: Int

    public init(
        activities: Int = 0,
        filesChanged: Int = 0,
        linesAdded: Int = 0,
        linesRemoved: Int = 0,
        testsRun: Int = 0,
        testsPassed: Int = 0,
        tokensIn: Int = 0,
        tokensOut: Int = 0,
        costMicros: Int = 0
    ) {
        self.activities = activities
        self.filesChanged = filesChanged
        self.linesAdded = linesAdded
        self.linesRemoved = linesRemoved
        self.testsRun = testsRun
        self.testsPassed = testsPassed
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.costMicros = costMicros
    }

    /// Tokens in and out: what a token budget counts.
    public var tokens: Int { Self.add(tokensIn, tokensOut) }

    public static let zero = Usage()

    /// The field-by-field sum. Sums stop at `Int.max` instead of trapping: a runner sending absurd counts must
    /// not be able to crash the workers (each event's counts are limited, their number is not).
    public static func + (left: Usage, right: Usage) -> Usage {
        Usage(
            activities: add(left.activities, right.activities),
            filesChanged: add(left.filesChanged, right.filesChanged),
            linesAdded: add(left.linesAdded, right.linesAdded),
            linesRemoved: add(left.linesRemoved, right.linesRemoved),
            testsRun: add(left.testsRun, right.testsRun),
            testsPassed: add(left.testsPassed, right.testsPassed),
            tokensIn: add(left.tokensIn, right.tokensIn),
            tokensOut: add(left.tokensOut, right.tokensOut),
            costMicros: add(left.costMicros, right.costMicros)
        )
    }

    /// Saturating addition.
    static func add(_ left: Int, _ right: Int) -> Int {
        let (sum, overflow) = left.addingReportingOverflow(right)
        guard overflow else { return sum }
        return right > 0 ? .max : .min
    }
}

extension Sequence<ZedThread> {
    /// The sum of the threads' usage: what a spec task (or a work session) has spent.
    public var totalUsage: Usage {
        reduce(Usage.zero) { $0 + ($1.usage ?? .zero) }
    }
}

/// How much a spec task's threads may spend; a `nil` limit is no limit.
public struct Budget: Sendable, Hashable, Codable {
    public var maxTokens: Int?
    public var maxCostMicros: Int?

    public init(maxTokens: Int? = nil, maxCostMicros: Int? = nil) {
        self.maxTokens = maxTokens
        self.maxCostMicros = maxCostMicros
    }

    /// Why `usage` has reached this budget, or `nil` while it is within it.
    public func exceeded(by usage: Usage) -> String? {
        var reasons: [String] = []
        if let maxTokens, usage.tokens >= maxTokens {
            reasons.append("\(usage.tokens) tokens used of a budget of \(maxTokens)")
        }
        if let maxCostMicros, usage.costMicros >= maxCostMicros {
            reasons.append(
                "cost \(Budget.dollars(usage.costMicros)) reached the budget of \(Budget.dollars(maxCostMicros))"
            )
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// "$1.234567" for micro-dollars ("-$0.000005" below zero, which sums of valid events never are).
    public static func dollars(_ micros: Int) -> String {
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1_000_000)
        let sign = micros < 0 ? "-" : ""
        return "\(sign)$\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}

/// What a Zed instance's runner last reported about the machine it runs on.
public struct ResourceUsage: Sendable, Hashable, Codable {
    public var cpuPercent: Int?
    public var memoryMB: Int?
    public var uptimeSeconds: Int?

    public init(cpuPercent: Int? = nil, memoryMB: Int? = nil, uptimeSeconds: Int? = nil) {
        self.cpuPercent = cpuPercent
        self.memoryMB = memoryMB
        self.uptimeSeconds = uptimeSeconds
    }
}
