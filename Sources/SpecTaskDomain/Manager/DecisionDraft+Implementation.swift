// The implementation phase as a whole: starting it from the approved plan, retrying what failed, approving
// the result.

extension DecisionDraft {
    /// spec_approved → implementation: the plan becomes implementation tasks, the spec task gets its one Zed
    /// instance, and every implementation task gets one work session with one Zed thread. The scheduler then
    /// starts the sessions whose dependencies are done, within the concurrency limit.
    mutating func startImplementation(_ start: StartImplementation) throws(Rejection) {
        guard state.task.status == .specApproved else {
            // The table also lets implementation_review and implementation_failed go back to implementation;
            // those continue the existing sessions, and creating the plan's tasks again would double them.
            throw Rejection.wrongStatus(
                "start_implementation",
                specTaskID: specTaskID,
                status: state.task.status,
                needs: [.specApproved]
            )
        }
        let plan = try parsedPlan()
        try ManagerLimits.validateConcurrencyLimit(start.maxConcurrentSessions, of: specTaskID)
        // The planning session (if planning ran in Zed) is all there may be: its instance is used on.
        if !state.implementationTasks.isEmpty || state.workSessions.contains(where: { $0.phase != .planning }) {
            throw Rejection(
                .conflict,
                "spec task \(specTaskID) already has implementation tasks or implementation work sessions"
            )
        }
        let sessionIDs = try newWorkSessionIDs(chosen: start.workSessionIDs, taskCount: plan.count)

        updateSpecTask { task in
            if let projectPath = start.projectPath { task.projectPath = projectPath }
            if let limit = start.maxConcurrentSessions { task.maxConcurrentSessions = limit }
            if let agentConfig = start.agentConfig { task.agentConfig = agentConfig }
        }
        let sessions = plan.count == 1 ? "one work session" : "\(plan.count) work sessions"
        try changeSpecTaskStatus(to: .implementation, reason: "implementation started with \(sessions)")

        for parsed in plan {
            add(ImplementationTask(parsed: parsed, specTaskID: specTaskID))
        }

        try useZedInstance(
            chosen: start.zedInstanceID,
            workspaceConfig: start.workspaceConfig,
            for: "implementation"
        )

        for (parsed, sessionID) in zip(plan, sessionIDs) {
            let threadID = generatedID("zt", ordinal: parsed.index)
            try requireUnusedZedThreadID(threadID)
            add(
                WorkSession(
                    id: sessionID,
                    specTaskID: specTaskID,
                    name: parsed.title,
                    description: parsed.description,
                    status: .pending,
                    phase: .implementation,
                    implementationTaskIndex: parsed.index,
                    createdAt: now,
                    updatedAt: now
                )
            )
            add(ZedThread(id: threadID, workSessionID: sessionID, specTaskID: specTaskID))
        }
    }

    /// implementation_review → done. The Zed instance is stopped: no command can use it once the task is done.
    mutating func approveImplementation(_ approval: ApproveImplementation) throws(Rejection) {
        if let error = state.task.status.transitionError(to: .done, entityID: specTaskID) {
            throw Rejection(error)
        }
        let approver = String(Substring(approval.approver).trimmed())
        guard !approver.isEmpty else {
            throw Rejection(.invalidArgument, "approve_implementation for spec task \(specTaskID) names no approver")
        }
        let comments = approval.comments.map { ": \($0)" } ?? ""
        try changeSpecTaskStatus(to: .done, reason: "implementation approved by \(approver)\(comments)")
        stopInstance(reason: "spec task done")
    }

