// The planning session: planning as a thread on the spec task's Zed instance.
//
// `start_planning` in Zed opens the instance if the task has none (or replaces one that failed or was stopped)
// and starts a session of phase `planning`, whose thread writes the specs:
// - `specs_submitted` from it is applied as `submit_specs` (→ spec_review); the session stays open for the
//   reviewer's answer. A plan that can not be used goes back to the thread as `revise_specs`.
// - `request_changes` sends the reviewer's comments to the thread as `revise_specs`; if the session has ended
//   by then, a new planning session starts with the comments in its prompt.
// - `approve_specs` completes the session; `start_implementation` runs the plan on the same instance.
// - The session ending before the specs are approved (`planning_failed`, its thread failing or completing
//   without specs, the instance failing or stopping) moves the task to spec_failed (``concludePlanning()``),
//   from where `start_planning` plans again.

extension DecisionDraft {
    /// Starts planning as a planning session in Zed (see the top of this file).
    mutating func startPlanningSession(_ start: StartPlanning) throws(Rejection) {
        try changeSpecTaskStatus(to: .specGeneration, reason: "planning session started in Zed")
        let sessionID = try newWorkSessionID(chosen: start.workSessionID, field: "workSessionID")
        endOpenPlanningSessions(reason: "replaced by planning session \(sessionID)")
        let agentConfig = start.agentConfig ?? context.planning.agentConfig
        updateSpecTask { task in
            if let path = start.projectPath { task.projectPath = path }
            if let agentConfig { task.planningAgentConfig = agentConfig }
        }
        try useZedInstance(
            chosen: start.zedInstanceID,
            workspaceConfig: start.workspaceConfig,
            for: "planning session \(sessionID)"
        )
        try openPlanningSession(id: sessionID, prompt: nil)
    }

    /// The planning session's thread wrote the specs: applied as `submit_specs`, except that a plan that can
    /// not be used goes back to the thread (a rejection would reach no one there).
    mutating func planningSessionSubmitted(_ specs: ZedSpecsSubmitted) throws(Rejection) {
        let session = state.workSessions[try openPlanningSession(specs.workSessionID, sending: "specs_submitted")]
        if let error = state.task.status.transitionError(to: .specReview, entityID: specTaskID) {
            throw Rejection(error)
        }
        if let problem = planProblem(specs.implementationPlan) {
            emitReviseSpecs(
                to: session,
                reviewer: nil,
                comments: "\(problem). Submit the specs again with a plan that can run."
            )
            return
        }
        try submitSpecs(
            SubmitSpecs(
                requirements: specs.requirements,
                design: specs.design,
                implementationPlan: specs.implementationPlan
            )
        )
    }

    /// The planning session's thread gave up: the session fails, and with it the planning.
    mutating func planningSessionFailed(_ failure: ZedPlanningFailed) throws(Rejection) {
        let position = try openPlanningSession(failure.workSessionID, sending: "planning_failed")
        changeWorkSession(
            at: position,
            to: .failed,
            reason: "planning failed: \(failure.reason)",
            threadReason: "planning failed",
            tellRunner: false
        )
    }

    /// spec_generation or spec_revision, planning in Zed, and its planning session ended → spec_failed.
    ///
    /// Runs after every input, so every way a session can end is covered (its thread's events, the
    /// instance failing or stopping, a sweeper's timeout). The session's last status change says why.
    mutating func concludePlanning() {
        guard state.task.status == .specGeneration || state.task.status == .specRevision,
            let sessionID = state.task.planningSessionID,
            let position = workSessionPosition(sessionID),
            state.workSessions[position].status.isTerminal
        else { return }
        let session = state.workSessions[position]
        let why = lastChangeReason(of: sessionID).map { ": \($0)" } ?? ""
        let ended =
            session.status == .completed
            ? "planning session \(sessionID) completed without submitting specs"
            : "planning session \(sessionID) \(session.status.rawValue)\(why)"
        moveSpecTask(to: .specFailed, reason: "\(ended); start_planning plans again")
    }

    /// After the status moved to spec_revision: the reviewer's comments go to the planning session's thread,
    /// or to a new planning session when that one has ended. Nothing to do when the planner is outside Zed.
    mutating func sendChangesToPlanningSession(reviewer: String?, comments: String) throws(Rejection) {
        guard let sessionID = state.task.planningSessionID, let position = workSessionPosition(sessionID) else {
            return
        }
        let session = state.workSessions[position]
        if !session.status.isTerminal, let thread = zedThreadPosition(forWorkSession: sessionID),
            !state.zedThreads[thread].status.isTerminal
        {
            emitReviseSpecs(to: session, reviewer: reviewer, comments: comments)
            return
        }
        let newID = try newWorkSessionID(chosen: nil, field: "workSessionID")
        endOpenPlanningSessions(reason: "replaced by planning session \(newID)")
        try useZedInstance(chosen: nil, workspaceConfig: nil, for: "planning session \(newID)")
        try openPlanningSession(
            id: newID,
            prompt: InitialPrompt.specsRevision(
                specTask: state.task,
                reviewer: reviewer,
                comments: comments,
                attempt: planningSessionCount + 1
            )
        )
    }

