// Events from the runner of the spec task's Zed instance (`zed.events`), and the budget they may use up.
//
// The worker has already checked the runner token against the event's instance; here the instance must be
// this spec task's, and every work session named must be one of its sessions. So a runner can only ever touch
// its own instance and threads.

extension DecisionDraft {
    mutating func apply(_ event: ZedEvent) throws(Rejection) {
        let instance = try runnersInstance(event.instanceID)
        if instance.status == .stopped {
            switch event {
            case .heartbeat, .instanceStopped:
                // A runner may send one more heartbeat before it reads the stop; nothing is left to change.
                return
            default:
                throw Rejection(
                    .illegalTransition,
                    "Zed instance \(instance.id) of spec task \(specTaskID) is stopped; \(event.type) is not applied"
                )
            }
        }
        // Any report but a loss proves the runner is there: a lost instance and its threads are back (a thread
        // can not complete while it counts as disconnected).
        switch event {
        case .instanceDisconnected, .instanceError, .instanceStopped: break
        case .instanceReady: markAlive(reason: "Zed instance ready")
        case .heartbeat: markAlive(reason: "heartbeat received after the instance was lost")
        default: markAlive(reason: "the runner reported again after the instance was lost")
        }
        // A report on a thread the worker counted as disconnected means it is there again (while the instance
        // stayed ready, a runner may have reported that one thread lost); only then does the report apply.
        switch event {
        case .threadCreated(let report as any ThreadReport), .threadCompleted(let report as any ThreadReport),
            .threadFailed(let report as any ThreadReport):
            reviveThread(of: report.workSessionID)
        case .threadStatusChanged(let change) where change.status != .disconnected:
            reviveThread(of: change.workSessionID)
        default:
            break
        }
        switch event {
        case .instanceReady:
            break
        case .heartbeat(let heartbeat):
            heartbeatReceived(heartbeat)
        case .instanceDisconnected(let disconnected):
            disconnectInstance(reason: disconnected.reason ?? "the runner reported the Zed instance disconnected")
        case .instanceError(let error):
            failInstance(error: error.error)
        case .instanceStopped(let stopped):
            let reason = "Zed instance stopped by its runner" + (stopped.reason.map { ": \($0)" } ?? "")
            // The runner closed everything itself: no stop commands back to it.
            closeAllWork(
                reason: reason,
                threadReason: "Zed instance stopped",
                blocksImplementationTasks: true,
                tellRunner: false
            )
            moveZedInstance(to: .stopped, reason: reason)
        case .threadCreated(let created):
            try updateZedThread(
                UpdateZedThread(
                    workSessionID: created.workSessionID,
                    zedThreadExternalID: created.zedThreadExternalID,
                    status: .active
                ),
                reason: "Zed thread created"
            )
        case .threadStatusChanged(let change):
            try updateZedThread(
                UpdateZedThread(workSessionID: change.workSessionID, status: change.status),
                reason: change.reason
            )
        case .threadActivity(let activity):
            try record(activity)
        case .threadCompleted(let completed):
            try updateZedThread(
                UpdateZedThread(workSessionID: completed.workSessionID, status: .completed, progress: 100),
                reason: completed.summary
            )
        case .threadFailed(let failed):
            try updateZedThread(
                UpdateZedThread(workSessionID: failed.workSessionID, status: .failed),
                reason: failed.reason
            )
        case .spawnRequested(let request):
            try spawnWorkSession(
                SpawnWorkSession(
                    parentWorkSessionID: request.workSessionID,
                    name: request.name,
                    description: request.description,
                    implementationTaskIndex: request.implementationTaskIndex,
                    initialPrompt: request.initialPrompt,
                    workSessionID: request.newWorkSessionID
                )
            )
        case .coordinationMessage(let message):
            try coordinate(message)
        case .specsSubmitted(let specs):
            try planningSessionSubmitted(specs)
        case .planningFailed(let failure):
            try planningSessionFailed(failure)
        case .pathsClaimed(let claim):
            try claimPaths(claim)
        case .pathsReleased(let release):
            try releasePaths(release)
        }
    }

    /// Sets the spec task's budget; the crossing itself is announced by ``announceBudgetChange(comparedTo:)``.
    mutating func setBudget(_ budget: SetBudget) {
        let newBudget =
            budget.maxTokens == nil && budget.maxCostMicros == nil
            ? nil : Budget(maxTokens: budget.maxTokens, maxCostMicros: budget.maxCostMicros)
        let tokens = budget.maxTokens.map { "\($0) tokens" } ?? "no token limit"
        let cost = budget.maxCostMicros.map { "\(Budget.dollars($0))" } ?? "no cost limit"
        updateSpecTask(announce: newBudget == nil ? "budget removed" : "budget set: \(tokens), \(cost)") { task in
            task.budget = newBudget
        }
    }