    /// A new attempt at the implementation task of a failed or cancelled session, with a new session and
    /// thread; the scheduler starts it like any other. An implementation_failed spec task goes back to
    /// implementation, and a failed Zed instance is replaced by a new one (`replaceFailedZedInstance`).
    mutating func retryWorkSession(_ retry: RetryWorkSession) throws(Rejection) {
        let position = try existingWorkSession(retry.workSessionID)
        let previous = state.workSessions[position]
        guard previous.status == .failed || previous.status == .cancelled else {
            throw Rejection(
                .illegalTransition,
                "work session \(previous.id) is \(previous.status.rawValue); only a failed or cancelled work session "
                    + "can be retried"
            )
        }
        guard let index = previous.implementationTaskIndex else {
            throw Rejection(
                .invalidArgument,
                "work session \(previous.id) works on no implementation task, so there is nothing to retry; "
                    + "spawn a new work session instead"
            )
        }
        guard let taskPosition = implementationTaskPosition(index: index) else {
            throw Rejection.unknownImplementationTask(
                index,
                specTaskID: specTaskID,
                count: state.implementationTasks.count
            )
        }
        let status = state.task.status
        guard status == .implementation || status == .implementationFailed else {
            throw Rejection.wrongStatus(
                "retry_work_session",
                specTaskID: specTaskID,
                status: status,
                needs: [.implementation, .implementationFailed]
            )
        }
        guard state.implementationTasks[taskPosition].status != .completed else {
            throw Rejection(
                .illegalTransition,
                "implementation task \(index) of spec task \(specTaskID) is already completed; there is nothing to retry"
            )
        }
        let attempts = state.workSessions.filter { $0.implementationTaskIndex == index }
        if let newer = attempts.first(where: { $0.attempt > previous.attempt && !$0.status.isTerminal }) {
            // Two retries of one failure would run the task twice.
            throw Rejection(
                .conflict,
                "implementation task \(index) already has a newer attempt, work session \(newer.id) "
                    + "(\(newer.status.rawValue)); retry that one if it fails"
            )
        }
        try requireLiveZedInstance()
        let sessionID = try newWorkSessionID(chosen: retry.newWorkSessionID, field: "newWorkSessionID")
        let threadID = generatedID("zt", ordinal: 1)
        try requireUnusedZedThreadID(threadID)

        if status == .implementationFailed {
            try changeSpecTaskStatus(to: .implementation, reason: "work session \(previous.id) retried")
        }
        if state.implementationTasks[taskPosition].status == .blocked {
            moveImplementationTask(
                at: taskPosition,
                to: .pending,
                assigning: .some(nil),
                reason: "retry of work session \(previous.id)"
            )
        }
        addNextAttempt(of: previous, sessionID: sessionID, threadID: threadID, initialPrompt: previous.initialPrompt)
        // A failed instance's runner is gone or broken: the new attempt runs in a new instance.
        try replaceFailedZedInstance(because: "work session \(previous.id) retried")
    }

    /// implementation_review → implementation: the reviewer is not satisfied with some implementation tasks. Each
    /// named task goes back to pending with a new work session, the next attempt of its latest one, whose prompt
    /// carries the reviewer's comments; the scheduler starts them on the task's Zed instance (a new one when it
    /// failed meanwhile), and once they are completed the task is in review again.
    mutating func requestImplementationChanges(_ request: RequestImplementationChanges) throws(Rejection) {
        guard state.task.status == .implementationReview else {
            throw Rejection.wrongStatus(
                "request_implementation_changes",
                specTaskID: specTaskID,
                status: state.task.status,
                needs: [.implementationReview]
            )
        }
        let comments = String(Substring(request.comments).trimmed())
        guard !comments.isEmpty else {
            throw Rejection(
                .invalidArgument,
                "request_implementation_changes for spec task \(specTaskID) has no comments: say what to change"
            )
        }
        let indexes = request.implementationTaskIndexes
        guard !indexes.isEmpty else {
            throw Rejection(
                .invalidArgument,
                "request_implementation_changes for spec task \(specTaskID) names no implementation task to reopen"
            )
        }
        guard Set(indexes).count == indexes.count else {
            throw Rejection(.invalidArgument, "implementationTaskIndexes names a task twice: \(indexes)")
        }
        var reopened: [(position: Int, latest: WorkSession)] = []
        for index in indexes {
            guard let position = implementationTaskPosition(index: index) else {
                throw Rejection.unknownImplementationTask(
                    index,
                    specTaskID: specTaskID,
                    count: state.implementationTasks.count
                )
            }
            guard
                let latest = state.workSessions.filter({ $0.implementationTaskIndex == index })
                    .max(by: { $0.attempt < $1.attempt })
            else {
                throw Rejection(
                    .conflict,
                    "implementation task \(index) of spec task \(specTaskID) has no work session"
                )
            }
            reopened.append((position, latest))
        }
        try requireLiveZedInstance()

        let reviewer = request.reviewer.map { " by \($0)" } ?? ""
        let tasks = indexes.map(String.init).joined(separator: ", ")
        try changeSpecTaskStatus(
            to: .implementation,
            reason: "changes requested\(reviewer) on implementation task\(indexes.count == 1 ? "" : "s") \(tasks): "
                + comments
        )
        for (position, latest) in reopened {
            let index = state.implementationTasks[position].index
            moveImplementationTask(
                at: position,
                to: .pending,
                assigning: .some(nil),
                reason: "reopened: changes requested\(reviewer)"
            )
            let sessionID = generatedID("ws", ordinal: index)
            try requireUnusedWorkSessionID(sessionID)
            let threadID = generatedID("zt", ordinal: index)
            try requireUnusedZedThreadID(threadID)
            let prompt = InitialPrompt.changesRequested(
                after: latest,
                task: state.implementationTasks[position],
                specTask: state.task,
                reviewer: request.reviewer,
                comments: comments
            )
            addNextAttempt(of: latest, sessionID: sessionID, threadID: threadID, initialPrompt: prompt)
        }
        // As for a retry: the new sessions can not run in a failed instance, so a new one takes its place.
        try replaceFailedZedInstance(because: "changes requested on the implementation")
    }

