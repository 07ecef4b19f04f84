import Foundation
import SpecTaskDomain
import Testing

/// Planning as a session on the spec task's Zed instance: `start_planning` in Zed, `specs_submitted` and
/// `planning_failed` from its thread, the reviewer's answers, and implementation on the same instance.
@Suite("SpecTaskManager: the planning session")
struct ManagerPlanningSessionTests {
    /// `start_planning` is the second command: these are the ids it creates.
    static let instanceID = "zi-cmd-2-1"
    static let planner = "ws-cmd-2-1"
    static let plannerThread = "zt-cmd-2-1"
    static let plannerConfig: JSONValue = .object(["model": .string("planner")])

    /// A spec task whose planning session was started (and its instance opened), nothing reported yet.
    static func planning(
        context: DecisionContext = ManagerFixtures.context,
        start: StartPlanning? = nil
    ) throws
        -> ZedRun
    {
        var scenario = Scenario(context: context)
        try scenario.apply(
            .create(CreateSpecTask(name: "Implement user authentication", description: "Sign-up and sign-in."))
        )
        var run = try ZedRun(scenario)
        try run.apply(.startPlanning(start ?? StartPlanning(inZed: true, agentConfig: plannerConfig)))
        return run
    }

    static func submitted(_ plan: String = PlanFixtures.authHeadings, by session: String = planner) -> ZedEvent {
        .specsSubmitted(
            ZedSpecsSubmitted(
                instanceID: instanceID,
                workSessionID: session,
                requirements: "Users sign up and sign in.",
                design: "Tokens in HTTP-only cookies.",
                implementationPlan: plan
            )
        )
    }

    static func failed(_ reason: String, session: String = planner) -> ZedEvent {
        .planningFailed(ZedPlanningFailed(instanceID: instanceID, workSessionID: session, reason: reason))
    }

    @Test("start_planning in Zed opens the instance and starts the planning session's thread with its prompt")
    func startsSession() throws {
        let run = try Self.planning()
        #expect(run.task.status == .specGeneration)
        #expect(run.task.planningSessionID == Self.planner)
        #expect(run.task.planningAgentConfig == Self.plannerConfig)
        #expect(run.state.zedInstance?.id == Self.instanceID)
        let session = try run.session(Self.planner)
        #expect(session.phase == .planning && session.status == .active && session.attempt == 1)
        #expect(session.implementationTaskIndex == nil)

        let commands = run.emissions.zedCommands
        #expect(commands.map(\.name) == ["create_instance", "create_thread"])
        guard case .createThread(let thread)? = commands.last else { return }
        #expect(thread.phase == .planning && thread.workSessionID == Self.planner)
        #expect(thread.threadID == Self.plannerThread)
        #expect(thread.agentConfig == Self.plannerConfig)
        #expect(thread.initialPrompt.hasPrefix("Write the specs for \"Implement user authentication\"."))
        #expect(thread.initialPrompt.contains("Sign-up and sign-in."))
        #expect(thread.initialPrompt.contains("zed.event.specs_submitted"))
    }

    @Test("the worker's default decides when the command does not: planning in Zed with its agent configuration")
    func workerDefault() throws {
        let defaultConfig: JSONValue = .object(["model": .string("default-planner")])
        let context = DecisionContext(
            runnerToken: { "token-for-\($0)" },
            planning: PlanningDefaults(inZed: true, agentConfig: defaultConfig)
        )
        let run = try Self.planning(context: context, start: StartPlanning())
        #expect(try run.session(Self.planner).phase == .planning)
        #expect(run.task.planningAgentConfig == defaultConfig)

        // And inZed: false overrides the default: an outside planner, no session.
        var scenario = Scenario(context: context)
        try scenario.apply(.create(CreateSpecTask(name: "n")))
        try scenario.apply(.startPlanning(StartPlanning(inZed: false)))
        #expect(scenario.state?.workSessions.isEmpty == true && scenario.state?.zedInstance == nil)
    }

