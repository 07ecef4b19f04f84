// The spec task's one Zed instance, as commands see it.

extension DecisionDraft {
    /// Stops (deletes) the Zed instance: every open thread fails and is told to stop, every session that has
    /// not ended is cancelled (its implementation task blocked, so a retry can pick it up), and the runner is
    /// told to stop the instance. The spec task keeps its status: stopping the editor is not cancelling the work.
    mutating func stopZedInstance(_ stop: StopZedInstance) throws(Rejection) {
        guard let instance = state.zedInstance else {
            throw Rejection(
                .illegalTransition,
                "spec task \(specTaskID) has no Zed instance to stop; one is created when implementation starts"
            )
        }
        if let error = instance.status.transitionError(to: .stopped, entityID: instance.id) {
            throw Rejection(error)
        }
        let reason = stop.reason ?? "Zed instance stopped"
        closeAllWork(reason: reason, threadReason: "Zed instance stopped", blocksImplementationTasks: true)
        stopInstance(reason: reason)
    }

    /// Creates the spec task's instance and asks a runner to open it, with the token the runner must present
    /// on every event of it.
    ///
    /// - Parameter reason: Why it was created, when it replaces another one.
    mutating func openZedInstance(_ instanceID: String, workspaceConfig: JSONValue?, reason: String? = nil) {
        add(ZedInstance(id: instanceID, specTaskID: specTaskID, workspaceConfig: workspaceConfig), reason: reason)
        emit(
            .createInstance(
                CreateZedInstance(
                    instanceID: instanceID,
                    specTaskID: specTaskID,
                    projectPath: state.task.projectPath,
                    workspaceConfig: workspaceConfig,
                    runnerToken: context.runnerToken(instanceID)
                )
            )
        )
    }

    /// Replaces a failed Zed instance by a new one, for work that is to run again: the new instance (id
    /// `zi-<command id>-1`) gets `create_instance` with a token of its own, and the scheduler asks for the
    /// threads of the sessions it starts in it once it exists, as after start_implementation. Nothing happens
    /// while the instance is not failed.
    ///
    /// The spec task keeps one instance: from here on the old one's events are rejected (`unknown_zed_instance`:
    /// its token opens nothing), and its runner is told to stop it. The old instance stays `failed` in the
    /// record; its last status event says it was replaced, and the new one's creation names it. Work that still
    /// counted on a thread in it (a session that started and has not ended, as one put back in the queue or made
    /// active by hand while the instance was failed) loses that thread: it is cancelled, to be retried in turn.
    ///
    /// - Parameter why: What the replacement is for, e.g. "work session ws-1 retried".
    mutating func replaceFailedZedInstance(because why: String) throws(Rejection) {
        guard let old = state.zedInstance, old.status == .failed else { return }
        let newID = generatedID("zi", ordinal: 1)
        guard newID != old.id else {
            throw Rejection.idInUse(newID, kind: .zedInstance, specTaskID: specTaskID)
        }
        let replaced = "Zed instance \(old.id) failed and was replaced by \(newID) (\(why))"
        for position in state.workSessions.indices
        where state.workSessions[position].startedAt != nil && !state.workSessions[position].status.isTerminal {
            changeWorkSession(
                at: position,
                to: .cancelled,
                reason: "\(replaced); its thread was in the old instance, retry the session to run it again",
                threadReason: replaced
            )
        }
        // Threads of sessions that ended while their thread could not follow (disconnected) end with the instance.
        for position in state.zedThreads.indices where !state.zedThreads[position].status.isTerminal {
            guard let session = workSessionPosition(state.zedThreads[position].workSessionID),
                state.workSessions[session].startedAt != nil
            else { continue }
            moveZedThread(at: position, to: .failed, reason: replaced)
        }
        emit(
            .zedInstanceChanged(ZedInstanceChange(from: old.status, to: old.status, reason: replaced, zedInstance: old))
        )
        emit(.stopInstance(StopZedInstanceOrder(instanceID: old.id, specTaskID: specTaskID, reason: replaced)))
        openZedInstance(
            newID,
            workspaceConfig: old.workspaceConfig,
            reason: "replaces Zed instance \(old.id), which failed (\(why))"
        )
    }
}
