/// Reads the headings family: `## Task N: Title` (or `## N. Title`, `**Task N: Title**`) and,
/// in plans with no such heading, top-level `N. Title` lines.
///
/// A task's body runs until the next task or a heading that is not deeper than the task's own.
/// In the body, `Description:`, `Acceptance criteria:`, `Effort:` and `Depends on:` are fields;
/// a description or acceptance criteria continues on the following non-blank lines; other text
/// joins the description; checkbox items become the task's checklist.
struct HeadingPlanReader {
    /// Which lines start a task.
    enum Style {
        /// Headings and `Task N:` lines; numbered lines are body text.
        case headings
        /// Top-level `N. Title` lines.
        case numbered
    }

    private let style: Style
    private var drafts: [TaskDraft] = []
    private var current: TaskDraft?
    /// The heading level of the current task; `nil` when it started on a plain line.
    private var currentHeadingLevel: Int?
    /// The field that non-field lines continue, until a blank line or another field.
    private var openField: PlanField?
    /// The indentation of the last checkbox item while deeper lines may still belong to it.
    private var checklistItemIndent: Int?

    /// Reads all tasks of a plan.
    ///
    /// - Throws: ``PlanError`` for an unknown effort or an unreadable dependency.
    static func read(_ lines: [PlanLine], style: Style) throws(PlanError) -> [TaskDraft] {
        var reader = HeadingPlanReader(style: style)
        for line in lines {
            try reader.consume(line)
        }
        reader.finishTask()
        return reader.drafts
    }

    private init(style: Style) {
        self.style = style
    }

    private mutating func consume(_ line: PlanLine) throws(PlanError) {
        if line.isCode {
            // Code belongs to whatever text it sits in; kept verbatim, indentation included.
            if let itemIndent = checklistItemIndent, let codeIndent = line.codeBlockIndent, codeIndent > itemIndent {
                current?.appendToLastChecklistItem(line)
            } else {
                appendText(line.text)
            }
            return
        }
        if line.isBlank {
            if openField == .description { current?.descriptionLines.append("") }
            openField = nil
            return
        }
        if let task = style == .headings ? line.headingTask : line.numberedItem {
            finishTask()
            current = TaskDraft(number: task.number, line: line.number, title: task.title)
            currentHeadingLevel = line.heading?.level
            return
        }
        if let heading = line.heading {
            if let level = currentHeadingLevel, heading.level > level {
                appendText(line.content)  // a sub-heading inside the task's body
            } else {
                finishTask()  // "## Notes" after the last task is not part of it
            }
            return
        }
        guard current != nil else { return }  // text before the first task
        try consumeBodyLine(line)
    }

    private mutating func consumeBodyLine(_ line: PlanLine) throws(PlanError) {
        let taskNumber = current!.number ?? drafts.count + 1
        if let checkbox = line.checkbox {
            current!.appendChecklistItem(checkbox, taskNumber: taskNumber)
            checklistItemIndent = line.indent
            openField = nil
            return
        }
        if let itemIndent = checklistItemIndent, line.indent > itemIndent {
            current!.appendToLastChecklistItem(line)
            return
        }
        checklistItemIndent = nil
        if let requirements = line.requirements {
            current!.requirements += requirements
            openField = nil
            return
        }
        guard let (field, value) = line.field else {
            appendText(line.content)
            return
        }
        switch field {
        case .description, .acceptanceCriteria:
            openField = field
            if !value.isEmpty { appendText(value) }
        case .effort:
            openField = nil
            current!.effort = try Self.effort(value, taskNumber: taskNumber, line: line.number)
        case .dependsOn:
            openField = nil
            current!.dependsOnNumbers += try Self.dependencies(value, taskNumber: taskNumber, line: line.number)
        }
    }

    /// Adds text to the open field; text outside any field is description.
    private mutating func appendText(_ text: Substring) {
        guard current != nil else { return }
        if openField == .acceptanceCriteria {
            current!.acceptanceCriteriaLines.append(text)
        } else {
            current!.descriptionLines.append(text)
            openField = .description
        }
    }

    private mutating func finishTask() {
        if let current { drafts.append(current) }
        current = nil
        currentHeadingLevel = nil
        openField = nil
        checklistItemIndent = nil
    }

    // MARK: - Field values

    /// Reads `small`, `medium` or `large` in any case; an empty value means no effort was given.
    static func effort(_ value: Substring, taskNumber: Int, line: Int) throws(PlanError) -> Effort? {
        let word = value.trimming(["*", "_", "`", "."]).trimmed()
        if word.isEmpty { return nil }
        if word.count <= 6, let effort = Effort(rawValue: word.lowercased()) { return effort }
        throw PlanError(
            code: .invalidEffort,
            message: "task \(taskNumber) has effort \(quoted(word)); effort must be small, medium or large",
            taskNumbers: [taskNumber],
            line: line
        )
    }

    /// Reads "1, 3", "Task 1, Task 3", "#1 and #3", "1-3", "none".
    static func dependencies(_ value: Substring, taskNumber: Int, line: Int) throws(PlanError) -> [Int] {
        let text = value.trimming(["*", "_", ".", "`"]).trimmed()
        let lowercased = text.count <= 8 ? text.lowercased() : ""
        if text.isEmpty || ["none", "n/a", "na", "-", "—", "nothing"].contains(lowercased) { return [] }

        var numbers: [Int] = []
        for piece in text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "&" }) {
            // "1 and 3" is two references.
            var references: [[Substring]] = [[]]
            for word in piece.split(whereSeparator: \.isWhitespace) {
                if word.count == 3, word.lowercased() == "and" {
                    references.append([])
                } else {
                    references[references.count - 1].append(word)
                }
            }
            for words in references where !words.isEmpty {
                guard let referenced = taskNumbers(in: words) else {
                    throw PlanError(
                        code: .invalidDependency,
                        message: "task \(taskNumber) depends on \(quoted(words.joined(separator: " "))), "
                            + "which is not a task number; write \"Depends on: 1, 3\" or \"Depends on: none\"",
                        taskNumbers: [taskNumber],
                        line: line
                    )
                }
                numbers += referenced
            }
        }
        return numbers
    }

    /// The numbers one reference names: "Task 3" → [3], "#3 (schema)" → [3], "1-3" → [1, 2, 3];
    /// `nil` when it does not start with a number or is a backwards or huge range.
    private static func taskNumbers(in words: [Substring]) -> [Int]? {
        var words = words[...]
        if let first = words.first, first.count <= 5, ["task", "tasks"].contains(first.lowercased()) {
            words = words.dropFirst()
        }
        let reference = Substring(words.joined(separator: " ")).drop(while: { $0 == "#" })
        guard let first = reference.leadingInteger else { return nil }
        let afterFirst = reference.splitLeadingDigits().rest.trimmedLeading()
        guard let dash = afterFirst.first, dash == "-" || dash == "–",
            let last = afterFirst.dropFirst().trimmedLeading().drop(while: { $0 == "#" }).leadingInteger
        else {
            return [first]  // "3 (schema)" or "3 - schema": the words after the number are a label
        }
        // A plan never needs a range this long; refusing it keeps hostile input cheap.
        guard first <= last, last - first < 1_000 else { return nil }
        return Array(first...last)
    }

    /// A value quoted for a message, shortened so a hostile line cannot flood a log.
    private static func quoted(_ text: some StringProtocol) -> String {
        text.count <= 40 ? "\"\(text)\"" : "\"\(text.prefix(40))…\""
    }
}
