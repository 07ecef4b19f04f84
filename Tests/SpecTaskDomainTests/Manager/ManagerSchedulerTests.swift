import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: the scheduler")
struct ManagerSchedulerTests {
    @Test("with a limit of 2, five independent tasks never run more than 2 at once and all finish")
    func limitOfTwo() throws {
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 2)
        #expect(scenario.state?.activeTaskIndexes == [1, 2])
        var startedTasks = scenario.emissions.createdThreads.compactMap(\.implementationTaskIndex)

        // Finish them out of order; the runner reports each thread active, some progress, then completed.
        for index in [2, 1, 4, 3, 5] {
            let sessionID = try scenario.sessionID(task: index)
            for report in [
                UpdateZedThread(workSessionID: sessionID, status: .active),
                UpdateZedThread(workSessionID: sessionID, progress: 50),
                UpdateZedThread(workSessionID: sessionID, status: .completed),
            ] {
                try scenario.apply(.updateZedThread(report))
                #expect(try #require(scenario.state).activeSessions.count <= 2)
                startedTasks += scenario.emissions.createdThreads.compactMap(\.implementationTaskIndex)
            }
        }
        let state = try #require(scenario.state)
        #expect(startedTasks == [1, 2, 3, 4, 5], "the queue follows plan order")
        #expect(state.workSessions.allSatisfy { $0.status == .completed })
        #expect(state.task.status == .implementationReview)
    }

    @Test("raising the limit starts waiting sessions at once")
    func raiseLimit() throws {
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 1)
        #expect(scenario.state?.activeTaskIndexes == [1])
        try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 3)))
        #expect(scenario.state?.activeTaskIndexes == [1, 2, 3])
        #expect(scenario.emissions.createdThreads.map(\.implementationTaskIndex) == [2, 3])
        try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: nil)))
        #expect(scenario.state?.activeTaskIndexes == [1, 2, 3, 4, 5])
    }

    @Test("lowering the limit stops nothing; new sessions wait until the count is below it")
    func lowerLimit() throws {
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 3)
        try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 1)))
        #expect(scenario.state?.activeTaskIndexes == [1, 2, 3])
        #expect(scenario.emissions.workSessionChanges.isEmpty)

        try scenario.finishTask(1)
        try scenario.finishTask(2)
        #expect(scenario.state?.activeTaskIndexes == [3], "two active is still above the limit of one")
        try scenario.finishTask(3)
        #expect(scenario.state?.activeTaskIndexes == [4])
    }

    @Test("spawned sessions count against the limit and queue behind the plan's sessions")
    func spawnedSessionsQueue() throws {
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 2)
        let first = try scenario.sessionID(task: 1)
        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(
                    parentWorkSessionID: first,
                    name: "Write fixtures",
                    initialPrompt: "Write fixtures for the profile page.",
                    workSessionID: "ws-helper"
                )
            )
        )
        #expect(scenario.state?.session("ws-helper")?.status == .pending)
        #expect(scenario.emissions.createdThreads.isEmpty)

        // Task 3 is ahead of the helper in the queue.
        try scenario.finishTask(2)
        #expect(scenario.state?.activeTaskIndexes == [1, 3])
        #expect(scenario.state?.session("ws-helper")?.status == .pending)

        try scenario.finishTask(3)
        try scenario.finishTask(4)
        try scenario.finishTask(5)
        #expect(scenario.state?.session("ws-helper")?.status == .active)
        let thread = try #require(scenario.emissions.createdThreads.first)
        #expect(thread.workSessionID == "ws-helper")
        #expect(
            thread.initialPrompt == "Write fixtures for the profile page.",
            "the prompt is kept until the thread starts"
        )
        #expect(thread.implementationTaskIndex == nil && thread.implementationTaskTitle == nil)
    }

    @Test("a blocked session frees its slot, and resuming it needs one")
    func blockedFreesSlot() throws {
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 2)
        let first = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(first, .blocked, reason: "waiting for credentials")
        #expect(scenario.state?.activeTaskIndexes == [2, 3])
        #expect(scenario.state?.implementationTask(1)?.status == .blocked)

        let rejection = try scenario.reject(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: first, status: .active))
        )
        #expect(rejection.code == .conflict)
        #expect(rejection.message.contains("already has 2 active work sessions and its limit is 2"))

        try scenario.finishTask(2)
        // Finishing task 2 gave its slot to task 4 at once; the blocked session waits for another.
        #expect(scenario.state?.activeTaskIndexes == [3, 4])
        // Raising the limit to 4 starts task 5 as well, which leaves one slot for the blocked session.
        try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 4)))
        #expect(scenario.state?.activeTaskIndexes == [3, 4, 5])
        try scenario.setSessionStatus(first, .active)
        #expect(scenario.state?.session(first)?.status == .active)
        #expect(scenario.emissions.createdThreads.isEmpty, "a resumed session keeps its thread")
        #expect(scenario.state?.implementationTask(1)?.status == .inProgress)
    }

    @Test("a waiting session started by hand skips the queue but not its dependencies")
    func manualStart() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let frontend = try scenario.sessionID(task: 3)
        let early = try scenario.reject(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: frontend, status: .active))
        )
        #expect(early.code == .illegalTransition)
        #expect(
            early.message
                == "work session \(frontend) can not start yet: implementation task 3 waits on task 2 (pending)"
        )
    }

    @Test("a session put back in the queue is restarted by the scheduler and keeps its thread")
    func requeue() throws {
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 4)
        let fourth = try scenario.sessionID(task: 4)
        try scenario.setSessionStatus(fourth, .blocked)
        #expect(scenario.state?.activeTaskIndexes == [1, 2, 3, 5], "the freed slot goes to task 5")
        try scenario.finishTask(1)
        try scenario.setSessionStatus(fourth, .pending)
        #expect(scenario.state?.session(fourth)?.status == .active, "the scheduler restarts it in the same command")
        #expect(scenario.emissions.createdThreads.isEmpty, "it keeps the thread it had")
        #expect(
            scenario.emissions.implementationTaskChanges.map(\.to) == [.pending, .assigned],
            "back in the queue, then assigned again"
        )
        #expect(scenario.state?.implementationTask(4)?.assignedWorkSessionID == fourth)
    }

    @Test("started by hand: pending → active assigns the task, marks it in progress and creates the thread")
    func manualStartEffects() throws {
        // Block task 1's session before anything else can start, so task 2's session is still pending.
        var scenario = try Scenario.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 1)
        let second = try scenario.sessionID(task: 2)
        try scenario.setSessionStatus(second, .blocked, reason: "not yet")
        #expect(scenario.state?.implementationTask(2)?.status == .pending, "it was never assigned to the session")
        try scenario.setSessionStatus(try scenario.sessionID(task: 1), .completed)
        // Task 1 done: the scheduler starts task 3 (2 is blocked, not pending).
        #expect(scenario.state?.activeTaskIndexes == [3])
        try scenario.finishTask(3)
        #expect(scenario.state?.activeTaskIndexes == [4])
        try scenario.setSessionStatus(try scenario.sessionID(task: 4), .completed)
        try scenario.setSessionStatus(try scenario.sessionID(task: 5), .completed)
        #expect(scenario.state?.activeSessions.isEmpty == true)

        try scenario.setSessionStatus(second, .active)
        let events = scenario.emissions.implementationTaskChanges.map {
            "\($0.from.map(\.rawValue) ?? "nil")→\($0.to.rawValue)"
        }
        #expect(events == ["pending→assigned", "assigned→in_progress"])
        #expect(scenario.emissions.createdThreads.map(\.workSessionID) == [second], "first start creates the thread")
    }
}
