/// A task as it is being read from the plan, before numbering and dependencies are resolved.
struct TaskDraft {
    /// The number written in the plan; `nil` for an unnumbered Kiro item.
    var number: Int?
    /// The line the task starts on.
    var line: Int
    var title: Substring
    var descriptionLines: [Substring] = []
    var acceptanceCriteriaLines: [Substring] = []
    var effort: Effort?
    /// Plan numbers, as written in `Depends on:`.
    var dependsOnNumbers: [Int] = []
    var parallel = false
    var checklist: [ChecklistItem] = []
    var requirements: [String] = []

    init(number: Int?, line: Int, title: Substring) {
        self.number = number
        self.line = line
        self.title = title
    }

    /// Adds a sub-task; an unnumbered one is numbered after its task, e.g. "2.3".
    mutating func appendChecklistItem(_ checkbox: PlanCheckbox, taskNumber: Int) {
        let number = checkbox.number.map(String.init) ?? "\(taskNumber).\(checklist.count + 1)"
        checklist.append(ChecklistItem(number: number, title: String(checkbox.title), state: checkbox.state))
    }

    /// Adds a detail line or requirement references to the last sub-task.
    mutating func appendToLastChecklistItem(_ line: PlanLine) {
        guard !checklist.isEmpty else { return }
        if let requirements = line.requirements {
            checklist[checklist.count - 1].requirements += requirements
        } else {
            let detail = line.isCode ? line.text : (line.bulletText ?? line.content)
            checklist[checklist.count - 1].details.append(String(detail))
        }
    }

    /// The finished task at its position in the plan; dependencies are filled in by the caller.
    func parsedTask(index: Int) -> ParsedTask {
        ParsedTask(
            index: index,
            title: title.isEmpty ? "Task \(number ?? index)" : String(title),
            description: Self.joined(descriptionLines),
            acceptanceCriteria: Self.joined(acceptanceCriteriaLines),
            effort: effort,
            parallel: parallel,
            checklist: checklist,
            requirements: requirements
        )
    }

    /// Lines joined with newlines, without blank lines at either end.
    private static func joined(_ lines: [Substring]) -> String {
        let first = lines.firstIndex(where: { !$0.allSatisfy(\.isWhitespace) }) ?? lines.endIndex
        let last = lines.lastIndex(where: { !$0.allSatisfy(\.isWhitespace) }) ?? first
        guard first < lines.endIndex else { return "" }
        return lines[first...last].joined(separator: "\n")
    }
}
