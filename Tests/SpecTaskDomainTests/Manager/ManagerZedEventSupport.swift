import Foundation
import SpecTaskDomain
import Testing

/// A spec task driven by commands and by the events of its Zed runner, the way the worker applies them.
///
/// ``Scenario`` brings the task to where the runner takes over; it checks for a `commandApplied` outcome,
/// which Zed events do not have, so from there on this drives the task. Commands and events keep the
/// scenario's numbering (`cmd-6`, `cmd-7`, … one second apart), and every applied input is checked against
/// the scenario's invariants; for a Zed event, that it has no outcome and would pass them with one.
struct ZedRun {
    let specTaskID: String
    let context: DecisionContext
    private(set) var state: SpecTaskState
    private(set) var commandCount: Int
    /// What the last applied command or event emitted.
    private(set) var emissions: [Emission] = []

    init(_ scenario: Scenario, sourceLocation: SourceLocation = #_sourceLocation) throws {
        specTaskID = scenario.specTaskID
        context = scenario.context
        state = try #require(scenario.state, sourceLocation: sourceLocation)
        commandCount = scenario.commandCount
    }

    /// A spec task whose implementation started from the plan (instance `zi-cmd-5-1`, sessions
    /// `ws-cmd-5-<task>`, threads `zt-cmd-5-<task>`).
    static func implementing(plan: String, maxConcurrentSessions: Int? = nil) throws -> ZedRun {
        try ZedRun(Scenario.implementing(plan: plan, maxConcurrentSessions: maxConcurrentSessions))
    }

    static let instanceID = "zi-cmd-5-1"

    /// The id of the session (and with `zt` the thread) start_implementation made for a plan task.
    static func session(_ task: Int) -> String { "ws-cmd-5-\(task)" }
    static func thread(_ task: Int) -> String { "zt-cmd-5-\(task)" }

    /// The time of the last command or event sent.
    var now: Date { ManagerFixtures.start.addingTimeInterval(TimeInterval(commandCount)) }
    /// The id of the last command or event sent.
    var lastCommandID: String { "cmd-\(commandCount)" }

    func incoming(_ command: SpecTaskCommand) -> IncomingCommand {
        let number = commandCount + 1
        let token = state.zedInstance.map { context.runnerToken($0.id) }
        return IncomingCommand(
            id: "cmd-\(number)",
            specTaskID: specTaskID,
            actor: command.isZedEvent ? "zed-runner" : "tests",
            time: ManagerFixtures.start.addingTimeInterval(TimeInterval(number)),
            command: command,
            runnerToken: command.isZedEvent ? token : nil
        )
    }

