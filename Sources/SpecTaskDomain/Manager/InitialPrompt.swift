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
