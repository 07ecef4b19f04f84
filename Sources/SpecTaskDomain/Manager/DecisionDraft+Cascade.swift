// How one change brings others along: a work session's Zed thread and implementation task follow the
// session, stopping the instance or cancelling the spec task closes all work, and the end of the last session
// ends the implementation.
//
// Every follow-up change goes through the transition tables. Where a table does not allow one, that entity is
// left as it is rather than forced; each such place is named in the comments below.

extension DecisionDraft {
    /// Changes a work session's status and brings its Zed thread and implementation task along:
    ///
    /// | session   | Zed thread                         | implementation task |
    /// |-----------|------------------------------------|---------------------|
    /// | completed | completed (and told to stop)       | completed           |
    /// | failed    | failed (and told to stop)          | blocked             |
    /// | cancelled | failed (and told to stop)          | blocked             |
    /// | blocked   | as it is                           | blocked             |
    /// | pending   | as it is                           | pending, unassigned |
    ///
    /// Becoming active is `startSession`. The implementation task follows only the session it is assigned
    /// to: a session spawned to help with a task neither completes nor blocks it.
    ///
    /// - Parameters:
    ///   - threadReason: Why the thread ends, when the session ends; defaults to "work session <status>",
    ///     e.g. "work session cancelled".
    ///   - blocksImplementationTask: `false` leaves the implementation task as it is when the session ends
    ///     (cancelling the spec task keeps the record of how far each task got).
    /// - Returns: Whether the session's status changed; the table decides.
    @discardableResult
    ///   - tellRunner: `false` when the runner itself reported the end (no `stop_thread` back to it).
    mutating func changeWorkSession(
        at position: Int,
        to next: WorkSessionStatus,
        reason: String?,
        threadReason: String? = nil,
        blocksImplementationTask: Bool = true,
        tellRunner: Bool = true
    ) -> Bool {
        if next == .active { return startSession(at: position, reason: reason) }
        guard moveWorkSession(at: position, to: next, reason: reason) else { return false }
        let session = state.workSessions[position]
        let ended = "work session \(session.id) \(next.rawValue)"
        // The thread's own event already names its session.
        let threadEnded = threadReason ?? "work session \(next.rawValue)"

        switch next {
        case .completed:
            // A disconnected thread can not complete (its table says active or failed); it stays disconnected
            // until its runner reports again or the instance is stopped.
            closeZedThread(of: session, as: .completed, reason: threadEnded, tellRunner: tellRunner)
            moveImplementationTask(of: session, to: .completed, reason: ended)
        case .failed, .cancelled:
            closeZedThread(of: session, as: .failed, reason: threadEnded, tellRunner: tellRunner)
            if blocksImplementationTask { moveImplementationTask(of: session, to: .blocked, reason: ended) }
        case .blocked:
            moveImplementationTask(of: session, to: .blocked, reason: ended)
        case .pending:
            moveImplementationTask(
                of: session,
                to: .pending,
                reason: "work session \(session.id) went back to the queue"
            )
        case .active:
            break
        }
        return true
    }

    /// Ends every running or waiting session (cancelled) and every open thread (failed), as stopping the
    /// instance or cancelling the spec task does.
    mutating func closeAllWork(
        reason: String,
        threadReason: String,
        blocksImplementationTasks: Bool,
        tellRunner: Bool = true
    ) {
        for position in state.workSessions.indices where !state.workSessions[position].status.isTerminal {
            changeWorkSession(
                at: position,
                to: .cancelled,
                reason: reason,
                threadReason: threadReason,
                blocksImplementationTask: blocksImplementationTasks,
                tellRunner: tellRunner
            )
        }
        // Threads whose session ended earlier while they could not follow (a disconnected thread of a
        // completed session) end here.
        for position in state.zedThreads.indices where !state.zedThreads[position].status.isTerminal {
            let thread = state.zedThreads[position]
            if let session = workSessionPosition(thread.workSessionID).map({ state.workSessions[$0] }) {
                closeZedThread(of: session, as: .failed, reason: threadReason, tellRunner: tellRunner)
            } else {
                moveZedThread(at: position, to: .failed, reason: threadReason)
            }
        }
    }