    /// A new work session (and its thread) for the implementation task of `previous`: the next attempt after
    /// every earlier one of that task, pending until the scheduler starts it.
    private mutating func addNextAttempt(
        of previous: WorkSession,
        sessionID: String,
        threadID: String,
        initialPrompt: String?
    ) {
        let index = previous.implementationTaskIndex
        let attempts = state.workSessions.filter { $0.implementationTaskIndex == index }.map(\.attempt)
        add(
            WorkSession(
                id: sessionID,
                specTaskID: specTaskID,
                name: previous.name,
                description: previous.description,
                status: .pending,
                phase: previous.phase,
                implementationTaskIndex: index,
                parentWorkSessionID: previous.parentWorkSessionID,
                spawnedByWorkSessionID: previous.spawnedByWorkSessionID,
                attempt: (attempts.max() ?? previous.attempt) + 1,
                initialPrompt: initialPrompt,
                createdAt: now,
                updatedAt: now
            )
        )
        add(ZedThread(id: threadID, workSessionID: sessionID, specTaskID: specTaskID))
    }

    // MARK: - Helpers

    /// The stored plan, parsed; it was checked when submitted, so an error here means the state was edited.
    private func parsedPlan() throws(Rejection) -> [ParsedTask] {
        guard let plan = state.task.implementationPlan else {
            throw Rejection(.invalidPlan, "spec task \(specTaskID) has no implementation plan; submit specs first")
        }
        do throws(PlanError) {
            return try ImplementationPlanParser.parse(plan)
        } catch {
            throw Rejection(
                .invalidPlan,
                "the implementation plan of spec task \(specTaskID) can not be used: \(error.message)"
            )
        }
    }

    func newZedInstanceID(chosen: String?) throws(Rejection) -> String {
        guard let chosen else { return generatedID("zi", ordinal: 1) }
        try ManagerLimits.validateClientID(chosen, field: "zedInstanceID")
        return chosen
    }

    /// The ids of the plan's sessions: the client's, one per task in plan order, or generated ones whose
    /// ordinal is the task's index.
    private func newWorkSessionIDs(chosen: [String]?, taskCount: Int) throws(Rejection) -> [String] {
        guard let chosen else {
            let generated = (1...taskCount).map { generatedID("ws", ordinal: $0) }
            for id in generated { try requireUnusedWorkSessionID(id) }
            if Set(generated).count != generated.count {
                throw Rejection(.conflict, "the generated work session ids of command \(command.id) are not distinct")
            }
            return generated
        }
        guard chosen.count == taskCount else {
            throw Rejection(
                .invalidArgument,
                "workSessionIDs has \(chosen.count) ids, but the plan of spec task \(specTaskID) has \(taskCount) "
                    + "implementation tasks; give exactly one id per task, in plan order"
            )
        }
        var seen: Set<String> = []
        for id in chosen {
            try ManagerLimits.validateClientID(id, field: "a work session id in workSessionIDs")
            guard seen.insert(id).inserted else {
                throw Rejection(
                    .invalidArgument,
                    "workSessionIDs names work session \(id) twice; every task needs its own id"
                )
            }
            try requireUnusedWorkSessionID(id)
        }
        return chosen
    }
}
