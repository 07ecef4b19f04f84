import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: work session status reports")
struct ManagerWorkSessionStatusTests {
    @Test("completed: the thread completes and is told to stop, the task completes, dependents start")
    func completed() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let first = try scenario.sessionID(task: 1)
        let threadID = try #require(scenario.state?.thread(ofSession: first)?.id)
        try scenario.setSessionStatus(first, .completed, reason: "merged")

        let state = try #require(scenario.state)
        let session = try #require(state.session(first))
        #expect(session.status == .completed)
        #expect(session.completedAt == ManagerFixtures.start.addingTimeInterval(6))
        #expect(state.thread(ofSession: first)?.status == .completed)
        #expect(state.implementationTask(1)?.status == .completed)
        #expect(state.activeTaskIndexes == [2])

        let sessionChange = try #require(scenario.emissions.workSessionChanges.first)
        #expect(sessionChange.from == .active && sessionChange.to == .completed && sessionChange.reason == "merged")
        #expect(scenario.emissions.zedThreadChanges.first?.reason == "work session completed")
        #expect(
            scenario.emissions.stoppedThreads
                == [
                    StopZedThread(
                        instanceID: "zi-cmd-5-1",
                        specTaskID: "st-1",
                        workSessionID: first,
                        threadID: threadID,
                        reason: "work session completed"
                    )
                ]
        )
    }

    @Test("failed: the thread fails, the task is blocked, and with nothing left to run the spec task fails")
    func failed() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let first = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(first, .failed, reason: "tests do not compile")

        let state = try #require(scenario.state)
        #expect(state.thread(ofSession: first)?.status == .failed)
        #expect(state.implementationTask(1)?.status == .blocked)
        #expect(state.sessions(forTask: 2).first?.status == .pending, "task 2 still waits on task 1")
        #expect(state.task.status == .implementationFailed)
        #expect(
            scenario.emissions.specTaskChanges.last?.reason
                == "work session \(first) (implementation task 1) failed and no other work session can go on; "
                + "retry to continue"
        )
        #expect(scenario.emissions.stoppedThreads.count == 1)
    }

    @Test("failed while an independent session still runs: the spec task fails only when that one ends")
    func failedWhileOthersRun() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.numberedSimple)
        try scenario.setSessionStatus(try scenario.sessionID(task: 1), .failed)
        #expect(scenario.task.status == .implementation)
        try scenario.finishTask(2)
        #expect(scenario.task.status == .implementation)
        try scenario.finishTask(3)
        #expect(scenario.task.status == .implementationFailed)
    }

    @Test("cancelled: the thread fails as cancelled, the task is blocked, the spec task stays in implementation")
    func cancelled() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(session, .cancelled)
        let state = try #require(scenario.state)
        #expect(state.thread(ofSession: session)?.status == .failed)
        #expect(scenario.emissions.zedThreadChanges.first?.reason == "work session cancelled")
        #expect(scenario.emissions.stoppedThreads.first?.reason == "work session cancelled")
        #expect(state.implementationTask(1)?.status == .blocked)
        #expect(state.task.status == .implementation, "a cancellation is a decision, not a failure")
    }

    @Test("a waiting session that is cancelled had no thread in Zed: nothing is told to stop, its task stays pending")
    func cancelledBeforeStart() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let second = try scenario.sessionID(task: 2)
        try scenario.setSessionStatus(second, .cancelled)
        #expect(scenario.state?.thread(ofSession: second)?.status == .failed)
        #expect(scenario.emissions.stoppedThreads.isEmpty)
        #expect(scenario.state?.implementationTask(2)?.status == .pending)
        #expect(scenario.emissions.implementationTaskChanges.isEmpty)
    }

    @Test("blocked: the task is blocked, the thread stays as it is; active again resumes both")
    func blockedAndResumed() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: session, status: .active)
        try scenario.setSessionStatus(session, .blocked, reason: "needs an API key")
        #expect(scenario.state?.implementationTask(1)?.status == .blocked)
        #expect(scenario.state?.thread(ofSession: session)?.status == .active)
        #expect(scenario.emissions.zedThreadChanges.isEmpty)

        try scenario.setSessionStatus(session, .active)
        #expect(scenario.state?.implementationTask(1)?.status == .inProgress)
        #expect(scenario.state?.implementationTask(1)?.assignedWorkSessionID == session)
        #expect(scenario.emissions.implementationTaskChanges.map(\.to) == [.assigned, .inProgress])
        #expect(scenario.emissions.createdThreads.isEmpty)
    }

    @Test("a change the table does not allow is rejected with its explanation")
    func illegalTransition() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(session, .completed)
        let rejection = try scenario.reject(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: session, status: .active))
        )
        #expect(
            rejection
                == Rejection(
                    .illegalTransition,
                    "work session \(session) cannot go from completed to active; completed is terminal"
                )
        )

        var fresh = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let pending = try fresh.sessionID(task: 2)
        let early = try fresh.reject(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: pending, status: .completed))
        )
        #expect(early.code == .illegalTransition)
        #expect(early.message.hasPrefix("work session \(pending) cannot go from pending to completed"))
    }

    @Test("an unknown work session is named in the rejection")
    func unknownSession() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let rejection = try scenario.reject(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: "ws-nope", status: .completed))
        )
        #expect(rejection == Rejection(.unknownWorkSession, "work session ws-nope does not exist in spec task st-1"))
    }
}
