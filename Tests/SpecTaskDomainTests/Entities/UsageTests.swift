import SpecTaskDomain
import Testing

@Suite("Usage and budgets")
struct UsageTests {
    @Test("usage adds up field by field; tokens are in + out")
    func sums() {
        let first = Usage(
            activities: 1,
            filesChanged: 2,
            linesAdded: 3,
            linesRemoved: 4,
            testsRun: 5,
            testsPassed: 6,
            tokensIn: 7,
            tokensOut: 8,
            costMicros: 9
        )
        let total = first + first + .zero
        #expect(
            total
                == Usage(
                    activities: 2,
                    filesChanged: 4,
                    linesAdded: 6,
                    linesRemoved: 8,
                    testsRun: 10,
                    testsPassed: 12,
                    tokensIn: 14,
                    tokensOut: 16,
                    costMicros: 18
                )
        )
        #expect(total.tokens == 30)
    }

    @Test("sums stop at Int.max instead of trapping")
    func saturates() {
        let huge = Usage(activities: .max, tokensIn: .max, tokensOut: .max)
        let total = huge + Usage(activities: 1, tokensIn: 1, tokensOut: 1)
        #expect(total.activities == .max && total.tokensIn == .max && total.tokensOut == .max)
        #expect(total.tokens == .max)
    }

    @Test(
        "dollars are printed exactly from micro-dollars",
        arguments: [
            (0, "$0.000000"), (5, "$0.000005"), (1_234_567, "$1.234567"), (10_000_000, "$10.000000"),
            (-5, "-$0.000005"), (Int.min, "-$9223372036854.775808"),
        ]
    )
    func dollars(micros: Int, text: String) {
        #expect(Budget.dollars(micros) == text)
    }

    @Test("a budget is exceeded once usage reaches a limit, and says which")
    func exceeded() throws {
        let usage = Usage(tokensIn: 600, tokensOut: 400, costMicros: 2_000_000)
        #expect(Budget().exceeded(by: usage) == nil)
        #expect(Budget(maxTokens: 1_001).exceeded(by: usage) == nil)
        #expect(
            try #require(Budget(maxTokens: 1_000).exceeded(by: usage)).contains("1000 tokens used of a budget of 1000")
        )
        #expect(Budget(maxCostMicros: 2_000_001).exceeded(by: usage) == nil)
        let both = try #require(Budget(maxTokens: 10, maxCostMicros: 1_000_000).exceeded(by: usage))
        #expect(both.contains("tokens") && both.contains("$2.000000") && both.contains("$1.000000"))
    }
}
