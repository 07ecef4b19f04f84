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
}
