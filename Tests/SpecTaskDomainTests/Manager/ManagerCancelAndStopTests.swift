import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: stopping the Zed instance and cancelling the spec task")
struct ManagerCancelAndStopTests {
    @Test("stopping the instance fails every open thread, cancels every session and keeps the spec task's status")
    func stopInstance() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let first = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: first, status: .active)
        let emissions = try scenario.apply(.stopZedInstance(StopZedInstance(reason: "runner host is being drained")))

        let state = try #require(scenario.state)
        #expect(state.task.status == .implementation)
        #expect(state.zedInstance?.status == .stopped)
        #expect(state.workSessions.allSatisfy { $0.status == .cancelled })
        #expect(state.zedThreads.allSatisfy { $0.status == .failed })
        #expect(emissions.zedThreadChanges.count == 5)
        #expect(emissions.zedThreadChanges.allSatisfy { $0.reason == "Zed instance stopped" })
        #expect(emissions.workSessionChanges.allSatisfy { $0.reason == "runner host is being drained" })
        #expect(state.implementationTask(1)?.status == .blocked, "its session was cancelled under it")
        #expect(state.implementationTasks.dropFirst().allSatisfy { $0.status == .pending })

        // Only the thread the runner was asked to create is told to stop; then the instance.
        #expect(
            emissions.zedCommands
                == [
                    .stopThread(
                        StopZedThread(
                            instanceID: "zi-cmd-5-1",
                            specTaskID: "st-1",
                            workSessionID: first,
                            threadID: "zt-cmd-5-1",
                            reason: "Zed instance stopped"
                        )
                    ),
                    .stopInstance(
                        StopZedInstanceOrder(
                            instanceID: "zi-cmd-5-1",
                            specTaskID: "st-1",
                            reason: "runner host is being drained"
                        )
                    ),
                ]
        )
        #expect(emissions.zedInstanceChanges.map(\.to) == [.stopped])
    }

    @Test("an instance can be stopped once, and only after implementation created it")
    func stopRejections() throws {
        var approved = try Scenario.approved(plan: PlanFixtures.freeForm)
        let none = try approved.reject(.stopZedInstance(StopZedInstance()))
        #expect(none.code == .illegalTransition)
        #expect(none.message == "spec task st-1 has no Zed instance to stop; one is created when implementation starts")

        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        try scenario.apply(.stopZedInstance(StopZedInstance()))
        let twice = try scenario.reject(.stopZedInstance(StopZedInstance()))
        #expect(
            twice
                == Rejection(
                    .illegalTransition,
                    "Zed instance zi-cmd-5-1 cannot go from stopped to stopped; stopped is terminal"
                )
        )
    }

    @Test("cancelling during implementation stops everything below but keeps the implementation tasks as they were")
    func cancelDuringImplementation() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        try scenario.finishTask(1)
        let second = try scenario.sessionID(task: 2)
        try scenario.reportThread(of: second, status: .active)
        let emissions = try scenario.apply(.cancel(CancelSpecTask(reason: "superseded by SSO project")))

        let state = try #require(scenario.state)
        #expect(state.task.status == .cancelled)
        #expect(emissions.specTaskChanges.first?.reason == "superseded by SSO project")
        #expect(state.session(try scenario.sessionID(task: 1))?.status == .completed, "finished work stays finished")
        #expect(state.workSessions.dropFirst().allSatisfy { $0.status == .cancelled })
        #expect(state.zedThreads.dropFirst().allSatisfy { $0.status == .failed })
        #expect(emissions.zedThreadChanges.allSatisfy { $0.reason == "spec task cancelled" })
        #expect(state.implementationTasks.map(\.status) == [.completed, .inProgress, .pending, .pending, .pending])
        #expect(emissions.implementationTaskChanges.isEmpty)
        #expect(state.zedInstance?.status == .stopped)
        #expect(emissions.stoppedThreads.map(\.workSessionID) == [second])
        #expect(emissions.stoppedInstances.map(\.reason) == ["spec task cancelled"])
        #expect(emissions.zedCommands.last.map(\.name) == "stop_instance", "threads are stopped before the instance")
    }

    @Test("a thread left disconnected by its completed session is closed when the spec task is cancelled")
    func cancelClosesLeftoverThread() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: session, status: .active)
        try scenario.reportThread(of: session, status: .disconnected)
        try scenario.setSessionStatus(session, .completed)
        #expect(
            scenario.state?.thread(ofSession: session)?.status == .disconnected,
            "disconnected → completed is not in the table"
        )
        #expect(scenario.task.status == .implementationReview)

        try scenario.apply(.cancel(CancelSpecTask()))
        #expect(scenario.state?.thread(ofSession: session)?.status == .failed)
        #expect(scenario.emissions.stoppedThreads.count == 1)
    }

    @Test("cancelling before implementation only changes the spec task")
    func cancelInBacklog() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        let emissions = try scenario.apply(.cancel(CancelSpecTask()))
        #expect(emissions.count == 2)
        #expect(emissions.specTaskChanges.map(\.reason) == ["cancelled"])
        #expect(scenario.task.status == .cancelled)
    }

    @Test("done and cancelled are terminal: neither can be cancelled")
    func cancelTerminal() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        try scenario.finishTask(1)
        try scenario.apply(.approveImplementation(ApproveImplementation(approver: "bob")))
        let done = try scenario.reject(.cancel(CancelSpecTask()))
        #expect(
            done == Rejection(.illegalTransition, "spec task st-1 cannot go from done to cancelled; done is terminal")
        )

        var cancelled = Scenario()
        try cancelled.apply(.create(CreateSpecTask(name: "Auth")))
        try cancelled.apply(.cancel(CancelSpecTask()))
        #expect(try cancelled.reject(.cancel(CancelSpecTask())).code == .illegalTransition)
    }

    @Test("approving the implementation needs the review, and an approver")
    func approveImplementationRejections() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let early = try scenario.reject(.approveImplementation(ApproveImplementation(approver: "bob")))
        #expect(early.message.hasPrefix("spec task st-1 cannot go from implementation to done"))
        try scenario.finishTask(1)
        #expect(
            try scenario.reject(.approveImplementation(ApproveImplementation(approver: ""))).code == .invalidArgument
        )
        try scenario.apply(.approveImplementation(ApproveImplementation(approver: "bob", comments: "great")))
        #expect(scenario.emissions.specTaskChanges.first?.reason == "implementation approved by bob: great")
    }
}