    /// Completes the open planning session, if any: its specs are approved.
    mutating func completeOpenPlanningSessions(reason: String) {
        for position in state.workSessions.indices
        where state.workSessions[position].phase == .planning && !state.workSessions[position].status.isTerminal {
            changeWorkSession(at: position, to: .completed, reason: reason, threadReason: reason)
        }
    }

    /// Cancels open planning sessions: another planner takes over. The task no longer waits on them.
    mutating func endOpenPlanningSessions(reason: String) {
        updateSpecTask { $0.planningSessionID = nil }
        for position in state.workSessions.indices
        where state.workSessions[position].phase == .planning && !state.workSessions[position].status.isTerminal {
            changeWorkSession(at: position, to: .cancelled, reason: reason, threadReason: reason)
        }
    }

    /// The spec task's live instance for new work: the one it has, a new one when it has none, or a
    /// replacement for one that failed or was stopped.
    ///
    /// - Parameter chosen: The client's id for a new instance; refused when the task already has one.
    mutating func useZedInstance(chosen: String?, workspaceConfig: JSONValue?, for work: String) throws(Rejection) {
        guard let instance = state.zedInstance else {
            openZedInstance(try newZedInstanceID(chosen: chosen), workspaceConfig: workspaceConfig)
            return
        }
        if let chosen, chosen != instance.id {
            throw Rejection(
                .conflict,
                "spec task \(specTaskID) already has Zed instance \(instance.id); leave out zedInstanceID (it is "
                    + "\(chosen)), which names an instance to create"
            )
        }
        switch instance.status {
        case .pending, .ready, .disconnected:
            return
        case .failed:
            try replaceFailedZedInstance(because: "\(work) started")
        case .stopped:
            let newID = generatedID("zi", ordinal: 1)
            guard newID != instance.id else {
                throw Rejection.idInUse(newID, kind: .zedInstance, specTaskID: specTaskID)
            }
            openZedInstance(
                newID,
                workspaceConfig: workspaceConfig ?? instance.workspaceConfig,
                reason: "replaces Zed instance \(instance.id), which was stopped (\(work) started)"
            )
        }
    }

    // MARK: - Helpers

    private var planningSessionCount: Int {
        state.workSessions.count { $0.phase == .planning }
    }

    /// Adds the planning session and its thread and starts it at once: nothing else runs while planning.
    private mutating func openPlanningSession(id: String, prompt: String?) throws(Rejection) {
        let threadID = generatedID("zt", ordinal: 1)
        try requireUnusedZedThreadID(threadID)
        let attempt = planningSessionCount + 1
        add(
            WorkSession(
                id: id,
                specTaskID: specTaskID,
                name: attempt == 1 ? "Planning" : "Planning (attempt \(attempt))",
                description: "Write the requirements, the technical design and the implementation plan",
                status: .pending,
                phase: .planning,
                attempt: attempt,
                initialPrompt: prompt,
                createdAt: now,
                updatedAt: now
            )
        )
        add(ZedThread(id: threadID, workSessionID: id, specTaskID: specTaskID))
        updateSpecTask { $0.planningSessionID = id }
        startSession(at: state.workSessions.count - 1, reason: "planning session started")
    }

    /// The position of the session an event names, which must be the task's open planning session.
    private func openPlanningSession(_ id: String, sending event: String) throws(Rejection) -> Int {
        let position = try existingWorkSession(id)
        let session = state.workSessions[position]
        guard session.phase == .planning, state.task.planningSessionID == id else {
            let current =
                state.task.planningSessionID.map { "its planning session is \($0)" }
                ?? "it has no planning session in Zed"
            throw Rejection(
                .notPlanningSession,
                "work session \(id) is not the planning session of spec task \(specTaskID) (\(current)); only that "
                    + "session's thread sends \(event)"
            )
        }
        let threadClosed = zedThreadPosition(forWorkSession: id).map { state.zedThreads[$0].status.isTerminal } ?? true
        guard !session.status.isTerminal, !threadClosed else {
            throw Rejection(
                .senderClosed,
                "planning session \(id) is \(session.status.rawValue); only an open planning session sends \(event)"
            )
        }
        return position
    }

    private mutating func emitReviseSpecs(to session: WorkSession, reviewer: String?, comments: String) {
        guard let instance = state.zedInstance, let thread = zedThreadPosition(forWorkSession: session.id) else {
            return
        }
        emit(
            .reviseSpecs(
                ReviseSpecsOrder(
                    instanceID: instance.id,
                    specTaskID: specTaskID,
                    workSessionID: session.id,
                    threadID: state.zedThreads[thread].id,
                    reviewer: reviewer,
                    comments: comments,
                    revision: state.task.revisionCount
                )
            )
        )
    }

    /// The reason of the latest status change of a session in this decision, e.g. why it failed.
    private func lastChangeReason(of sessionID: String) -> String? {
        for case .status(.workSessionChanged(let change)) in emissions.reversed()
        where change.workSession.id == sessionID {
            return change.reason
        }
        return nil
    }
}
