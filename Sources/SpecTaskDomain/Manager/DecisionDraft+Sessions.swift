// Work sessions and their Zed threads while implementation runs: spawning, status reports from upstream
// services, and reports from the Zed runner about a thread.

extension DecisionDraft {
    /// A running session asks for another one; it waits in the queue like any other session and counts
    /// against the concurrency limit once started. Spawned sessions may spawn again, to any depth.
    mutating func spawnWorkSession(_ spawn: SpawnWorkSession) throws(Rejection) {
        guard state.task.status == .implementation else {
            throw Rejection.wrongStatus(
                "spawn_work_session",
                specTaskID: specTaskID,
                status: state.task.status,
                needs: [.implementation]
            )
        }
        let parent = state.workSessions[try existingWorkSession(spawn.parentWorkSessionID)]
        guard parent.status == .active else {
            throw Rejection(
                .illegalTransition,
                "work session \(parent.id) is \(parent.status.rawValue); only an active work session can spawn another"
            )
        }
        if let index = spawn.implementationTaskIndex, implementationTaskPosition(index: index) == nil {
            throw Rejection.unknownImplementationTask(
                index,
                specTaskID: specTaskID,
                count: state.implementationTasks.count
            )
        }
        let name = try ManagerLimits.validName(spawn.name, of: "the work session spawned by \(parent.id)")
        let sessionID = try newWorkSessionID(chosen: spawn.workSessionID, field: "workSessionID")
        let threadID = generatedID("zt", ordinal: 1)
        try requireUnusedZedThreadID(threadID)

        add(
            WorkSession(
                id: sessionID,
                specTaskID: specTaskID,
                name: name,
                description: spawn.description ?? "",
                status: .pending,
                phase: .implementation,
                implementationTaskIndex: spawn.implementationTaskIndex,
                parentWorkSessionID: parent.id,
                spawnedByWorkSessionID: parent.id,
                attempt: 1,
                initialPrompt: spawn.initialPrompt,
                createdAt: now,
                updatedAt: now
            )
        )
        add(ZedThread(id: threadID, workSessionID: sessionID, specTaskID: specTaskID))
    }

    /// A status report for a work session; its thread and implementation task follow (see `changeWorkSession`).
    ///
    /// Making a session active by hand starts it out of turn, but never past the concurrency limit and never
    /// before its implementation task's dependencies are done: those are what the limit and the plan promise.
    mutating func updateWorkSessionStatus(_ update: UpdateWorkSessionStatus) throws(Rejection) {
        let position = try existingWorkSession(update.workSessionID)
        let session = state.workSessions[position]
        if let error = session.status.transitionError(to: update.status, entityID: session.id) {
            throw Rejection(error)
        }
        guard update.status == .active else {
            changeWorkSession(at: position, to: update.status, reason: update.reason)
            return
        }
        guard state.task.status == .implementation else {
            throw Rejection.wrongStatus(
                "making work session \(session.id) active",
                specTaskID: specTaskID,
                status: state.task.status,
                needs: [.implementation]
            )
        }
        if let limit = state.task.maxConcurrentSessions, freeSessionSlots == 0 {
            throw Rejection(
                .conflict,
                "spec task \(specTaskID) already has \(activeSessionCount) active work sessions and its limit is "
                    + "\(limit); work session \(session.id) can become active when one finishes or the limit is raised"
            )
        }
        if session.startedAt == nil {
            let waitingOn = unfinishedDependencies(of: session)
            if !waitingOn.isEmpty {
                throw Rejection(
                    .illegalTransition,
                    "work session \(session.id) can not start yet: implementation task "
                        + "\(session.implementationTaskIndex ?? 0) waits on \(describe(waitingOn))"
                )
            }
        }
        startSession(at: position, reason: update.reason, implementationTaskInProgress: true)
    }