    /// The sum of the usage of every thread of the spec task.
    var usage: Usage {
        state.zedThreads.totalUsage
    }

    /// Why the budget is used up, or `nil` while there is budget left (or no budget).
    var budgetExceededReason: String? {
        state.task.budget?.exceeded(by: usage)
    }

    /// Announces the budget being used up (and tells the running threads) or freed again (a raised budget),
    /// compared with the state before the input.
    mutating func announceBudgetChange(comparedTo before: SpecTaskState) {
        let wasExceeded = before.task.budget?.exceeded(by: before.zedThreads.totalUsage) != nil
        switch (wasExceeded, budgetExceededReason) {
        case (false, .some(let reason)):
            let message = "budget exceeded: \(reason); no new work session starts until the budget is raised"
            updateSpecTask(announce: message) { _ in }
            guard let instance = state.zedInstance, instance.status != .stopped else { return }
            // Every running session's thread, also one the runner has not reported on yet.
            let running = Set(state.workSessions.filter { $0.status == .active }.map(\.id))
            for thread in state.zedThreads where running.contains(thread.workSessionID) && !thread.status.isTerminal {
                emit(
                    .budgetExceeded(
                        BudgetExceededNotice(
                            instanceID: instance.id,
                            specTaskID: specTaskID,
                            workSessionID: thread.workSessionID,
                            threadID: thread.id,
                            reason: message
                        )
                    )
                )
            }
        case (true, .none):
            updateSpecTask(announce: "budget raised: waiting work sessions may start again") { _ in }
        default:
            break
        }
    }

    // MARK: - Instance

    /// The spec task's instance, when it is the one the event names.
    private func runnersInstance(_ instanceID: String) throws(Rejection) -> ZedInstance {
        guard let instance = state.zedInstance, instance.id == instanceID else {
            let has = state.zedInstance.map { "its instance is \($0.id)" } ?? "it has no Zed instance"
            throw Rejection(
                .unknownZedInstance,
                "Zed instance \(instanceID) is not the instance of spec task \(specTaskID) (\(has))"
            )
        }
        return instance
    }

    private mutating func heartbeatReceived(_ heartbeat: ZedHeartbeat) {
        updateZedInstance { instance in
            instance.resources = ResourceUsage(
                cpuPercent: heartbeat.cpuPercent,
                memoryMB: heartbeat.memoryMB,
                uptimeSeconds: heartbeat.uptimeSeconds
            )
        }
        for reported in heartbeat.threads ?? [] {
            // Threads of other tasks, or not started yet, are not this runner's to report: skipped, not applied.
            guard let sessionPosition = workSessionPosition(reported.workSessionID),
                state.workSessions[sessionPosition].startedAt != nil,
                let threadPosition = zedThreadPosition(forWorkSession: reported.workSessionID),
                !state.zedThreads[threadPosition].status.isTerminal
            else { continue }
            if let progress = reported.progress {
                setThreadProgress(progress, threadID: state.zedThreads[threadPosition].id)
            }
        }
    }

    /// The runner is there: the instance is ready again and its disconnected threads active again.
    private mutating func markAlive(reason: String) {
        let time = now
        updateZedInstance { $0.lastHeartbeatAt = time }
        guard let instance = state.zedInstance, instance.status != .ready else { return }
        let recovered = instance.status == .pending ? "Zed instance ready" : reason
        moveZedInstance(to: .ready, reason: recovered)
        for position in state.zedThreads.indices where state.zedThreads[position].status == .disconnected {
            moveZedThread(at: position, to: .active, reason: "Zed instance \(instance.id) is back")
        }
    }

    /// ready → disconnected, and every active thread with it; sessions wait (they are not failed yet).
    mutating func disconnectInstance(reason: String) {
        guard moveZedInstance(to: .disconnected, reason: reason), let instance = state.zedInstance else { return }
        for position in state.zedThreads.indices where state.zedThreads[position].status == .active {
            moveZedThread(at: position, to: .disconnected, reason: "Zed instance \(instance.id) disconnected")
        }
    }

    /// → failed: every running or blocked session fails, and its thread with it.
    mutating func failInstance(error: String) {
        updateZedInstance { $0.lastError = error }
        guard moveZedInstance(to: .failed, reason: error), let instance = state.zedInstance else { return }
        let reason = "Zed instance \(instance.id) failed: \(error)"
        for position in state.workSessions.indices
        where state.workSessions[position].status == .active || state.workSessions[position].status == .blocked {
            changeWorkSession(at: position, to: .failed, reason: reason, threadReason: reason)
        }
    }

    // MARK: - Threads

    /// disconnected → active for the thread of this session, if it has one that is disconnected.
    private mutating func reviveThread(of workSessionID: String) {
        guard let position = zedThreadPosition(forWorkSession: workSessionID),
            state.zedThreads[position].status == .disconnected
        else { return }
        moveZedThread(at: position, to: .active, reason: "the runner reported on it again")
    }