    /// Stops the Zed instance, if there is one that is not stopped yet, and tells its runner.
    mutating func stopInstance(reason: String) {
        guard let instance = state.zedInstance, moveZedInstance(to: .stopped, reason: reason) else { return }
        emit(.stopInstance(StopZedInstanceOrder(instanceID: instance.id, specTaskID: specTaskID, reason: reason)))
    }

    /// Ends a session's thread if it is still open. The runner is told to stop it only if it was asked to
    /// create it, that is if the session ever started.
    private mutating func closeZedThread(
        of session: WorkSession,
        as status: ZedThreadStatus,
        reason: String,
        tellRunner: Bool = true
    ) {
        guard let position = zedThreadPosition(forWorkSession: session.id),
            !state.zedThreads[position].status.isTerminal,
            moveZedThread(at: position, to: status, reason: reason)
        else { return }
        guard tellRunner, session.startedAt != nil, let instance = state.zedInstance else { return }
        emit(
            .stopThread(
                StopZedThread(
                    instanceID: instance.id,
                    specTaskID: specTaskID,
                    workSessionID: session.id,
                    threadID: state.zedThreads[position].id,
                    reason: reason
                )
            )
        )
    }

    /// Moves the implementation task a session is assigned to; a task assigned to another session (or to
    /// none) is not this session's to change. A move the table does not allow (blocked → completed) is
    /// skipped.
    private mutating func moveImplementationTask(
        of session: WorkSession,
        to next: ImplementationTaskStatus,
        reason: String
    ) {
        guard let index = session.implementationTaskIndex,
            let position = implementationTaskPosition(index: index),
            state.implementationTasks[position].assignedWorkSessionID == session.id
        else { return }
        // A task back in the queue belongs to whichever session the scheduler starts for it next.
        let assignment: String?? = next == .pending ? .some(nil) : nil
        moveImplementationTask(at: position, to: next, assigning: assignment, reason: reason)
    }
}

// MARK: - Completion rules

extension DecisionDraft {
    /// Ends the implementation when nothing is left to do, or marks it failed when nothing can go on.
    ///
    /// Runs after the scheduler, so when no session is active or blocked, every pending session that is left
    /// waits on an implementation task that is not completed: nothing moves until someone acts.
    /// - Finished: every implementation task completed and no session pending, active or blocked →
    ///   implementation_review.
    /// - Stuck because of a failure: no session active or blocked, and an unfinished implementation task's
    ///   assigned session failed → implementation_failed; retrying that session brings the task back.
    ///   A cancelled session does not fail the spec task: cancelling (or stopping the instance) is a
    ///   decision someone made, and retry works from implementation as well.
    mutating func concludeImplementation() {
        guard state.task.status == .implementation, !state.implementationTasks.isEmpty else { return }
        let sessions = state.workSessions
        guard !sessions.contains(where: { $0.status == .active || $0.status == .blocked }) else { return }

        let unfinished = state.implementationTasks.filter { $0.status != .completed }
        if unfinished.isEmpty {
            guard !sessions.contains(where: { $0.status == .pending }) else { return }
            moveSpecTask(to: .implementationReview, reason: "all implementation sessions completed")
            return
        }

        let failed = unfinished.compactMap { task in
            task.assignedWorkSessionID.flatMap { id in sessions.first { $0.id == id && $0.status == .failed } }
        }
        guard !failed.isEmpty else { return }
        let names = failed.map { "work session \($0.id) (implementation task \($0.implementationTaskIndex ?? 0))" }
        moveSpecTask(
            to: .implementationFailed,
            reason: "\(names.joined(separator: " and ")) failed and no other work session can go on; retry to continue"
        )
    }
}
