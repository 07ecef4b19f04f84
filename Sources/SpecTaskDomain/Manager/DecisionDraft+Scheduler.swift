// The scheduler: which waiting work sessions start, and what starting one means.

extension DecisionDraft {
    /// Starts waiting sessions while the spec task is in implementation, as far as the concurrency limit
    /// allows, each only once its implementation task's dependencies are completed.
    ///
    /// Sessions are taken by implementation task index, so the plan's order decides who gets a slot first,
    /// then sessions without a task (spawned helpers) oldest first. A session that must wait is skipped, not
    /// waited for, so an independent task behind it can use the slot. A lowered limit never stops running
    /// sessions; it only keeps new ones waiting.
    mutating func startReadySessions() {
        // A disconnected or failed instance gets no new threads until it is back; a used-up budget none at all.
        guard state.task.status == .implementation, let instance = state.zedInstance,
            instance.status == .pending || instance.status == .ready, budgetExceededReason == nil
        else { return }
        var freeSlots = freeSessionSlots
        for position in startOrder() {
            guard freeSlots > 0 else { return }
            guard unfinishedDependencies(of: state.workSessions[position]).isEmpty else { continue }
            startSession(at: position, reason: "started by the scheduler")
            freeSlots -= 1
        }
    }

    var activeSessionCount: Int {
        state.workSessions.count { $0.status == .active }
    }

    /// How many more sessions may be active now; `Int.max` without a limit.
    var freeSessionSlots: Int {
        guard let limit = state.task.maxConcurrentSessions else { return .max }
        return max(0, limit - activeSessionCount)
    }

    /// The indexes of the implementation tasks a session's task waits on that are not completed yet; empty for
    /// a session without a task. A dependency missing from the state counts as not completed.
    func unfinishedDependencies(of session: WorkSession) -> [Int] {
        guard let index = session.implementationTaskIndex,
            let position = implementationTaskPosition(index: index)
        else { return [] }
        return state.implementationTasks[position].dependsOn.filter { dependency in
            implementationTaskPosition(index: dependency).map { state.implementationTasks[$0].status != .completed }
                ?? true
        }
    }

    /// Makes a pending or blocked session active.
    ///
    /// The first time, its implementation task is assigned to it (unless another running session has it) and
    /// the runner is asked to create its thread. A session resuming from blocked, or restarted after going
    /// back to the queue, keeps the thread it has.
    ///
    /// - Parameters:
    ///   - implementationTaskInProgress: Whether the task also goes to in_progress: yes when someone reports
    ///     the session active; no when the scheduler starts it, since work begins when its thread says so.
    /// - Returns: Whether the session became active; the table decides.
    @discardableResult
    mutating func startSession(at position: Int, reason: String?, implementationTaskInProgress: Bool = false) -> Bool {
        let firstStart = state.workSessions[position].startedAt == nil
        guard moveWorkSession(at: position, to: .active, reason: reason) else { return false }
        let session = state.workSessions[position]
        assignImplementationTask(to: session)
        if implementationTaskInProgress { markImplementationTaskInProgress(for: session) }
        if firstStart { emitCreateThread(for: session) }
        return true
    }

    /// assigned → in_progress for the implementation task assigned to this session.
    mutating func markImplementationTaskInProgress(for session: WorkSession) {
        guard let index = session.implementationTaskIndex,
            let position = implementationTaskPosition(index: index),
            state.implementationTasks[position].assignedWorkSessionID == session.id,
            state.implementationTasks[position].status == .assigned
        else { return }
        moveImplementationTask(at: position, to: .inProgress, reason: "work session \(session.id) is working on it")
    }

    // MARK: - Helpers

    /// Positions of the pending sessions in the order they get slots.
    private func startOrder() -> [Int] {
        let sessions = state.workSessions
        return sessions.indices
            .filter { sessions[$0].status == .pending }
            .sorted { first, second in
                let firstIndex = sessions[first].implementationTaskIndex ?? .max
                let secondIndex = sessions[second].implementationTaskIndex ?? .max
                return firstIndex != secondIndex ? firstIndex < secondIndex : first < second
            }
    }

    /// pending or blocked → assigned to the starting session. A task another session is running stays with
    /// that session (the starting one is a helper), and a completed task stays completed.
    private mutating func assignImplementationTask(to session: WorkSession) {
        guard let index = session.implementationTaskIndex,
            let position = implementationTaskPosition(index: index)
        else { return }
        let task = state.implementationTasks[position]
        guard task.status == .pending || task.status == .blocked else { return }
        moveImplementationTask(
            at: position,
            to: .assigned,
            assigning: .some(session.id),
            reason: "assigned to work session \(session.id)"
        )
    }

    /// Asks the runner of the spec task's instance to open the session's thread.
    private mutating func emitCreateThread(for session: WorkSession) {
        // Every session is created with its thread, on the spec task's instance.
        guard let instance = state.zedInstance, let threadPosition = zedThreadPosition(forWorkSession: session.id)
        else { return }
        let task = session.implementationTaskIndex
            .flatMap { implementationTaskPosition(index: $0) }
            .map { state.implementationTasks[$0] }
        emit(
            .createThread(
                CreateZedThread(
                    instanceID: instance.id,
                    specTaskID: specTaskID,
                    workSessionID: session.id,
                    threadID: state.zedThreads[threadPosition].id,
                    name: session.name,
                    description: session.description,
                    implementationTaskIndex: session.implementationTaskIndex,
                    implementationTaskTitle: task?.title,
                    initialPrompt: session.phase == .planning
                        ? InitialPrompt.planning(for: session, specTask: state.task)
                        : InitialPrompt.make(for: session, task: task, specTask: state.task),
                    agentConfig: session.phase == .planning
                        ? state.task.planningAgentConfig ?? state.task.agentConfig : state.task.agentConfig,
                    phase: session.phase
                )
            )
        )
    }
}
