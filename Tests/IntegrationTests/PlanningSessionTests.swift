import Foundation
import SpecTaskDomain
import Testing

/// The planning session through real workers, the broker and the database: planning as a thread on the spec
/// task's Zed instance, played by the reference runner or by the test as a runner.
@Suite("Planning session", .serialized)
struct PlanningSessionTests {
    @Test("the reference runner plans: specs from Zed, changes asked and revised, approved, implemented, one instance")
    func wholeStoryWithRunner() async throws {
        let system = try await SystemUnderTest.start(workers: 1)
        defer { Task { await system.stop() } }
        let runner = try system.startRunner([
            "--steps", "2", "--step-interval", "0.1", "--heartbeat-interval", "0.5", "--no-coordinate",
        ])
        defer { runner.process.terminate() }
        let task = TestEnvironment.unique("plan")
        try await system.apply(.create(CreateSpecTask(name: "Implement user authentication")), task: task)
        try await system.apply(
            .startPlanning(StartPlanning(inZed: true, agentConfig: .object(["plan": .string(WorkflowTests.authPlan)]))),
            task: task
        )

        let written = try await system.waitForState(of: task, "the specs from the planning session") {
            $0.task.status == .specReview
        }
        #expect(written.task.requirements?.contains("Implement user authentication") == true)
        #expect(written.task.implementationPlan == WorkflowTests.authPlan)
        let planner = try #require(written.task.planningSessionID)
        #expect(written.workSessions.map(\.phase) == [.planning])
        #expect(written.workSessions.first?.status == .active, "the planning session waits for the reviewer")

        try await system.apply(
            .requestChanges(RequestChanges(reviewer: "rita", comments: "Throttle repeated failed sign-ins.")),
            task: task
        )
        let revised = try await system.waitForState(of: task, "the revised specs") {
            $0.task.status == .specReview && $0.task.requirements?.contains("Throttle repeated") == true
        }
        #expect(revised.task.requirements?.contains("Revision 1 (asked by rita)") == true)

        try await system.apply(.approveSpecs(ApproveSpecs(approver: "ann")), task: task)
        try await system.apply(.startImplementation(StartImplementation(maxConcurrentSessions: 3)), task: task)
        let done = try await system.waitForState(of: task, timeout: .seconds(120), "the implementation finished") {
            $0.task.status == .implementationReview || $0.task.status == .implementationFailed
        }
        #expect(done.task.status == .implementationReview, "\(runner.output.suffix(3000))")
        #expect(done.implementationTasks.count == 5)
        #expect(done.workSessions.first { $0.id == planner }?.status == .completed)
        #expect(done.workSessions.filter { $0.phase == .implementation }.allSatisfy { $0.status == .completed })

        // One instance all the way: the planning session's.
        let commands = system.zedCommandsSent(for: task)
        #expect(commands.count { $0.name == "create_instance" } == 1)
        #expect(Set(commands.map(\.instanceID)).count == 1)
        #expect(commands.count { $0.name == "revise_specs" } == 1)
        let types = try await system.expectOutputsConform()
        #expect(types.isSuperset(of: ["zed.command.revise_specs", "zed.command.create_thread"]))
    }

    @Test("planning_failed moves the task to spec_failed; planning again starts a second planning session")
    func planningFailsAndRestarts() async throws {
        let system = try await SystemUnderTest.start(workers: 1)
        defer { Task { await system.stop() } }
        let task = TestEnvironment.unique("plan")
        try await system.apply(.create(CreateSpecTask(name: "Plan that fails")), task: task)
        let started = try await system.apply(.startPlanning(StartPlanning(inZed: true)), task: task)
        let planner = try #require(started.created.workSessionIDs.first)
        let instance = try await system.createdInstance(of: task)
        try await system.sendZedEvent(
            .instanceReady(ZedInstanceReady(instanceID: instance.instanceID)),
            task: task,
            token: instance.runnerToken
        )

        // A thread that is not the planning session is refused, and nothing changes.
        let impostor = try await system.sendZedEvent(
            .planningFailed(ZedPlanningFailed(instanceID: instance.instanceID, workSessionID: "ws-x", reason: "no")),
            task: task,
            token: instance.runnerToken
        )
        #expect(try await system.rejection(of: impostor).code == "unknown_work_session")

        try await system.sendZedEvent(
            .planningFailed(
                ZedPlanningFailed(instanceID: instance.instanceID, workSessionID: planner, reason: "model unavailable")
            ),
            task: task,
            token: instance.runnerToken
        )
        let failed = try await system.waitForState(of: task, "spec_failed") { $0.task.status == .specFailed }
        #expect(failed.workSessions.first?.status == .failed)

        let again = try await system.apply(.startPlanning(StartPlanning(inZed: true)), task: task)
        let second = try #require(again.created.workSessionIDs.first)
        #expect(second != planner)
        let state = try await system.waitForState(of: task, "planning again") { $0.task.status == .specGeneration }
        #expect(state.task.planningSessionID == second)
        #expect(state.zedInstance?.id == instance.instanceID, "the instance is still the task's")
        try await system.expectOutputsConform()
    }
}
