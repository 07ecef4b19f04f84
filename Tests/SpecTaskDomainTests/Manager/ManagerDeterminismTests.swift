import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: determinism")
struct ManagerDeterminismTests {
    /// Create, plan, submit and approve the authentication task with a limit of 2.
    private static let approvalCommands: [SpecTaskCommand] = [
        .create(CreateSpecTask(name: "Implement complete user authentication system", maxConcurrentSessions: 2)),
        .startPlanning(StartPlanning()),
        .submitSpecs(SubmitSpecs(requirements: "r", design: "d", implementationPlan: PlanFixtures.authHeadings)),
        .approveSpecs(ApproveSpecs(approver: "alice")),
    ]

    /// The commands of the complex workflow from creation to done, as the worker would receive them.
    private static func authCommands(sessionIDs: [String]) -> [SpecTaskCommand] {
        var commands = approvalCommands + [.startImplementation(StartImplementation(workSessionIDs: sessionIDs))]
        for id in [0, 1, 3, 2, 4].map({ sessionIDs[$0] }) {
            commands.append(.updateZedThread(UpdateZedThread(workSessionID: id, status: .active, progress: 10)))
            commands.append(.updateZedThread(UpdateZedThread(workSessionID: id, status: .completed)))
        }
        commands.append(.approveImplementation(ApproveImplementation(approver: "bob")))
        return commands
    }

    private static func run(_ commands: [SpecTaskCommand]) throws -> (SpecTaskState?, [[Emission]]) {
        var scenario = Scenario()
        var emissions: [[Emission]] = []
        for command in commands {
            emissions.append(try scenario.apply(command))
        }
        return (scenario.state, emissions)
    }

    @Test("replaying the same commands gives the same states and the same emissions")
    func replay() throws {
        let commands = Self.authCommands(sessionIDs: ["ws-1", "ws-2", "ws-3", "ws-4", "ws-5"])
        let first = try Self.run(commands)
        let second = try Self.run(commands)
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.0?.task.status == .done)
    }

    @Test("deciding one command twice on one state gives equal decisions, applied or rejected")
    func decideTwice() throws {
        let scenario = try Scenario.approved(plan: PlanFixtures.authHeadings)
        let start = scenario.incoming(.startImplementation(StartImplementation(agentConfig: .string("x"))))
        let applied = SpecTaskManager.decide(scenario.state, start, context: ManagerFixtures.context)
        #expect(applied == SpecTaskManager.decide(scenario.state, start, context: ManagerFixtures.context))
        guard case .applied = applied else {
            Issue.record("expected start_implementation to apply")
            return
        }

        let reject = scenario.incoming(.spawnWorkSession(SpawnWorkSession(parentWorkSessionID: "ws-x", name: "n")))
        let rejected = SpecTaskManager.decide(scenario.state, reject, context: ManagerFixtures.context)
        #expect(rejected == SpecTaskManager.decide(scenario.state, reject, context: ManagerFixtures.context))
        guard case .rejected = rejected else {
            Issue.record("expected spawn_work_session to be rejected")
            return
        }
    }

    @Test("ids of created entities come from the context, with ordinals counted within the command")
    func idsFromContext() throws {
        let context = DecisionContext(
            makeID: { prefix, ordinal, commandID in "\(prefix):\(commandID):\(ordinal)" },
            runnerToken: { "secret-\($0)" }
        )
        var scenario = Scenario(context: context)
        for command in Self.approvalCommands {
            try scenario.apply(command)
        }
        try scenario.apply(.startImplementation(StartImplementation()), id: "start")
        let state = try #require(scenario.state)
        #expect(state.zedInstance?.id == "zi:start:1")
        #expect(state.workSessions.map(\.id) == (1...5).map { "ws:start:\($0)" })
        #expect(state.zedThreads.map(\.id) == (1...5).map { "zt:start:\($0)" })
        guard case .createInstance(let instance) = scenario.emissions.zedCommands.first else {
            Issue.record("no create_instance")
            return
        }
        #expect(instance.runnerToken == "secret-zi:start:1")
    }

    @Test("a context that hands out an id twice makes the command a conflict, not a corrupt state")
    func collidingIDs() throws {
        let context = DecisionContext(makeID: { prefix, _, _ in "\(prefix)-same" }, runnerToken: { _ in "t" })
        var scenario = Scenario(context: context)
        for command in Self.approvalCommands {
            try scenario.apply(command)
        }
        let rejection = try scenario.reject(.startImplementation(StartImplementation()))
        #expect(rejection.code == .conflict)
        #expect(scenario.task.status == .specApproved)
    }
}
