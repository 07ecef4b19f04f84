import Foundation
import SpecTaskDomain
import Testing

/// Fixed inputs for the manager tests: no clock, no randomness.
enum ManagerFixtures {
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    static let specTaskID = "st-1"
    static let context = DecisionContext(runnerToken: { "token-for-\($0)" })

    /// Five tasks that depend on nothing, so only the concurrency limit decides what runs.
    static let fiveIndependentTasks = """
        1. Add the profile page
        2. Add the settings page
        3. Add the billing page
        4. Add the audit log page
        5. Add the help page

        """
}

struct ScenarioError: Error, CustomStringConvertible {
    var description: String
}

/// One spec task driven through ``SpecTaskManager`` a command at a time, the way the worker does.
///
/// Commands get the ids `cmd-1`, `cmd-2`, … and times one second apart, so generated ids read
/// `ws-cmd-5-1`. Every applied command is checked against the invariants of ``checkInvariants``.
struct Scenario {
    let specTaskID: String
    let context: DecisionContext
    private(set) var state: SpecTaskState?
    private(set) var commandCount = 0
    /// What the last applied command emitted.
    private(set) var emissions: [Emission] = []

    init(specTaskID: String = ManagerFixtures.specTaskID, context: DecisionContext = ManagerFixtures.context) {
        self.specTaskID = specTaskID
        self.context = context
    }

    var task: SpecTask { state!.task }

    /// The command the scenario sends next, without sending it.
    func incoming(_ command: SpecTaskCommand, id: String? = nil) -> IncomingCommand {
        let number = commandCount + 1
        return IncomingCommand(
            id: id ?? "cmd-\(number)",
            specTaskID: specTaskID,
            actor: "tests",
            time: ManagerFixtures.start.addingTimeInterval(TimeInterval(number)),
            command: command
        )
    }

    /// Applies a command that must be applied, and checks the invariants on the result.
    @discardableResult
    mutating func apply(
        _ command: SpecTaskCommand,
        id: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Emission] {
        let incoming = incoming(command, id: id)
        commandCount += 1
        let decision = SpecTaskManager.decide(state, incoming, context: context)
        guard case .applied(let newState, let emissions) = decision else {
            Issue.record("expected \(command.name) to be applied, got \(decision)", sourceLocation: sourceLocation)
            throw ScenarioError(description: "\(command.name) was rejected")
        }
        Self.checkInvariants(before: state, after: newState, emissions: emissions, for: incoming, sourceLocation)
        state = newState
        self.emissions = emissions
        return emissions
    }

