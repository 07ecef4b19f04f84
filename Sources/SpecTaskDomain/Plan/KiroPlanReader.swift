/// Reads Kiro-style `tasks.md`: a checkbox list of major tasks with nested sub-tasks.
///
/// ```
/// - [ ] 2. Optimise database access (P)
///   - [ ] 2.1 Add composite index
///     - _Requirements: 2.1_
///   - [x] 2.2 Remove N+1 queries
/// ```
/// The indentation of the first checkbox is the major level. A checkbox at that level starts a
/// major task (one ``ParsedTask``); deeper checkboxes, and `N.M` items at the major level, are its
/// checklist. Other lines deeper than the last sub-task belong to the sub-task, otherwise to the
/// major task: `_Requirements: …_` lines become references, bullets and text description or
/// detail lines. Kiro plans state no dependencies, so none are invented; `(P)` is only recorded.
struct KiroPlanReader {
    private var drafts: [TaskDraft] = []
    private var current: TaskDraft?
    private var majorIndent: Int?
    private var checklistItemIndent: Int?

    /// Reads all major tasks of a Kiro plan.
    static func read(_ lines: [PlanLine]) -> [TaskDraft] {
        var reader = KiroPlanReader()
        for line in lines {
            reader.consume(line)
        }
        reader.finishTask()
        return reader.drafts
    }

    private mutating func consume(_ line: PlanLine) {
        if line.isBlank && !line.isCode { return }
        if line.heading != nil {
            // A section heading ends the task, so text under it is not mistaken for details.
            finishTask()
            return
        }
        if let checkbox = line.checkbox {
            consumeCheckbox(checkbox, line: line)
            return
        }
        guard current != nil else { return }
        let indent = line.codeBlockIndent ?? line.indent
        // Top-level text between tasks is commentary, not part of a task.
        guard let majorIndent, indent > majorIndent else { return }
        if let itemIndent = checklistItemIndent, indent > itemIndent {
            current!.appendToLastChecklistItem(line)
            return
        }
        checklistItemIndent = nil
        if let requirements = line.requirements {
            current!.requirements += requirements
        } else {
            current!.descriptionLines.append(line.isCode ? line.text : (line.bulletText ?? line.content))
        }
    }

    private mutating func consumeCheckbox(_ checkbox: PlanCheckbox, line: PlanLine) {
        let majorIndent = self.majorIndent ?? line.indent
        self.majorIndent = majorIndent
        let isSubTaskNumber = checkbox.numberParts.count > 1
        if line.indent > majorIndent || (isSubTaskNumber && current != nil) {
            guard current != nil else { return }  // a sub-task after a section heading has no task
            current!.appendChecklistItem(checkbox, taskNumber: current!.number ?? drafts.count + 1)
            checklistItemIndent = line.indent
            return
        }
        finishTask()
        let number = isSubTaskNumber ? nil : checkbox.numberParts.first.flatMap { $0.leadingInteger }
        let (title, parallel) = Self.withoutParallelMarker(checkbox.title)
        var draft = TaskDraft(number: number, line: line.number, title: title)
        draft.parallel = parallel
        current = draft
    }

    private mutating func finishTask() {
        if let current { drafts.append(current) }
        current = nil
        checklistItemIndent = nil
    }

    /// Strips a `(P)` marker written after (Kiro) or before (cc-sdd) the title.
    static func withoutParallelMarker(_ title: Substring) -> (title: Substring, parallel: Bool) {
        let title = title.trimmed()
        if title.hasSuffix("(P)") || title.hasSuffix("(p)") {
            return (title.dropLast(3).trimmed(), true)
        }
        if title.hasPrefix("(P)") || title.hasPrefix("(p)") {
            return (title.dropFirst(3).trimmed(), true)
        }
        return (title, false)
    }
}
