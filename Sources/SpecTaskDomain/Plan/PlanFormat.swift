/// The families of implementation plan the parser understands.
enum PlanFormat {
    /// `## Task N: Title` headings (or top-level `Task N:` lines).
    case headings
    /// Kiro-style `tasks.md` checkbox list.
    case kiro
    /// Top-level `N. Title` lines.
    case numbered
    /// Nothing recognisable: the whole plan is one task.
    case freeForm

    /// Picks the family by the strongest signal in the plan, outside code blocks.
    ///
    /// Task headings win over checkboxes (a heading task may list its steps as checkboxes), and
    /// checkboxes win over numbered lines (a Kiro task may contain a numbered list). Numbered
    /// lines are tasks only when nothing else is.
    static func detect(_ lines: [PlanLine]) -> PlanFormat {
        var hasCheckbox = false
        var hasNumberedItem = false
        for line in lines where !line.isCode && !line.isBlank {
            if line.headingTask != nil { return .headings }
            if !hasCheckbox, line.checkbox != nil { hasCheckbox = true }
            if !hasNumberedItem, line.numberedItem != nil { hasNumberedItem = true }
        }
        if hasCheckbox { return .kiro }
        if hasNumberedItem { return .numbered }
        return .freeForm
    }
}
