// The planning phase: the planning agent writes the specs, a human approves them or asks for changes.
//
// The planning agent is either outside spectask (it answers `start_planning` with `submit_specs`) or the
// planning session: a thread on the spec task's Zed instance that answers with `zed.event.specs_submitted`
// (DecisionDraft+PlanningSession.swift).

extension DecisionDraft {
    /// backlog, spec_failed or spec_revision → spec_generation: the planning agent (re)starts, as a planning
    /// session in Zed when the command (or else the worker's default) says so.
    ///
    /// The transition table decides where planning may start from; spec_revision is in it because a
    /// reviewer may ask for the specs to be regenerated rather than edited. A planning session still open from
    /// an earlier start is cancelled: one planner writes the specs at a time.
    mutating func startPlanning(_ start: StartPlanning) throws(Rejection) {
        let inZed = start.inZed ?? context.planning.inZed
        guard inZed else {
            if start.agentConfig != nil || start.workspaceConfig != nil || start.zedInstanceID != nil
                || start.workSessionID != nil
            {
                throw Rejection(
                    .invalidArgument,
                    "agentConfig, workspaceConfig, zedInstanceID and workSessionID are for a planning session in Zed; "
                        + "planning of spec task \(specTaskID) runs outside Zed (inZed is false)"
                )
            }
            try changeSpecTaskStatus(to: .specGeneration)
            endOpenPlanningSessions(reason: "planning restarted outside Zed")
            return
        }
        try startPlanningSession(start)
    }

    /// spec_generation or spec_revision → spec_review, with the planning agent's documents.
    ///
    /// The plan is parsed now, not when implementation starts, so a plan that can never run is sent back to
    /// the planning agent at once instead of after a human approved it.
    mutating func submitSpecs(_ specs: SubmitSpecs) throws(Rejection) {
        if let error = state.task.status.transitionError(to: .specReview, entityID: specTaskID) {
            throw Rejection(error)
        }
        if let problem = planProblem(specs.implementationPlan) {
            throw Rejection(.invalidPlan, problem)
        }
        updateSpecTask { task in
            task.requirements = specs.requirements
            task.design = specs.design
            task.implementationPlan = specs.implementationPlan
        }
        try changeSpecTaskStatus(to: .specReview)
    }

    /// spec_review → spec_approved, recording who approved. The planning session, if one is open, is done.
    mutating func approveSpecs(_ approval: ApproveSpecs) throws(Rejection) {
        if let error = state.task.status.transitionError(to: .specApproved, entityID: specTaskID) {
            throw Rejection(error)
        }
        let approver = String(Substring(approval.approver).trimmed())
        guard !approver.isEmpty else {
            throw Rejection(.invalidArgument, "approve_specs for spec task \(specTaskID) names no approver")
        }
        let time = now
        updateSpecTask { task in
            task.approvedBy = approver
            task.approvedAt = time
            task.approvalComments = approval.comments
        }
        try changeSpecTaskStatus(to: .specApproved, reason: "specs approved by \(approver)")
        completeOpenPlanningSessions(reason: "specs approved by \(approver)")
    }

    /// spec_review → spec_revision: the reviewer's comments go back to the planning agent (to the planning
    /// session's thread, when planning runs in Zed).
    mutating func requestChanges(_ request: RequestChanges) throws(Rejection) {
        if let error = state.task.status.transitionError(to: .specRevision, entityID: specTaskID) {
            throw Rejection(error)
        }
        updateSpecTask { task in
            task.revisionCount += 1
            task.approvalComments = request.comments
        }
        let reviewer = request.reviewer.map { " by \($0)" } ?? ""
        try changeSpecTaskStatus(to: .specRevision, reason: "changes requested\(reviewer)")
        try sendChangesToPlanningSession(reviewer: request.reviewer, comments: request.comments)
    }

    /// Why an implementation plan can not be used, or `nil` when it parses.
    func planProblem(_ plan: String) -> String? {
        do throws(PlanError) {
            _ = try ImplementationPlanParser.parse(plan)
            return nil
        } catch {
            return "the implementation plan of spec task \(specTaskID) can not be used: \(error.message)"
        }
    }
}
