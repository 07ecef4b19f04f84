import Foundation
import SpecTaskDomain
import Testing

/// thread_activity: what the threads spend, summed per thread, session and spec task; and the budget that
/// stops new sessions once it is used up.
@Suite("SpecTaskManager: thread activity, usage and budgets")
struct ManagerUsageAndBudgetTests {
    private static let instanceID = ZedRun.instanceID
    private static func session(_ task: Int) -> String { ZedRun.session(task) }
    private static func thread(_ task: Int) -> String { ZedRun.thread(task) }

    private static let stillWaiting = "no new work session starts until the budget is raised"
    private static let raised = "budget raised: waiting work sessions may start again"

    private static func activity(
        _ task: Int,
        kind: ZedThreadActivity.Kind = .codeEdit,
        filesChanged: Int? = nil,
        linesAdded: Int? = nil,
        linesRemoved: Int? = nil,
        testsRun: Int? = nil,
        testsPassed: Int? = nil,
        progress: Int? = nil,
        tokensIn: Int? = nil,
        tokensOut: Int? = nil,
        costMicros: Int? = nil
    ) -> ZedEvent {
        .threadActivity(
            ZedThreadActivity(
                instanceID: instanceID,
                workSessionID: session(task),
                kind: kind,
                summary: "did something",
                filesChanged: filesChanged,
                linesAdded: linesAdded,
                linesRemoved: linesRemoved,
                testsRun: testsRun,
                testsPassed: testsPassed,
                progress: progress,
                tokensIn: tokensIn,
                tokensOut: tokensOut,
                costMicros: costMicros
            )
        )
    }

    private static func notice(_ task: Int, _ reason: String) -> BudgetExceededNotice {
        BudgetExceededNotice(
            instanceID: instanceID,
            specTaskID: "st-1",
            workSessionID: session(task),
            threadID: thread(task),
            reason: reason
        )
    }

    // MARK: - Activity

    @Test("the first activity of a pending thread makes it active and its task in progress")
    func firstActivity() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        let emissions = try run.send(
            Self.activity(
                1,
                filesChanged: 2,
                linesAdded: 30,
                linesRemoved: 4,
                progress: 20,
                tokensIn: 1000,
                tokensOut: 200,
                costMicros: 15_000
            )
        )
        #expect(emissions.count == 2)
        #expect(emissions.threadMoves == ["zt-cmd-5-1:pending→active"])
        #expect(emissions.zedThreadChanges.map(\.reason) == ["first activity reported"])
        #expect(emissions.taskMoves == ["1:assigned→in_progress"])
        #expect(emissions.implementationTaskChanges.map(\.reason) == ["work session ws-cmd-5-1 is working on it"])

