extension ImplementationTask {
    /// Creates a pending implementation task from a task of a parsed plan.
    ///
    /// - Parameters:
    ///   - parsed: The task as ``ImplementationPlanParser`` returned it.
    ///   - specTaskID: The spec task the plan belongs to.
    public init(parsed: ParsedTask, specTaskID: String) {
        self.init(
            specTaskID: specTaskID,
            index: parsed.index,
            title: parsed.title,
            description: parsed.description,
            acceptanceCriteria: parsed.acceptanceCriteria,
            effort: parsed.effort,
            dependsOn: parsed.dependsOn,
            parallel: parsed.parallel,
            checklist: parsed.checklist,
            requirements: parsed.requirements
        )
    }
}
