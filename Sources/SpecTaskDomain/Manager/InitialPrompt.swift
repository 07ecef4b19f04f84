/// The first message an agent gets in a new Zed thread.
enum InitialPrompt {
    /// The prompt for a session's thread: the one its spawner asked for, or one built from its implementation
    /// task (title, description, acceptance criteria, checklist), or from the session's own name and description.
    ///
    /// - Parameters:
    ///   - session: The session whose thread starts.
    ///   - task: The implementation task it works on, if any.
    ///   - specTask: The spec task, for its name.
    /// - Returns: Plain text, paragraphs separated by blank lines.
    static func make(for session: WorkSession, task: ImplementationTask?, specTask: SpecTask) -> String {
        if let prompt = session.initialPrompt, !Substring(prompt).trimmed().isEmpty { return prompt }
        var paragraphs = work(of: session, task: task, specTask: specTask)
        if session.attempt > 1 {
            paragraphs.append("This is attempt \(session.attempt); an earlier attempt did not finish.")
        }
        return paragraphs.joined(separator: "\n\n")
    }

    /// The prompt of a session that does a completed implementation task again because its reviewer asked for
    /// changes: the task's own prompt (the one `previous` got), then the reviewer's comments.
    static func changesRequested(
        after previous: WorkSession,
        task: ImplementationTask?,
        specTask: SpecTask,
        reviewer: String?,
        comments: String
    ) -> String {
        let original =
            previous.initialPrompt.flatMap { Substring($0).trimmed().isEmpty ? nil : $0 }
            ?? work(of: previous, task: task, specTask: specTask).joined(separator: "\n\n")
        let who = reviewer.map { "The reviewer, \($0)," } ?? "The reviewer"
        return original + "\n\n\(who) asked for changes to the finished work: \(comments)"
    }

    /// The prompt for the planning session's thread: the one it was started with (a revision), or what to
    /// write for the spec task and how to hand it in.
    static func planning(for session: WorkSession, specTask: SpecTask) -> String {
        if let prompt = session.initialPrompt, !Substring(prompt).trimmed().isEmpty { return prompt }
        var paragraphs = planningWork(for: specTask)
        if session.attempt > 1 {
            paragraphs.append("This is planning attempt \(session.attempt); an earlier attempt did not finish.")
        }
        return paragraphs.joined(separator: "\n\n")
    }

    /// The prompt of a new planning session that revises specs a reviewer asked changes to, when the planning
    /// session that wrote them has ended.
    static func specsRevision(specTask: SpecTask, reviewer: String?, comments: String, attempt: Int) -> String {
        var paragraphs = planningWork(for: specTask)
        paragraphs.append("Planning attempt \(attempt) revises the specs submitted earlier:")
        for (title, document) in [
            ("Requirements", specTask.requirements), ("Design", specTask.design),
            ("Implementation plan", specTask.implementationPlan),
        ] {
            if let document { paragraphs.append("\(title):\n\(document)") }
        }
        let who = reviewer.map { "The reviewer, \($0)," } ?? "The reviewer"
        paragraphs.append("\(who) asked for changes: \(comments)")
        return paragraphs.joined(separator: "\n\n")
    }

    private static func planningWork(for specTask: SpecTask) -> [String] {
        var paragraphs = ["Write the specs for \"\(specTask.name)\"."]
        if !specTask.description.isEmpty { paragraphs.append(specTask.description) }
        paragraphs.append(
            "Hand in three documents with zed.event.specs_submitted: the requirements, the technical design and "
                + "the implementation plan (\"## Task 1: Title\" headings with Description, Acceptance criteria, Effort "
                + "and Depends on lines, or a Kiro-style checklist). A reviewer approves them or answers with zed.command.revise_specs."
        )
        return paragraphs
    }

    /// What the session is to do, as paragraphs: its implementation task, or its own name and description.
    private static func work(of session: WorkSession, task: ImplementationTask?, specTask: SpecTask) -> [String] {
        var paragraphs: [String] = []
        if let task {
            paragraphs.append("Implement task \(task.index) of the plan for \"\(specTask.name)\": \(task.title).")
            // A free-form plan's only task is described by the whole plan, which repeats its title line.
            if !task.description.isEmpty, task.description != task.title {
                paragraphs.append(task.description)
            }
            if !task.acceptanceCriteria.isEmpty {
                paragraphs.append("Acceptance criteria: \(task.acceptanceCriteria)")
            }
            if !task.checklist.isEmpty {
                let items = task.checklist.map { "- \($0.number) \($0.title)\($0.state == .done ? " (done)" : "")" }
                paragraphs.append((["Checklist:"] + items).joined(separator: "\n"))
            }
        } else {
            paragraphs.append("Work on \"\(session.name)\" for \"\(specTask.name)\".")
            if !session.description.isEmpty { paragraphs.append(session.description) }
        }
        return paragraphs
    }
}
