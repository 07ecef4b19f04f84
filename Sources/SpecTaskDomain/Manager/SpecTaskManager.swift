/// The multi-session manager: every rule of a spec task's life as one pure decision function.
///
/// The worker locks the task row, loads the ``SpecTaskState``, calls ``decide(_:_:context:)`` with one
/// command and stores what comes back. Nothing here reads a clock, a random source or anything else outside
/// its arguments, so the same state, command and context always give the same decision: a replay after a
/// crash, or the sequential model in tests, reaches exactly the same result.
///
/// After every applied command, while the spec task is in `implementation`, the scheduler starts the
/// sessions that may start (`DecisionDraft.startReadySessions()`) and the completion rules decide whether
/// the implementation is finished or stuck (`DecisionDraft.concludeImplementation()`).
public enum SpecTaskManager {
    /// Applies one command to one spec task.
    ///
    /// - Parameters:
    ///   - state: The spec task and everything it owns; `nil` when no such task exists yet.
    ///   - command: The command, with the id and time it is applied under.
    ///   - context: Where the ids of new entities and the runner tokens come from.
    /// - Returns: The new state and what to publish, led by the command's `commandApplied` outcome; or why
    ///   the command can not be applied, in which case nothing changes.
    public static func decide(
        _ state: SpecTaskState?,
        _ command: IncomingCommand,
        context: DecisionContext
    ) -> Decision {
        do throws(Rejection) {
            let (newState, emissions) = try apply(command, to: state, context: context).outcome()
            return .applied(newState, emissions)
        } catch {
            return .rejected(error)
        }
    }

    private static func apply(
        _ command: IncomingCommand,
        to state: SpecTaskState?,
        context: DecisionContext
    ) throws(Rejection) -> DecisionDraft {
        guard let state else {
            guard case .create(let payload) = command.command else {
                throw Rejection.unknownSpecTask(command.specTaskID)
            }
            return try create(payload, command, context: context)
        }
        guard state.task.id == command.specTaskID else {
            // The worker loads the state by the command's subject, so this is a bug in the caller; a rejection
            // keeps the wrong task from being changed.
            throw Rejection(
                .invalidArgument,
                "command \(command.id) is for spec task \(command.specTaskID), but the state given is of spec task "
                    + "\(state.task.id)"
            )
        }

        var draft = DecisionDraft(state: state, command: command, context: context)
        switch command.command {
        case .create:
            throw Rejection(
                .alreadyExists,
                "spec task \(state.task.id) already exists (it is in \(state.task.status.rawValue))"
            )
        case .startPlanning(let payload): try draft.startPlanning(payload)
        case .submitSpecs(let payload): try draft.submitSpecs(payload)
        case .approveSpecs(let payload): try draft.approveSpecs(payload)
        case .requestChanges(let payload): try draft.requestChanges(payload)
        case .startImplementation(let payload): try draft.startImplementation(payload)
        case .spawnWorkSession(let payload): try draft.spawnWorkSession(payload)
        case .updateWorkSessionStatus(let payload): try draft.updateWorkSessionStatus(payload)
        case .updateZedThread(let payload): try draft.updateZedThread(payload)
        case .stopZedInstance(let payload): try draft.stopZedInstance(payload)
        case .approveImplementation(let payload): try draft.approveImplementation(payload)
        case .requestImplementationChanges(let payload): try draft.requestImplementationChanges(payload)
        case .cancel(let payload): try draft.cancel(payload)
        case .archive(let payload): draft.archive(payload)
        case .setSharedContext(let payload): try draft.setSharedContext(payload)
        case .retryWorkSession(let payload): try draft.retryWorkSession(payload)
        case .setConcurrencyLimit(let payload): try draft.setConcurrencyLimit(payload)
        case .setBudget(let payload): draft.setBudget(payload)
        case .zedEvent(let event): try draft.apply(event)
        }

        // Usage may have reached the budget (or a raised budget freed it) before the scheduler looks.
        draft.announceBudgetChange(comparedTo: state)

        // Whatever the command was, a freed slot or a completed dependency may let waiting sessions start,
        // and the last session to finish ends the implementation.
        draft.startReadySessions()
        draft.concludeImplementation()
        // A planning session that ended without approved specs fails the planning, whatever ended it.
        draft.concludePlanning()
        // Claims of sessions that ended are released, and the claims that waited on them granted.
        draft.settlePathClaims()
        return draft
    }

    /// Creates the spec task named by the command's subject, in `backlog`.
    private static func create(
        _ payload: CreateSpecTask,
        _ command: IncomingCommand,
        context: DecisionContext
    ) throws(Rejection) -> DecisionDraft {
        try ManagerLimits.validateClientID(command.specTaskID, field: "the spec task id (the command's subject)")
        let name = try ManagerLimits.validName(payload.name, of: "spec task \(command.specTaskID)")
        try ManagerLimits.validateConcurrencyLimit(payload.maxConcurrentSessions, of: command.specTaskID)

        let task = SpecTask(
            id: command.specTaskID,
            name: name,
            description: payload.description ?? "",
            status: .backlog,
            projectPath: payload.projectPath,
            maxConcurrentSessions: payload.maxConcurrentSessions,
            createdAt: command.time,
            updatedAt: command.time
        )
        var draft = DecisionDraft(state: SpecTaskState(task: task), command: command, context: context)
        draft.emit(.specTaskChanged(SpecTaskChange(from: nil, to: .backlog, specTask: task)))
        return draft
    }
}
