import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: Zed thread reports")
struct ManagerZedThreadTests {
    @Test("the Zed thread id is stored and announced; the report counts as activity")
    func externalID() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: session, externalID: "zed-7")
        let thread = try #require(scenario.state?.thread(ofSession: session))
        #expect(thread.zedThreadExternalID == "zed-7")
        #expect(thread.lastActivityAt == ManagerFixtures.start.addingTimeInterval(6))
        #expect(
            scenario.emissions.zedThreadChanges
                == [ZedThreadChange(from: .pending, to: .pending, reason: "Zed thread id reported", zedThread: thread)]
        )

        try scenario.reportThread(of: session, externalID: "zed-7")
        #expect(scenario.emissions.count == 1, "the same id again is no news")
    }

    @Test("progress is stored per thread; outside 0...100 it is rejected")
    func progress() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        let threadID = try #require(scenario.state?.thread(ofSession: session)?.id)
        try scenario.reportThread(of: session, progress: 0)
        try scenario.reportThread(of: session, progress: 100)
        #expect(scenario.state?.threadProgress == [threadID: 100])
        #expect(scenario.emissions.count == 1, "progress goes to spectask.progress, not to the status topic")
        for invalid in [-1, 101] {
            let rejection = try scenario.reject(
                .updateZedThread(UpdateZedThread(workSessionID: session, progress: invalid))
            )
            #expect(rejection.code == .invalidArgument)
            #expect(rejection.message.contains("\(invalid)") && rejection.message.contains(session))
        }
        #expect(
            try scenario.reject(.updateZedThread(UpdateZedThread(workSessionID: session, zedThreadExternalID: ""))).code
                == .invalidArgument
        )
    }

    @Test("active puts the task in progress; repeating the current status is a harmless duplicate")
    func activeAndDuplicate() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: session, status: .active)
        #expect(scenario.state?.implementationTask(1)?.status == .inProgress)
        #expect(scenario.emissions.zedThreadChanges.map(\.to) == [.active])
        #expect(scenario.emissions.implementationTaskChanges.map(\.to) == [.inProgress])

        try scenario.reportThread(of: session, status: .active)
        #expect(scenario.emissions.count == 1)
    }

    @Test("completed completes the session and its task without telling the runner to stop what it finished")
    func completed() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let first = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: first, status: .completed)
        let state = try #require(scenario.state)
        #expect(state.session(first)?.status == .completed)
        #expect(state.implementationTask(1)?.status == .completed)
        #expect(scenario.emissions.stoppedThreads.isEmpty)
        #expect(scenario.emissions.workSessionChanges.first?.reason == "Zed thread zt-cmd-5-1 completed")
        #expect(state.activeTaskIndexes == [2])
    }

    @Test("failed fails the session and blocks its task")
    func failed() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.numberedSimple)
        let first = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: first, status: .failed)
        #expect(scenario.state?.session(first)?.status == .failed)
        #expect(scenario.state?.implementationTask(1)?.status == .blocked)
        #expect(scenario.emissions.workSessionChanges.first?.reason == "Zed thread zt-cmd-5-1 failed")
    }

    @Test("a thread change the table does not allow is rejected")
    func illegalTransitions() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.numberedSimple)
        let first = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: first, status: .completed)
        let afterEnd = try scenario.reject(.updateZedThread(UpdateZedThread(workSessionID: first, status: .active)))
        #expect(
            afterEnd
                == Rejection(
                    .illegalTransition,
                    "Zed thread zt-cmd-5-1 cannot go from completed to active; completed is terminal"
                )
        )

        let second = try scenario.sessionID(task: 2)
        try scenario.reportThread(of: second, status: .active)
        try scenario.reportThread(of: second, status: .disconnected)
        let disconnected = try scenario.reject(
            .updateZedThread(UpdateZedThread(workSessionID: second, status: .completed))
        )
        #expect(disconnected.code == .illegalTransition)
        #expect(disconnected.message.hasPrefix("Zed thread zt-cmd-5-2 cannot go from disconnected to completed"))
        try scenario.reportThread(of: second, status: .active)
        try scenario.reportThread(of: second, status: .completed)
        #expect(scenario.state?.session(second)?.status == .completed)
    }

    @Test("a session that has not started has no thread in Zed to report on")
    func notStarted() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let second = try scenario.sessionID(task: 2)
        let rejection = try scenario.reject(.updateZedThread(UpdateZedThread(workSessionID: second, status: .active)))
        #expect(rejection.code == .illegalTransition)
        #expect(rejection.message.contains("\(second) has not started (it is pending)"))
        let unknown = try scenario.reject(.updateZedThread(UpdateZedThread(workSessionID: "ws-x", progress: 5)))
        #expect(unknown.code == .unknownWorkSession)
    }

    @Test("a thread that completes while its session is blocked leaves the session blocked")
    func completedWhileBlocked() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(session, .blocked)
        try scenario.reportThread(of: session, status: .completed)
        #expect(scenario.state?.thread(ofSession: session)?.status == .completed)
        #expect(scenario.state?.session(session)?.status == .blocked, "blocked → completed is not in the table")
        #expect(scenario.task.status == .implementation)
    }
}