    /// Applies a command or event that must be applied.
    @discardableResult
    mutating func apply(
        _ command: SpecTaskCommand,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Emission] {
        let incoming = incoming(command)
        commandCount += 1
        let decision = SpecTaskManager.decide(state, incoming, context: context)
        guard case .applied(let newState, let emissions) = decision else {
            Issue.record("expected \(command.name) to be applied, got \(decision)", sourceLocation: sourceLocation)
            throw ScenarioError(description: "\(command.name) was rejected")
        }
        if command.isZedEvent {
            #expect(
                !emissions.statusEvents.contains { $0.name == "command_applied" || $0.name == "command_rejected" },
                "a Zed event has no outcome",
                sourceLocation: sourceLocation
            )
            let outcome = CommandOutcome(commandID: incoming.id, commandType: incoming.command.type)
            Scenario.checkInvariants(
                before: state,
                after: newState,
                emissions: [.status(.commandApplied(outcome))] + emissions,
                for: incoming,
                sourceLocation
            )
        } else {
            Scenario.checkInvariants(
                before: state,
                after: newState,
                emissions: emissions,
                for: incoming,
                sourceLocation
            )
        }
        state = newState
        self.emissions = emissions
        return emissions
    }

    /// Sends a Zed event that must be applied.
    @discardableResult
    mutating func send(_ event: ZedEvent, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Emission] {
        try apply(.zedEvent(event), sourceLocation: sourceLocation)
    }

    /// Sends a command or event that must be rejected; the state stays as it was.
    mutating func reject(
        _ command: SpecTaskCommand,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Rejection {
        let incoming = incoming(command)
        commandCount += 1
        let decision = SpecTaskManager.decide(state, incoming, context: context)
        guard case .rejected(let rejection) = decision else {
            Issue.record("expected \(command.name) to be rejected, got \(decision)", sourceLocation: sourceLocation)
            throw ScenarioError(description: "\(command.name) was applied")
        }
        #expect(!rejection.message.isEmpty, sourceLocation: sourceLocation)
        emissions = []
        return rejection
    }

    mutating func reject(_ event: ZedEvent, sourceLocation: SourceLocation = #_sourceLocation) throws -> Rejection {
        try reject(.zedEvent(event), sourceLocation: sourceLocation)
    }

    // MARK: - Reading state

    func session(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> WorkSession {
        try #require(state.session(id), sourceLocation: sourceLocation)
    }

    func thread(ofSession id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ZedThread {
        try #require(state.thread(ofSession: id), sourceLocation: sourceLocation)
    }

    var task: SpecTask { state.task }

    func implementationTask(
        _ index: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ImplementationTask {
        try #require(state.implementationTask(index), sourceLocation: sourceLocation)
    }

    func instance(sourceLocation: SourceLocation = #_sourceLocation) throws -> ZedInstance {
        try #require(state.zedInstance, sourceLocation: sourceLocation)
    }

    /// The progress snapshot the worker would publish now.
    var snapshot: ProgressSnapshot {
        ProgressCalculator.snapshot(
            for: state.task,
            implementationTasks: state.implementationTasks,
            workSessions: state.workSessions,
            zedThreads: state.zedThreads,
            threadProgress: state.threadProgress
        )
    }
}

// MARK: - Runner events

extension ZedRun {
    @discardableResult
    mutating func ready(sourceLocation: SourceLocation = #_sourceLocation) throws -> [Emission] {
        try send(.instanceReady(ZedInstanceReady(instanceID: Self.instanceID)), sourceLocation: sourceLocation)
    }

    @discardableResult
    mutating func threadCreated(
        _ sessionID: String,
        externalID: String = "zed-thread",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Emission] {
        try send(
            .threadCreated(
                ZedThreadCreated(instanceID: Self.instanceID, workSessionID: sessionID, zedThreadExternalID: externalID)
            ),
            sourceLocation: sourceLocation
        )
    }

    @discardableResult
    mutating func threadCompleted(
        _ sessionID: String,
        summary: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Emission] {
        try send(
            .threadCompleted(
                ZedThreadCompleted(instanceID: Self.instanceID, workSessionID: sessionID, summary: summary)
            ),
            sourceLocation: sourceLocation
        )
    }

    /// An activity of the given session's thread with only tokens (and optionally cost) spent.
    static func spending(
        _ sessionID: String,
        tokensIn: Int = 0,
        tokensOut: Int = 0,
        costMicros: Int? = nil
    ) -> ZedEvent {
        .threadActivity(
            ZedThreadActivity(
                instanceID: instanceID,
                workSessionID: sessionID,
                kind: .message,
                tokensIn: tokensIn,
                tokensOut: tokensOut,
                costMicros: costMicros
            )
        )
    }
}

// MARK: - Reading emissions

extension Array where Element == Emission {
    /// The coordination log entries appended.
    var coordinationLog: [CoordinationEntry] {
        compactMap { if case .coordination(let entry) = $0 { entry } else { nil } }
    }

    var deliveries: [DeliverCoordinationMessage] {
        zedCommands.compactMap { if case .deliverMessage(let command) = $0 { command } else { nil } }
    }

    var budgetNotices: [BudgetExceededNotice] {
        zedCommands.compactMap { if case .budgetExceeded(let command) = $0 { command } else { nil } }
    }

    /// "<from>→<to>" of every status change of one entity kind, for compact comparisons.
    var sessionMoves: [String] {
        workSessionChanges.map { "\($0.workSession.id):\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" }
    }

    var threadMoves: [String] {
        zedThreadChanges.map { "\($0.zedThread.id):\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" }
    }

    var taskMoves: [String] {
        implementationTaskChanges.map {
            "\($0.implementationTask.index):\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)"
        }
    }
}
