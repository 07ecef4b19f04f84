// The planning phase: the planning agent writes the specs, a human approves them or asks for changes.

extension DecisionDraft {
    /// backlog, spec_failed or spec_revision → spec_generation: the planning agent (re)starts.
    ///
    /// The transition table decides where planning may start from; spec_revision is in it because a
    /// reviewer may ask for the specs to be regenerated rather than edited.
    mutating func startPlanning() throws(Rejection) {
        try changeSpecTaskStatus(to: .specGeneration)
    }

    /// spec_generation or spec_revision → spec_review, with the planning agent's documents.
    ///
    /// The plan is parsed now, not when implementation starts, so a plan that can never run is sent back to
    /// the planning agent at once instead of after a human approved it.
    mutating func submitSpecs(_ specs: SubmitSpecs) throws(Rejection) {
        if let error = state.task.status.transitionError(to: .specReview, entityID: specTaskID) {
            throw Rejection(error)
        }
        do throws(PlanError) {
            _ = try ImplementationPlanParser.parse(specs.implementationPlan)
        } catch {
            throw Rejection(
                .invalidPlan,
                "the implementation plan of spec task \(specTaskID) can not be used: \(error.message)"
            )
        }
        updateSpecTask { task in
            task.requirements = specs.requirements
            task.design = specs.design
            task.implementationPlan = specs.implementationPlan
        }
        try changeSpecTaskStatus(to: .specReview)
    }

    /// spec_review → spec_approved, recording who approved.
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
    }

    /// spec_review → spec_revision: the reviewer's comments go back to the planning agent.
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
    }
}
