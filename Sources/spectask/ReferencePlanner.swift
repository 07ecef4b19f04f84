import SpecTaskDomain

/// The planning agent the reference Zed runner plays on a planning session's thread: it writes specs for the
/// spec task named in the thread's prompt, and revises them when asked.
///
/// Its configuration is the planning agent's (`start_planning`'s `agentConfig`): `{"plan": "<markdown>"}`
/// makes it hand in that implementation plan (the demo passes docs/examples/auth-plan.md this way); without
/// one it writes a small three-task plan of its own.
struct ReferencePlanner {
    var requirements: String
    var design: String
    var implementationPlan: String

    /// The first specs for the thread's spec task.
    init(for thread: CreateZedThread) {
        let name = Self.specTaskName(in: thread.initialPrompt)
        requirements = """
            # Requirements: \(name)

            - The work described in the request is done, tested and documented.
            - Every change is reviewed before it is merged.
            """
        design = """
            # Design: \(name)

            Small, separately testable parts, built in the order of the implementation plan.
            """
        if case .object(let config)? = thread.agentConfig, case .string(let plan)? = config["plan"] {
            implementationPlan = plan
        } else {
            implementationPlan = Self.defaultPlan(for: name)
        }
    }

    /// The same specs, revised after a reviewer's comments: the comments become requirements.
    mutating func revise(_ order: ReviseSpecsOrder) {
        let who = order.reviewer.map { " (asked by \($0))" } ?? ""
        requirements += "\n\n## Revision \(order.revision)\(who)\n\n\(order.comments)"
    }

    func submitted(instanceID: String, workSessionID: String) -> ZedEvent {
        .specsSubmitted(
            ZedSpecsSubmitted(
                instanceID: instanceID,
                workSessionID: workSessionID,
                requirements: requirements,
                design: design,
                implementationPlan: implementationPlan
            )
        )
    }

    /// The name between the quotes of the prompt's first sentence ("Write the specs for "…"."), or a stand-in.
    static func specTaskName(in prompt: String) -> String {
        let firstLine = prompt.split(separator: "\n", maxSplits: 1).first ?? ""
        guard let open = firstLine.firstIndex(of: "\""),
            let close = firstLine[firstLine.index(after: open)...].lastIndex(of: "\""),
            close > firstLine.index(after: open)
        else { return "the spec task" }
        return String(firstLine[firstLine.index(after: open)..<close])
    }

    static func defaultPlan(for name: String) -> String {
        """
        # Implementation plan: \(name)

        ## Task 1: Groundwork
        Description: The data model and the interfaces the other tasks build on.
        Effort: small

        ## Task 2: The feature
        Description: \(name), behind the interfaces of task 1.
        Effort: medium
        Depends on: 1

        ## Task 3: Tests and documentation
        Description: Tests for the failure paths and a page of documentation.
        Effort: small
        Depends on: 2
        """
    }
}
