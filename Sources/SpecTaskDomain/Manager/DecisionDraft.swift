#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One spec task while one command is applied to it: the state as it changes and everything to publish.
///
/// Every status change goes through the entity's transition table here and records the status event that
/// announces it, so no rule can change a status without saying so. A rejected command throws and the whole
/// draft is dropped, which is what keeps the stored state untouched.
struct DecisionDraft {
    let command: IncomingCommand
    let context: DecisionContext
    /// Changed only by the primitives in this file, which is what makes every change announce itself.
    private(set) var state: SpecTaskState
    /// Status events and Zed commands in the order they happened; ``outcome()`` puts the command's outcome first.
    private(set) var emissions: [Emission] = []
    /// The ids of the entities this command created, reported in its `commandApplied` outcome.
    private(set) var created = CreatedIDs()

    init(state: SpecTaskState, command: IncomingCommand, context: DecisionContext) {
        self.state = state
        self.command = command
        self.context = context
    }

    var now: Date { command.time }
    var specTaskID: String { state.task.id }

    /// The new state and the emissions, led by the `commandApplied` outcome. Zed events have no outcome: the
    /// runner does not wait for one, and a heartbeat every few seconds would drown the status topic.
    func outcome() -> (SpecTaskState, [Emission]) {
        if command.command.isZedEvent { return (state, emissions) }
        let applied = CommandOutcome(commandID: command.id, commandType: command.command.type, created: created)
        return (state, [.status(.commandApplied(applied))] + emissions)
    }

    /// Appends a message to the spec task's coordination log.
    mutating func record(_ entry: CoordinationEntry) {
        emissions.append(.coordination(entry))
    }

    mutating func emit(_ event: StatusEvent) {
        emissions.append(.status(event))
    }

    mutating func emit(_ zedCommand: ZedCommand) {
        emissions.append(.zed(zedCommand))
    }

    /// An id for an entity this command creates, derived from the command id so a replay gives the same id.
    func generatedID(_ prefix: String, ordinal: Int) -> String {
        context.makeID(prefix, ordinal, command.id)
    }
}

// MARK: - Spec task

extension DecisionDraft {
    /// Changes the spec task's status because the command asked for it; an illegal change rejects the command.
    mutating func changeSpecTaskStatus(to next: SpecTaskStatus, reason: String? = nil) throws(Rejection) {
        if let error = state.task.status.transitionError(to: next, entityID: specTaskID) {
            throw Rejection(error)
        }
        moveSpecTask(to: next, reason: reason)
    }

    /// Changes the spec task's status when the table allows it, for rules that follow from other changes.
    ///
    /// - Returns: Whether the status changed.
    @discardableResult
    mutating func moveSpecTask(to next: SpecTaskStatus, reason: String?) -> Bool {
        let from = state.task.status
        guard from.canTransition(to: next) else { return false }
        state.task.status = next
        state.task.updatedAt = now
        emit(.specTaskChanged(SpecTaskChange(from: from, to: next, reason: reason, specTask: state.task)))
        return true
    }

    /// Changes fields of the spec task other than its status; `announce` publishes the change as a status
    /// event whose `from` and `to` are both the current status.
    mutating func updateSpecTask(announce reason: String? = nil, _ change: (inout SpecTask) -> Void) {
        change(&state.task)
        state.task.updatedAt = now
        if let reason {
            let status = state.task.status
            emit(.specTaskChanged(SpecTaskChange(from: status, to: status, reason: reason, specTask: state.task)))
        }
    }

    mutating func replaceSharedContext(with entries: [SharedContextEntry]) {
        state.sharedContext = entries
    }

    mutating func setThreadProgress(_ percent: Int, threadID: String) {
        state.threadProgress[threadID] = percent
    }
}

// MARK: - Implementation tasks

extension DecisionDraft {
    /// The position in `state.implementationTasks` of the task with this plan index.
    func implementationTaskPosition(index: Int) -> Int? {
        state.implementationTasks.firstIndex { $0.index == index }
    }

    mutating func add(_ task: ImplementationTask) {
        state.implementationTasks.append(task)
        created.implementationTaskIndexes.append(task.index)
        emit(.implementationTaskChanged(ImplementationTaskChange(from: nil, to: task.status, implementationTask: task)))
    }

    /// Changes an implementation task's status (and optionally its assigned session) when the table allows it.
    ///
    /// - Parameters:
    ///   - assigning: The new assigned session; `.some(nil)` clears it, `nil` leaves it.
    /// - Returns: Whether the status changed.
    @discardableResult
    mutating func moveImplementationTask(
        at position: Int,
        to next: ImplementationTaskStatus,
        assigning workSessionID: String?? = nil,
        reason: String?
    ) -> Bool {
        let from = state.implementationTasks[position].status
        guard from.canTransition(to: next) else { return false }
        state.implementationTasks[position].status = next
        if let workSessionID { state.implementationTasks[position].assignedWorkSessionID = workSessionID }
        let task = state.implementationTasks[position]
        emit(
            .implementationTaskChanged(
                ImplementationTaskChange(from: from, to: next, reason: reason, implementationTask: task)
            )
        )
        return true
    }
}

// MARK: - Work sessions

extension DecisionDraft {
    func workSessionPosition(_ id: String) -> Int? {
        state.workSessions.firstIndex { $0.id == id }
    }

    /// The position of an existing work session; rejects the command when there is none.
    func existingWorkSession(_ id: String) throws(Rejection) -> Int {
        guard let position = workSessionPosition(id) else {
            throw Rejection.unknownWorkSession(id, specTaskID: specTaskID)
        }
        return position
    }