    @Test("Zed-only members with planning outside Zed are an invalid argument; nothing changes")
    func zedMembersOutsideZed() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "n")))
        let rejection = try scenario.reject(.startPlanning(StartPlanning(inZed: false, workSessionID: "ws-p")))
        #expect(rejection.code == .invalidArgument)
        #expect(rejection.message.contains("inZed is false"))
        #expect(scenario.task.status == .backlog)
    }

    @Test("the whole story: specs from the thread, changes asked, revised, approved, implemented on the instance")
    func wholeStory() throws {
        var run = try Self.planning()
        try run.send(.instanceReady(ZedInstanceReady(instanceID: Self.instanceID)))
        try run.send(
            .threadCreated(
                ZedThreadCreated(instanceID: Self.instanceID, workSessionID: Self.planner, zedThreadExternalID: "z-1")
            )
        )
        try run.send(Self.submitted())
        #expect(run.task.status == .specReview)
        #expect(run.task.requirements == "Users sign up and sign in.")
        #expect(run.task.implementationPlan == PlanFixtures.authHeadings)
        #expect(try run.session(Self.planner).status == .active, "the session waits for the reviewer")

        try run.apply(.requestChanges(RequestChanges(reviewer: "rita", comments: "Add rate limiting.")))
        #expect(run.task.status == .specRevision)
        guard case .reviseSpecs(let order)? = run.emissions.zedCommands.first else {
            Issue.record("no revise_specs: \(run.emissions.zedCommands)")
            return
        }
        #expect(order.workSessionID == Self.planner && order.threadID == Self.plannerThread)
        #expect(order.reviewer == "rita" && order.comments == "Add rate limiting." && order.revision == 1)

        try run.send(Self.submitted())
        #expect(run.task.status == .specReview)

        try run.apply(.approveSpecs(ApproveSpecs(approver: "ann")))
        #expect(run.task.status == .specApproved)
        #expect(try run.session(Self.planner).status == .completed)
        #expect(try run.thread(ofSession: Self.planner).status == .completed)
        #expect(run.emissions.zedCommands.map(\.name) == ["stop_thread"])

        let emissions = try run.apply(.startImplementation(StartImplementation()))
        #expect(run.task.status == .implementation)
        #expect(run.state.zedInstance?.id == Self.instanceID, "the planning session's instance is used on")
        #expect(emissions.outcome?.created.zedInstanceID == nil)
        let threads = emissions.zedCommands.compactMap { command -> CreateZedThread? in
            if case .createThread(let thread) = command { return thread }
            return nil
        }
        #expect(!threads.isEmpty && threads.allSatisfy { $0.instanceID == Self.instanceID })
        #expect(threads.allSatisfy { $0.phase == .implementation })
        #expect(!emissions.zedCommands.contains { $0.name == "create_instance" })
    }

    @Test("a plan that can not be used goes back to the thread as revise_specs; the status stays")
    func unusablePlan() throws {
        var run = try Self.planning()
        try run.send(Self.submitted("   "))
        #expect(run.task.status == .specGeneration)
        #expect(run.task.implementationPlan == nil)
        guard case .reviseSpecs(let order)? = run.emissions.zedCommands.first else {
            Issue.record("no revise_specs: \(run.emissions)")
            return
        }
        #expect(order.reviewer == nil)
        #expect(order.comments.contains("can not be used") && order.comments.contains("Submit the specs again"))
    }

    @Test("planning_failed: the session fails and the task goes to spec_failed with the reason; planning again")
    func planningFailed() throws {
        var run = try Self.planning()
        try run.send(Self.failed("the model is unavailable"))
        #expect(run.task.status == .specFailed)
        #expect(try run.session(Self.planner).status == .failed)
        let change = try #require(run.emissions.specTaskChanges.last)
        #expect(change.reason?.contains("the model is unavailable") == true)
        #expect(change.reason?.contains("start_planning plans again") == true)
        #expect(run.emissions.zedCommands.isEmpty, "the runner reported the end itself")

        try run.apply(.startPlanning(StartPlanning(inZed: true)))
        #expect(run.task.status == .specGeneration)
        let second = try #require(run.task.planningSessionID)
        #expect(second != Self.planner)
        #expect(try run.session(second).attempt == 2)
        #expect(run.state.zedInstance?.id == Self.instanceID, "the instance is still fine")
        #expect(run.emissions.zedCommands.map(\.name) == ["create_thread"])
    }

    @Test("the instance failing while planning fails the planning; planning again replaces the instance")
    func instanceFails() throws {
        var run = try Self.planning()
        try run.send(.instanceError(ZedInstanceError(instanceID: Self.instanceID, error: "crash")))
        #expect(run.task.status == .specFailed)
        #expect(run.emissions.specTaskChanges.last?.reason?.contains("crash") == true)

        try run.apply(.startPlanning(StartPlanning(inZed: true)))
        let newInstance = try #require(run.state.zedInstance)
        #expect(newInstance.id != Self.instanceID && newInstance.status == .pending)
        #expect(run.emissions.zedCommands.map(\.name) == ["stop_instance", "create_instance", "create_thread"])
    }

    @Test("a planning thread that completes without specs fails the planning")
    func completesWithoutSpecs() throws {
        var run = try Self.planning()
        try run.send(.threadCompleted(ZedThreadCompleted(instanceID: Self.instanceID, workSessionID: Self.planner)))
        #expect(run.task.status == .specFailed)
        #expect(run.emissions.specTaskChanges.last?.reason?.contains("completed without submitting specs") == true)
    }

    @Test("changes asked after the planning thread ended: a new planning session gets the specs and the comments")
    func changesAfterThreadEnded() throws {
        var run = try Self.planning()
        try run.send(Self.submitted())
        try run.send(.threadCompleted(ZedThreadCompleted(instanceID: Self.instanceID, workSessionID: Self.planner)))
        #expect(run.task.status == .specReview, "ending after handing in the specs is fine")

        try run.apply(.requestChanges(RequestChanges(reviewer: "rita", comments: "Add rate limiting.")))
        #expect(run.task.status == .specRevision)
        let second = try #require(run.task.planningSessionID)
        #expect(second != Self.planner)
        guard case .createThread(let thread)? = run.emissions.zedCommands.last else {
            Issue.record("no create_thread: \(run.emissions.zedCommands)")
            return
        }
        #expect(thread.workSessionID == second && thread.phase == .planning)
        #expect(thread.initialPrompt.contains("Users sign up and sign in."))
        #expect(thread.initialPrompt.contains("The reviewer, rita, asked for changes: Add rate limiting."))
        try run.send(Self.submitted(by: second))
        #expect(run.task.status == .specReview)
    }

    @Test("only the open planning session hands in specs: others are not_planning_session, a closed one sender_closed")
    func onlyThePlanner() throws {
        var run = try Self.planning()
        try run.send(Self.submitted())
        try run.apply(.approveSpecs(ApproveSpecs(approver: "ann")))
        try run.apply(.startImplementation(StartImplementation()))
        let implementer = try #require(run.state.workSessions.first { $0.phase == .implementation }?.id)

        let notPlanner = try run.reject(Self.submitted(by: implementer))
        #expect(notPlanner.code == .notPlanningSession)
        #expect(notPlanner.message.contains("its planning session is \(Self.planner)"))
        let closed = try run.reject(Self.failed("late", session: Self.planner))
        #expect(closed.code == .senderClosed)
        let unknown = try run.reject(Self.submitted(by: "ws-nobody"))
        #expect(unknown.code == .unknownWorkSession)
    }

    @Test("an instance id that names another instance than the task's is a conflict")
    func otherInstanceID() throws {
        var run = try Self.planning()
        try run.send(Self.failed("x"))
        let rejection = try run.reject(.startPlanning(StartPlanning(inZed: true, zedInstanceID: "zi-other")))
        #expect(rejection.code == .conflict)
        #expect(rejection.message.contains("already has Zed instance \(Self.instanceID)"))
    }

    @Test("planning restarted outside Zed cancels the planning session and does not fail the planning")
    func restartedOutside() throws {
        var run = try Self.planning()
        try run.send(Self.submitted())
        try run.apply(.requestChanges(RequestChanges(comments: "start over")))
        try run.apply(.startPlanning(StartPlanning(inZed: false)))
        #expect(run.task.status == .specGeneration)
        #expect(run.task.planningSessionID == nil)
        #expect(try run.session(Self.planner).status == .cancelled)
        try run.apply(
            .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: PlanFixtures.authHeadings))
        )
        #expect(run.task.status == .specReview)
    }

    @Test("cancelling while planning cancels the session; the task is cancelled, not spec_failed")
    func cancelled() throws {
        var run = try Self.planning()
        try run.apply(.cancel(CancelSpecTask()))
        #expect(run.task.status == .cancelled)
        #expect(try run.session(Self.planner).status == .cancelled)
    }
}