        let thread = try run.thread(ofSession: Self.session(1))
        #expect(thread.status == .active && thread.lastActivityAt == run.now)
        #expect(
            thread.usage
                == Usage(
                    activities: 1,
                    filesChanged: 2,
                    linesAdded: 30,
                    linesRemoved: 4,
                    tokensIn: 1000,
                    tokensOut: 200,
                    costMicros: 15_000
                )
        )
        #expect(run.state.threadProgress == [Self.thread(1): 20])
    }

    @Test("usage is summed exactly per thread, and per session and task in the progress snapshot")
    func sums() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        try run.send(
            Self.activity(
                1,
                filesChanged: 2,
                linesAdded: 30,
                linesRemoved: 4,
                progress: 20,
                tokensIn: 1000,
                tokensOut: 200,
                costMicros: 15_000
            )
        )
        try run.send(
            Self.activity(
                1,
                kind: .testRun,
                testsRun: 12,
                testsPassed: 11,
                progress: 40,
                tokensIn: 300,
                tokensOut: 50,
                costMicros: 4_500
            )
        )
        let third = try run.send(Self.activity(1, kind: .gitCommit, filesChanged: 3, linesAdded: 5))
        #expect(third.isEmpty, "an active thread's activity is no status news")
        try run.send(Self.activity(2, kind: .message, tokensIn: 7, tokensOut: 9, costMicros: 1))

        let first = Usage(
            activities: 3,
            filesChanged: 5,
            linesAdded: 35,
            linesRemoved: 4,
            testsRun: 12,
            testsPassed: 11,
            tokensIn: 1300,
            tokensOut: 250,
            costMicros: 19_500
        )
        let second = Usage(activities: 1, tokensIn: 7, tokensOut: 9, costMicros: 1)
        #expect(try run.thread(ofSession: Self.session(1)).usage == first)
        #expect(try run.thread(ofSession: Self.session(2)).usage == second)
        #expect(try run.thread(ofSession: Self.session(3)).usage == nil, "no activity yet")
        #expect(run.state.threadProgress == [Self.thread(1): 40], "an activity without progress keeps the last")

        let snapshot = run.snapshot
        #expect(snapshot.workSessions.map(\.usage) == [first, second, .zero])
        #expect(
            snapshot.usage
                == Usage(
                    activities: 4,
                    filesChanged: 5,
                    linesAdded: 35,
                    linesRemoved: 4,
                    testsRun: 12,
                    testsPassed: 11,
                    tokensIn: 1307,
                    tokensOut: 259,
                    costMicros: 19_501
                )
        )
        #expect(snapshot.usage.tokens == 1566)
        #expect(snapshot.budget == nil)
        #expect(snapshot.implementationTasks.map(\.percent) == [40, 0, 0])

        try run.apply(.setBudget(SetBudget(maxTokens: 10_000, maxCostMicros: 1_000_000)))
        #expect(run.snapshot.budget == Budget(maxTokens: 10_000, maxCostMicros: 1_000_000))
    }

    @Test("activity after the thread completed still counts what it spent, but not as progress")
    func afterCompletion() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        try run.send(Self.activity(1, progress: 60, tokensIn: 100))
        try run.threadCompleted(Self.session(1))
        #expect(run.state.threadProgress == [Self.thread(1): 100])
        #expect(run.task.status == .implementationReview)

        let emissions = try run.send(Self.activity(1, progress: 30, tokensIn: 50, tokensOut: 5, costMicros: 70))
        #expect(emissions.isEmpty)
        let thread = try run.thread(ofSession: Self.session(1))
        #expect(thread.status == .completed && thread.lastActivityAt == run.now)
        #expect(thread.usage == Usage(activities: 2, tokensIn: 150, tokensOut: 5, costMicros: 70))
        #expect(run.state.threadProgress == [Self.thread(1): 100])
        #expect(run.snapshot.overallPercent == 100)
    }

    @Test("activity of a session that has not started is rejected")
    func notStarted() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        let before = run.state
        let rejection = try run.reject(Self.activity(2, tokensIn: 5))
        #expect(
            rejection
                == Rejection(
                    .illegalTransition,
                    "work session ws-cmd-5-2 has not started (it is pending), so its Zed thread can not report activity"
                )
        )
        #expect(run.state == before)
    }

    @Test("activity of a thread its runner reported disconnected makes it active again")
    func disconnectedThread() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        try run.threadCreated(Self.session(1))
        try run.send(
            .threadStatusChanged(
                ZedThreadStatusChanged(
                    instanceID: Self.instanceID,
                    workSessionID: Self.session(1),
                    status: .disconnected
                )
            )
        )
        let emissions = try run.send(Self.activity(1, tokensIn: 1))
        #expect(emissions.threadMoves == ["zt-cmd-5-1:disconnected→active"])
        #expect(emissions.zedThreadChanges.map(\.reason) == ["activity reported"])
        #expect(emissions.count == 1)
    }

    // MARK: - Budget

    @Test("a token budget: crossing it is announced once, runners are told, and the next task waits")
    func tokenBudget() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        try run.threadCreated(Self.session(1))

        try run.apply(.setBudget(SetBudget(maxTokens: 1000)))
        #expect(run.task.budget == Budget(maxTokens: 1000))
        #expect(
            Array(run.emissions.dropFirst()) == [
                .status(
                    .specTaskChanged(
                        SpecTaskChange(
                            from: .implementation,
                            to: .implementation,
                            reason: "budget set: 1000 tokens, no cost limit",
                            specTask: run.task
                        )
                    )
                )
            ]
        )

        #expect(try run.send(Self.activity(1, tokensIn: 400, tokensOut: 100)).isEmpty)
        let crossing = try run.send(Self.activity(1, tokensIn: 400, tokensOut: 150))
        let reason = "budget exceeded: 1050 tokens used of a budget of 1000; \(Self.stillWaiting)"
        #expect(
            crossing == [
                .status(
                    .specTaskChanged(
                        SpecTaskChange(from: .implementation, to: .implementation, reason: reason, specTask: run.task)
                    )
                ),
                .zed(.budgetExceeded(Self.notice(1, reason))),
            ]
        )
        #expect(try run.send(Self.activity(1, tokensIn: 10)).isEmpty, "announced once, not per activity")

        // Neither a spawned session nor the next task of the plan starts while the budget is used up.
        try run.send(
            .spawnRequested(
                ZedSpawnRequested(
                    instanceID: Self.instanceID,
                    workSessionID: Self.session(1),
                    name: "Helper",
                    newWorkSessionID: "ws-helper"
                )
            )
        )
        #expect(run.emissions.sessionMoves == ["ws-helper:nil→pending"])
        try run.threadCompleted(Self.session(1))
        #expect(run.emissions.sessionMoves == ["ws-cmd-5-1:active→completed"])
        #expect(run.emissions.createdThreads.isEmpty)
        #expect(try run.implementationTask(1).status == .completed)
        #expect(try run.session(Self.session(2)).status == .pending)
        #expect(run.task.status == .implementation, "waiting for the budget is neither done nor failed")

        // Raising it announces the change and starts the waiting sessions in the same decision.
        let raise = try run.apply(.setBudget(SetBudget(maxTokens: 5000)))
        #expect(
            raise.specTaskChanges.map(\.reason) == ["budget set: 5000 tokens, no cost limit", Self.raised]
        )
        #expect(raise.dropFirst().prefix(2).map(\.isSpecTaskChange) == [true, true], "announced before they start")
        #expect(raise.sessionMoves == ["ws-cmd-5-2:pending→active", "ws-helper:pending→active"])
        #expect(raise.createdThreads.map(\.workSessionID) == [Self.session(2), "ws-helper"])
        #expect(raise.budgetNotices.isEmpty)
    }

    @Test("every running thread is told, a disconnected one too; a finished one is not")
    func noticePerThread() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        for index in 1...3 {
            try run.threadCreated(Self.session(index))
        }
        try run.threadCompleted(Self.session(3))
        try run.send(
            .threadStatusChanged(
                ZedThreadStatusChanged(
                    instanceID: Self.instanceID,
                    workSessionID: Self.session(2),
                    status: .disconnected
                )
            )
        )
        try run.apply(.setBudget(SetBudget(maxTokens: 10, maxCostMicros: 5)))
        #expect(run.emissions.specTaskChanges.map(\.reason) == ["budget set: 10 tokens, $0.000005"])

        let emissions = try run.send(Self.activity(1, tokensIn: 20, costMicros: 10))
        let reason =
            "budget exceeded: 20 tokens used of a budget of 10; cost $0.000010 reached the budget of $0.000005; "
            + Self.stillWaiting
        #expect(emissions.specTaskChanges.map(\.reason) == [reason])
        #expect(emissions.budgetNotices == [Self.notice(1, reason), Self.notice(2, reason)])
        #expect(emissions.zedCommands.count == 2)
    }

    @Test("a budget set below what was spent is exceeded at once")
    func setBelowUsage() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        try run.send(Self.activity(1, tokensIn: 450, tokensOut: 50))
        let emissions = try run.apply(.setBudget(SetBudget(maxTokens: 300)))
        let reason = "budget exceeded: 500 tokens used of a budget of 300; \(Self.stillWaiting)"
        #expect(emissions.specTaskChanges.map(\.reason) == ["budget set: 300 tokens, no cost limit", reason])
        #expect(emissions.budgetNotices == [Self.notice(1, reason)])
        #expect(emissions.count == 4)
    }

    @Test("removing the budget lets the waiting sessions start")
    func removeBudget() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        try run.apply(.setBudget(SetBudget(maxTokens: 100)))
        let exactly = try run.send(Self.activity(1, tokensIn: 60, tokensOut: 40))
        #expect(
            exactly.specTaskChanges.map(\.reason) == [
                "budget exceeded: 100 tokens used of a budget of 100; \(Self.stillWaiting)"
            ],
            "reaching the limit uses it up"
        )
        try run.threadCompleted(Self.session(1))
        #expect(run.emissions.createdThreads.isEmpty)

        let removal = try run.apply(.setBudget(SetBudget()))
        #expect(run.task.budget == nil)
        #expect(removal.specTaskChanges.map(\.reason) == ["budget removed", Self.raised])
        #expect(removal.sessionMoves == ["ws-cmd-5-2:pending→active"])
        #expect(removal.createdThreads.map(\.workSessionID) == [Self.session(2)])
    }

    @Test("a cost budget works the same, with a concurrency limit of 1")
    func costBudget() throws {
        var run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 1)
        try run.ready()
        try run.apply(.setBudget(SetBudget(maxCostMicros: 2_000_000)))
        #expect(run.emissions.specTaskChanges.map(\.reason) == ["budget set: no token limit, $2.000000"])

        #expect(try run.send(Self.activity(1, tokensIn: 5_000_000, costMicros: 1_500_000)).count == 2)
        let crossing = try run.send(Self.activity(1, costMicros: 600_000))
        let reason = "budget exceeded: cost $2.100000 reached the budget of $2.000000; \(Self.stillWaiting)"
        #expect(crossing.specTaskChanges.map(\.reason) == [reason])
        #expect(crossing.budgetNotices == [Self.notice(1, reason)])
        #expect(crossing.count == 2)

        try run.threadCompleted(Self.session(1))
        #expect(run.state.activeSessions.isEmpty, "the free slot stays free")
        #expect(run.emissions.createdThreads.isEmpty)

        let raise = try run.apply(.setBudget(SetBudget(maxCostMicros: 3_000_000)))
        #expect(raise.specTaskChanges.map(\.reason) == ["budget set: no token limit, $3.000000", Self.raised])
        #expect(raise.sessionMoves == ["ws-cmd-5-2:pending→active"], "one, for the limit of 1")
        #expect(run.snapshot.usage.costMicros == 2_100_000)
        #expect(run.snapshot.budget == Budget(maxCostMicros: 3_000_000))
    }
}

extension Emission {
    fileprivate var isSpecTaskChange: Bool {
        if case .status(.specTaskChanged) = self { true } else { false }
    }
}