    /// Rejects an id some work session of this spec task already has.
    func requireUnusedWorkSessionID(_ id: String) throws(Rejection) {
        if workSessionPosition(id) != nil { throw Rejection.idInUse(id, kind: .workSession, specTaskID: specTaskID) }
    }

    mutating func add(_ session: WorkSession) {
        state.workSessions.append(session)
        created.workSessionIDs.append(session.id)
        emit(.workSessionChanged(WorkSessionChange(from: nil, to: session.status, workSession: session)))
    }

    /// Changes a work session's status when the table allows it; nothing else follows (see `changeWorkSession`).
    ///
    /// Sets `startedAt` the first time the session becomes active and `completedAt` when it completes.
    /// - Returns: Whether the status changed.
    @discardableResult
    mutating func moveWorkSession(at position: Int, to next: WorkSessionStatus, reason: String?) -> Bool {
        let from = state.workSessions[position].status
        guard from.canTransition(to: next) else { return false }
        state.workSessions[position].status = next
        state.workSessions[position].updatedAt = now
        if next == .active, state.workSessions[position].startedAt == nil {
            state.workSessions[position].startedAt = now
        }
        if next == .completed { state.workSessions[position].completedAt = now }
        let session = state.workSessions[position]
        emit(.workSessionChanged(WorkSessionChange(from: from, to: next, reason: reason, workSession: session)))
        return true
    }
}

// MARK: - Zed threads

extension DecisionDraft {
    func zedThreadPosition(forWorkSession workSessionID: String) -> Int? {
        state.zedThreads.firstIndex { $0.workSessionID == workSessionID }
    }

    /// Rejects an id some Zed thread of this spec task already has.
    func requireUnusedZedThreadID(_ id: String) throws(Rejection) {
        if state.zedThreads.contains(where: { $0.id == id }) {
            throw Rejection.idInUse(id, kind: .zedThread, specTaskID: specTaskID)
        }
    }

    mutating func add(_ thread: ZedThread) {
        state.zedThreads.append(thread)
        created.zedThreadIDs.append(thread.id)
        emit(.zedThreadChanged(ZedThreadChange(from: nil, to: thread.status, zedThread: thread)))
    }

    /// Changes a Zed thread's status when the table allows it.
    ///
    /// - Returns: Whether the status changed.
    @discardableResult
    mutating func moveZedThread(at position: Int, to next: ZedThreadStatus, reason: String?) -> Bool {
        let from = state.zedThreads[position].status
        guard from.canTransition(to: next) else { return false }
        state.zedThreads[position].status = next
        let thread = state.zedThreads[position]
        emit(.zedThreadChanged(ZedThreadChange(from: from, to: next, reason: reason, zedThread: thread)))
        return true
    }

    /// Records a report from the thread's runner that is not a status change (its Zed id, its activity time).
    mutating func updateZedThread(
        at position: Int,
        announce reason: String? = nil,
        _ change: (inout ZedThread) -> Void
    ) {
        change(&state.zedThreads[position])
        if let reason {
            let thread = state.zedThreads[position]
            emit(
                .zedThreadChanged(
                    ZedThreadChange(from: thread.status, to: thread.status, reason: reason, zedThread: thread)
                )
            )
        }
    }
}

// MARK: - Zed instance

extension DecisionDraft {
    /// Makes `instance` the spec task's one instance, created now (its ready timeout counts from here).
    ///
    /// - Parameter reason: Why it was created, when it replaces another one.
    mutating func add(_ instance: ZedInstance, reason: String? = nil) {
        var instance = instance
        instance.createdAt = now
        state.zedInstance = instance
        created.zedInstanceID = instance.id
        emit(
            .zedInstanceChanged(
                ZedInstanceChange(from: nil, to: instance.status, reason: reason, zedInstance: instance)
            )
        )
    }

    /// Records what the runner reported about the instance other than its status (heartbeat time, resources).
    mutating func updateZedInstance(_ change: (inout ZedInstance) -> Void) {
        guard state.zedInstance != nil else { return }
        change(&state.zedInstance!)
    }

    /// Changes the Zed instance's status when there is one and the table allows it.
    ///
    /// - Returns: Whether the status changed.
    @discardableResult
    mutating func moveZedInstance(to next: ZedInstanceStatus, reason: String?) -> Bool {
        guard let instance = state.zedInstance, instance.status.canTransition(to: next) else { return false }
        state.zedInstance?.status = next
        emit(
            .zedInstanceChanged(
                ZedInstanceChange(from: instance.status, to: next, reason: reason, zedInstance: state.zedInstance!)
            )
        )
        return true
    }
}

// MARK: - Path claims

extension DecisionDraft {
    /// Keeps a new claim (granted or waiting) and announces it, with the claims in its way when it waits.
    mutating func add(_ claim: PathClaim, conflicts: [PathClaimConflict], reason: String) {
        state.pathClaims.append(claim)
        emit(
            .pathClaimChanged(PathClaimChange(to: claim.status, reason: reason, pathClaim: claim, conflicts: conflicts))
        )
    }

    /// waiting → granted.
    mutating func grantPathClaim(at position: Int, reason: String) {
        let from = state.pathClaims[position].status
        state.pathClaims[position].status = .granted
        state.pathClaims[position].grantedAt = now
        emit(
            .pathClaimChanged(
                PathClaimChange(from: from, to: .granted, reason: reason, pathClaim: state.pathClaims[position])
            )
        )
    }

    /// Drops a claim and announces it released.
    mutating func releasePathClaim(at position: Int, reason: String) {
        var claim = state.pathClaims.remove(at: position)
        let from = claim.status
        claim.status = .released
        emit(.pathClaimChanged(PathClaimChange(from: from, to: .released, reason: reason, pathClaim: claim)))
    }
}