    /// A report from the Zed runner about the thread of a work session: its Zed id, its status, its progress.
    ///
    /// A thread's own status is the runner's to report, so repeating the current status is accepted as a
    /// duplicate report. What the thread's end means for its session follows: completed completes the
    /// session, failed fails it; where the session's table does not allow that (the session is blocked, or
    /// ended already) the session is left as it is.
    ///
    /// - Parameter reason: Why the thread's status changed, when the runner said (carried by its status event).
    mutating func updateZedThread(_ update: UpdateZedThread, reason: String? = nil) throws(Rejection) {
        let sessionPosition = try existingWorkSession(update.workSessionID)
        let session = state.workSessions[sessionPosition]
        if let progress = update.progress, !ManagerLimits.progress.contains(progress) {
            throw Rejection(
                .invalidArgument,
                "progress \(progress) for the Zed thread of work session \(session.id) is out of range; use 0...100"
            )
        }
        if let externalID = update.zedThreadExternalID {
            try ManagerLimits.validateClientID(externalID, field: "zedThreadExternalID")
        }
        guard session.startedAt != nil else {
            // The runner learns of a thread only from the create_thread command sent when the session starts.
            throw Rejection(
                .illegalTransition,
                "work session \(session.id) has not started (it is \(session.status.rawValue)), so its Zed thread "
                    + "has not been created yet"
            )
        }
        let threadPosition = try zedThreadPositionCreatingIfMissing(for: session)
        let thread = state.zedThreads[threadPosition]
        let newStatus = update.status.flatMap { $0 == thread.status ? nil : $0 }
        if let newStatus, let error = thread.status.transitionError(to: newStatus, entityID: thread.id) {
            throw Rejection(error)
        }

        if let progress = update.progress { setThreadProgress(progress, threadID: thread.id) }
        let externalIDChanged = update.zedThreadExternalID.map { $0 != thread.zedThreadExternalID } ?? false
        // A new Zed id is news to followers even without a status change; with one, the status event carries it.
        let announcement = externalIDChanged && newStatus == nil ? "Zed thread id reported" : nil
        let time = now
        updateZedThread(at: threadPosition, announce: announcement) { thread in
            thread.lastActivityAt = time
            if let externalID = update.zedThreadExternalID { thread.zedThreadExternalID = externalID }
        }
        guard let newStatus else { return }
        moveZedThread(at: threadPosition, to: newStatus, reason: reason)

        switch newStatus {
        case .active:
            if state.workSessions[sessionPosition].status == .active {
                markImplementationTaskInProgress(for: state.workSessions[sessionPosition])
            }
        case .completed:
            changeWorkSession(at: sessionPosition, to: .completed, reason: "Zed thread \(thread.id) completed")
        case .failed:
            let why = reason.map { ": \($0)" } ?? ""
            changeWorkSession(at: sessionPosition, to: .failed, reason: "Zed thread \(thread.id) failed\(why)")
        case .pending, .disconnected:
            // A disconnected thread may come back; its session waits. No transition leads back to pending.
            break
        }
    }

    // MARK: - Helpers

    /// The id of a session this command creates: the client's, or generated with ordinal 1.
    func newWorkSessionID(chosen: String?, field: String) throws(Rejection) -> String {
        let id: String
        if let chosen {
            try ManagerLimits.validateClientID(chosen, field: field)
            id = chosen
        } else {
            id = generatedID("ws", ordinal: 1)
        }
        try requireUnusedWorkSessionID(id)
        return id
    }

    /// Rejects starting new work when the spec task's Zed instance has been stopped (or never existed):
    /// threads of new sessions would have nowhere to run.
    func requireLiveZedInstance() throws(Rejection) {
        guard let instance = state.zedInstance else {
            throw Rejection(
                .illegalTransition,
                "spec task \(specTaskID) has no Zed instance; start implementation first"
            )
        }
        guard instance.status != .stopped else {
            throw Rejection(
                .illegalTransition,
                "Zed instance \(instance.id) of spec task \(specTaskID) is stopped, so no new work session can run in "
                    + "it; cancel the spec task instead"
            )
        }
    }

    /// The thread of a session. Every session is created with its thread, so a missing one means the state was
    /// written by something else; the report then creates it rather than getting lost.
    mutating func zedThreadPositionCreatingIfMissing(for session: WorkSession) throws(Rejection) -> Int {
        if let position = zedThreadPosition(forWorkSession: session.id) { return position }
        let threadID = generatedID("zt", ordinal: 1)
        try requireUnusedZedThreadID(threadID)
        add(ZedThread(id: threadID, workSessionID: session.id, specTaskID: specTaskID))
        return state.zedThreads.count - 1
    }

    /// "task 2 (in_progress) and task 4 (pending)" for rejection messages.
    private func describe(_ indexes: [Int]) -> String {
        indexes.map { index in
            let status = implementationTaskPosition(index: index).map { state.implementationTasks[$0].status.rawValue }
            return "task \(index) (\(status ?? "not in the plan"))"
        }
        .joined(separator: " and ")
    }
}