    /// Counts an activity into its thread's usage; the first activity makes a pending thread active and a
    /// disconnected one active again. Usage is counted even after the thread ended: it was spent.
    private mutating func record(_ activity: ZedThreadActivity) throws(Rejection) {
        let sessionPosition = try existingWorkSession(activity.workSessionID)
        let session = state.workSessions[sessionPosition]
        guard session.startedAt != nil else {
            throw Rejection(
                .illegalTransition,
                "work session \(session.id) has not started (it is \(session.status.rawValue)), so its Zed thread "
                    + "can not report activity"
            )
        }
        let threadPosition = try zedThreadPositionCreatingIfMissing(for: session)
        let thread = state.zedThreads[threadPosition]
        switch thread.status {
        case .pending:
            moveZedThread(at: threadPosition, to: .active, reason: "first activity reported")
            if state.workSessions[sessionPosition].status == .active {
                markImplementationTaskInProgress(for: state.workSessions[sessionPosition])
            }
        case .disconnected:
            moveZedThread(at: threadPosition, to: .active, reason: "activity reported")
        case .active, .completed, .failed:
            break
        }
        if let progress = activity.progress, !thread.status.isTerminal {
            setThreadProgress(progress, threadID: thread.id)
        }
        let spent = Usage(
            activities: 1,
            filesChanged: activity.filesChanged ?? 0,
            linesAdded: activity.linesAdded ?? 0,
            linesRemoved: activity.linesRemoved ?? 0,
            testsRun: activity.testsRun ?? 0,
            testsPassed: activity.testsPassed ?? 0,
            tokensIn: activity.tokensIn ?? 0,
            tokensOut: activity.tokensOut ?? 0,
            costMicros: activity.costMicros ?? 0
        )
        let time = now
        updateZedThread(at: threadPosition) { thread in
            thread.lastActivityAt = time
            thread.usage = (thread.usage ?? .zero) + spent
        }
    }

    // MARK: - Coordination

    /// Records a message in the coordination log and delivers it to its receiver's thread, or to the thread of
    /// every other running session of the task. A receiver whose thread is not running gets it from the log.
    private mutating func coordinate(_ message: ZedCoordinationMessage) throws(Rejection) {
        let sender = state.workSessions[try existingWorkSession(message.fromWorkSessionID)]
        guard sender.startedAt != nil else {
            throw Rejection(
                .illegalTransition,
                "work session \(sender.id) has not started (it is \(sender.status.rawValue)), so no thread of it can "
                    + "send a coordination message"
            )
        }
        // A finished session's thread has said its last word: a message from it is stale (a runner replaying its
        // history, or a thread still running after its work was taken away), and receivers would act on it.
        try requireOpenThread(of: sender, to: "send a coordination message")
        var receivers: [WorkSession]
        if let to = message.toWorkSessionID {
            guard message.kind != .broadcast else {
                throw Rejection(
                    .invalidArgument,
                    "a broadcast goes to every work session of the task; leave out toWorkSessionID (it is \(to))"
                )
            }
            guard to != sender.id else {
                throw Rejection(.invalidArgument, "work session \(to) can not send a coordination message to itself")
            }
            receivers = [state.workSessions[try existingWorkSession(to)]]
        } else {
            receivers = state.workSessions.filter { $0.id != sender.id }
        }
        let entry = CoordinationEntry(
            id: generatedID("cm", ordinal: 1),
            specTaskID: specTaskID,
            fromWorkSessionID: sender.id,
            toWorkSessionID: message.toWorkSessionID,
            kind: message.kind,
            message: message.message,
            replyTo: message.replyTo,
            createdAt: now
        )
        record(entry)
        guard let instance = state.zedInstance else { return }
        receivers = receivers.filter { $0.startedAt != nil }
        for receiver in receivers {
            guard let thread = zedThreadPosition(forWorkSession: receiver.id).map({ state.zedThreads[$0] }),
                !thread.status.isTerminal
            else { continue }
            emit(
                .deliverMessage(
                    DeliverCoordinationMessage(
                        instanceID: instance.id,
                        specTaskID: specTaskID,
                        messageID: entry.id,
                        workSessionID: receiver.id,
                        threadID: thread.id,
                        fromWorkSessionID: sender.id,
                        kind: message.kind,
                        message: message.message,
                        isBroadcast: entry.isBroadcast,
                        replyTo: message.replyTo
                    )
                )
            )
        }
    }
}

/// The thread events that name a work session.
private protocol ThreadReport {
    var workSessionID: String { get }
}

extension ZedThreadCreated: ThreadReport {}
extension ZedThreadCompleted: ThreadReport {}
extension ZedThreadFailed: ThreadReport {}