    /// Sends a command that must be rejected; the state stays as it was.
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
        return rejection
    }

    // MARK: - Invariants

    /// What must hold after every applied command, whatever the command.
    static func checkInvariants(
        before: SpecTaskState?,
        after state: SpecTaskState,
        emissions: [Emission],
        for command: IncomingCommand,
        _ sourceLocation: SourceLocation
    ) {
        // The outcome leads, exactly once, correlated to the command.
        guard let outcome = emissions.outcome else {
            Issue.record(
                "emissions[0] is not the commandApplied outcome: \(emissions.first.map(String.init(describing:)) ?? "none")",
                sourceLocation: sourceLocation
            )
            return
        }
        #expect(outcome.commandID == command.id, sourceLocation: sourceLocation)
        #expect(outcome.commandType == command.command.type, sourceLocation: sourceLocation)
        #expect(outcome.reason == nil && outcome.code == nil, sourceLocation: sourceLocation)
        let outcomes = emissions.statusEvents.filter {
            if case .commandApplied = $0 { return true }
            if case .commandRejected = $0 { return true }
            return false
        }
        #expect(outcomes.count == 1, sourceLocation: sourceLocation)

        // Created ids are new and exist now.
        let oldSessions = Set(before?.workSessions.map(\.id) ?? [])
        let oldThreads = Set(before?.zedThreads.map(\.id) ?? [])
        for id in outcome.created.workSessionIDs {
            #expect(!oldSessions.contains(id) && state.session(id) != nil, sourceLocation: sourceLocation)
        }
        for id in outcome.created.zedThreadIDs {
            #expect(
                !oldThreads.contains(id) && state.zedThreads.contains { $0.id == id },
                sourceLocation: sourceLocation
            )
        }
        if let instanceID = outcome.created.zedInstanceID {
            // The first instance, or a new one in place of a failed (or, for new work, stopped) one.
            #expect(
                (before?.zedInstance).map { ($0.status == .failed || $0.status == .stopped) && $0.id != instanceID }
                    ?? true,
                sourceLocation: sourceLocation
            )
            #expect(state.zedInstance?.id == instanceID, sourceLocation: sourceLocation)
        }

        // Path claims: kept only while their session runs in a live instance, and never two sessions holding
        // overlapping paths at once.
        let liveInstance = state.zedInstance.map { $0.status != .failed && $0.status != .stopped } ?? false
        for claim in state.pathClaims {
            let session = state.session(claim.workSessionID)
            #expect(claim.status == .granted || claim.status == .waiting, sourceLocation: sourceLocation)
            #expect(session?.status == .active || session?.status == .blocked, sourceLocation: sourceLocation)
            #expect(liveInstance, "claim \(claim.id) outlived its instance", sourceLocation: sourceLocation)
        }
        let granted = state.pathClaims.filter { $0.status == .granted }
        for (index, held) in granted.enumerated() {
            for other in granted[(index + 1)...] where other.workSessionID != held.workSessionID {
                for path in held.paths {
                    for otherPath in other.paths {
                        let overlap = (try? ClaimPattern(path)).flatMap { pattern in
                            (try? ClaimPattern(otherPath)).flatMap { ClaimPattern.overlap(pattern, $0) }
                        }
                        #expect(overlap == false, "\(held.id) and \(other.id) both hold \(path) / \(otherPath)")
                    }
                }
            }
        }

        // One thread per session, ids unique, everything belongs to this spec task.
        #expect(Set(state.workSessions.map(\.id)).count == state.workSessions.count, sourceLocation: sourceLocation)
        #expect(Set(state.zedThreads.map(\.id)).count == state.zedThreads.count, sourceLocation: sourceLocation)
        for session in state.workSessions {
            #expect(state.zedThreads.count { $0.workSessionID == session.id } == 1, sourceLocation: sourceLocation)
            #expect(session.specTaskID == state.task.id, sourceLocation: sourceLocation)
        }
        #expect(state.task.id == command.specTaskID, sourceLocation: sourceLocation)

        // Every status change is one the tables allow; announcements keep the status.
        for event in emissions.statusEvents {
            switch event {
            case .specTaskChanged(let change):
                checkChange(change.from, change.to, change.specTask.status, sourceLocation)
            case .workSessionChanged(let change):
                checkChange(change.from, change.to, change.workSession.status, sourceLocation)
                #expect(change.workSession.updatedAt == command.time, sourceLocation: sourceLocation)
            case .zedThreadChanged(let change):
                checkChange(change.from, change.to, change.zedThread.status, sourceLocation)
            case .implementationTaskChanged(let change):
                checkChange(change.from, change.to, change.implementationTask.status, sourceLocation)
            case .zedInstanceChanged(let change):
                checkChange(change.from, change.to, change.zedInstance.status, sourceLocation)
            case .commandApplied, .commandRejected, .sharedContextChanged, .pathClaimChanged: break
            }
        }

        // Starting sessions never takes the count above the limit (a lowered limit stops nothing, so only
        // commands that start a session are held to it).
        let started = emissions.workSessionChanges.contains { $0.to == .active }
        if started, let limit = state.task.maxConcurrentSessions {
            #expect(state.activeSessions.count <= limit, sourceLocation: sourceLocation)
        }

        // Assigned and in-progress tasks name their session; create_thread names a thread that exists.
        for task in state.implementationTasks where task.status == .assigned || task.status == .inProgress {
            #expect(task.assignedWorkSessionID.flatMap(state.session) != nil, sourceLocation: sourceLocation)
        }
        for create in emissions.createdThreads {
            #expect(
                state.zedThreads.contains { $0.id == create.threadID && $0.workSessionID == create.workSessionID },
                sourceLocation: sourceLocation
            )
            #expect(create.instanceID == state.zedInstance?.id, sourceLocation: sourceLocation)
        }
    }

    private static func checkChange<Status: LifecycleStatus>(
        _ from: Status?,
        _ to: Status,
        _ snapshot: Status,
        _ sourceLocation: SourceLocation
    ) {
        #expect(snapshot == to, sourceLocation: sourceLocation)
        if let from, from != to {
            #expect(from.canTransition(to: to), "\(from) → \(to) is not in the table", sourceLocation: sourceLocation)
        }
    }
}

// MARK: - Building scenarios

extension Scenario {
    /// A created spec task with specs submitted for the plan and approved.
    static func approved(
        plan: String,
        name: String = "Implement user authentication",
        maxConcurrentSessions: Int? = nil
    ) throws -> Scenario {
        var scenario = Scenario()
        try scenario.apply(
            .create(CreateSpecTask(name: name, projectPath: "/repo", maxConcurrentSessions: maxConcurrentSessions))
        )
        try scenario.apply(.startPlanning(StartPlanning()))
        try scenario.apply(
            .submitSpecs(SubmitSpecs(requirements: "requirements", design: "design", implementationPlan: plan))
        )
        try scenario.apply(.approveSpecs(ApproveSpecs(approver: "alice")))
        return scenario
    }

    /// A spec task whose implementation started from the plan.
    static func implementing(
        plan: String,
        name: String = "Implement user authentication",
        maxConcurrentSessions: Int? = nil,
        start: StartImplementation = StartImplementation()
    ) throws -> Scenario {
        var scenario = try approved(plan: plan, name: name, maxConcurrentSessions: maxConcurrentSessions)
        try scenario.apply(.startImplementation(start))
        return scenario
    }

    /// The newest session working on an implementation task.
    func sessionID(task index: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(state?.sessions(forTask: index).last?.id, sourceLocation: sourceLocation)
    }

    mutating func setSessionStatus(_ sessionID: String, _ status: WorkSessionStatus, reason: String? = nil) throws {
        try apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: sessionID, status: status, reason: reason))
        )
    }

    mutating func reportThread(
        of sessionID: String,
        status: ZedThreadStatus? = nil,
        externalID: String? = nil,
        progress: Int? = nil
    ) throws {
        try apply(
            .updateZedThread(
                UpdateZedThread(
                    workSessionID: sessionID,
                    zedThreadExternalID: externalID,
                    status: status,
                    progress: progress
                )
            )
        )
    }

    /// The Zed runner reports the thread of the newest session of a task active and then completed.
    mutating func finishTask(_ index: Int) throws {
        let sessionID = try sessionID(task: index)
        try reportThread(of: sessionID, status: .active)
        try reportThread(of: sessionID, status: .completed)
    }
}

// MARK: - Reading state and emissions

extension SpecTaskState {
    func session(_ id: String) -> WorkSession? {
        workSessions.first { $0.id == id }
    }

    func sessions(forTask index: Int) -> [WorkSession] {
        workSessions.filter { $0.implementationTaskIndex == index }
    }

    func thread(ofSession id: String) -> ZedThread? {
        zedThreads.first { $0.workSessionID == id }
    }

    func implementationTask(_ index: Int) -> ImplementationTask? {
        implementationTasks.first { $0.index == index }
    }

    var activeSessions: [WorkSession] {
        workSessions.filter { $0.status == .active }
    }

    /// The indexes of the implementation tasks whose newest session is active.
    var activeTaskIndexes: [Int] {
        activeSessions.compactMap(\.implementationTaskIndex).sorted()
    }
}

extension Array where Element == Emission {
    var outcome: CommandOutcome? {
        guard case .status(.commandApplied(let outcome)) = first else { return nil }
        return outcome
    }

    var statusEvents: [StatusEvent] {
        compactMap { if case .status(let event) = $0 { event } else { nil } }
    }

    var zedCommands: [ZedCommand] {
        compactMap { if case .zed(let command) = $0 { command } else { nil } }
    }

    var specTaskChanges: [SpecTaskChange] {
        statusEvents.compactMap { if case .specTaskChanged(let change) = $0 { change } else { nil } }
    }

    var workSessionChanges: [WorkSessionChange] {
        statusEvents.compactMap { if case .workSessionChanged(let change) = $0 { change } else { nil } }
    }

    var zedThreadChanges: [ZedThreadChange] {
        statusEvents.compactMap { if case .zedThreadChanged(let change) = $0 { change } else { nil } }
    }

    var implementationTaskChanges: [ImplementationTaskChange] {
        statusEvents.compactMap { if case .implementationTaskChanged(let change) = $0 { change } else { nil } }
    }

    var zedInstanceChanges: [ZedInstanceChange] {
        statusEvents.compactMap { if case .zedInstanceChanged(let change) = $0 { change } else { nil } }
    }

    var createdThreads: [CreateZedThread] {
        zedCommands.compactMap { if case .createThread(let command) = $0 { command } else { nil } }
    }

    var stoppedThreads: [StopZedThread] {
        zedCommands.compactMap { if case .stopThread(let command) = $0 { command } else { nil } }
    }

    var stoppedInstances: [StopZedInstanceOrder] {
        zedCommands.compactMap { if case .stopInstance(let command) = $0 { command } else { nil } }
    }
}
