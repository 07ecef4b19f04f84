/// Turns the implementation plan written by a planning agent into implementation tasks.
///
/// Two families are understood (samples in `reference/plans/`):
/// - **Headings**: `## Task N: Title` (also `## N. Title`, `### Task N - Title`, `**Task N: Title**`,
///   or, when there are no such headings, top-level `N. Title` lines), each followed by optional
///   `Description:`, `Acceptance criteria:`, `Effort:` and `Depends on:` lines.
/// - **Kiro** `tasks.md`: `- [ ] 1. Major task` with nested `- [ ] 1.1 Sub-task` items, detail
///   bullets, `_Requirements: 1.1_` lines and `(P)` markers. A major task is one task; its
///   sub-tasks are its checklist.
///
/// Anything inside a fenced code block is text. A plan with no recognisable task is a single task
/// (the simple workflow) titled by its first line.
public enum ImplementationPlanParser {
    /// Parses a plan.
    ///
    /// Tasks are indexed 1...n in plan order whatever numbers the plan uses; `Depends on:` refers
    /// to the numbers as written and is translated to indexes.
    ///
    /// - Parameter markdown: The plan; any line ending (LF, CRLF, CR) works.
    /// - Returns: At least one task.
    /// - Throws: ``PlanError`` when the plan is empty, uses a task number twice, depends on a
    ///   missing task, on itself or in a cycle, or has an effort other than small/medium/large.
    public static func parse(_ markdown: String) throws(PlanError) -> [ParsedTask] {
        let lines = PlanLine.lines(of: markdown)
        guard lines.contains(where: { !$0.isBlank }) else {
            throw PlanError(code: .emptyPlan, message: "the implementation plan is empty; write at least one task")
        }
        let drafts: [TaskDraft]
        switch PlanFormat.detect(lines) {
        case .headings: drafts = try HeadingPlanReader.read(lines, style: .headings)
        case .numbered: drafts = try HeadingPlanReader.read(lines, style: .numbered)
        case .kiro: drafts = KiroPlanReader.read(lines)
        case .freeForm: return [freeFormTask(lines)]
        }
        return try resolve(drafts)
    }

    // MARK: - Simple workflow

    /// The whole plan as one task, titled by its first line without heading markers.
    ///
    /// - Precondition: The plan has a non-blank line.
    private static func freeFormTask(_ lines: [PlanLine]) -> ParsedTask {
        let titles = lines.lazy.map { $0.content.drop(while: { $0 == "#" }).trimmed() }
        // Prefer prose over code; a plan of nothing but "#" is titled "#".
        let title =
            zip(lines, titles).first { line, title in !line.isCode && !title.isEmpty }?.1
            ?? titles.first { !$0.isEmpty }
            ?? lines.first { !$0.isBlank }!.content
        let text = lines.map(\.text).joined(separator: "\n")
        return ParsedTask(index: 1, title: String(title), description: String(Substring(text).trimmed()))
    }

    // MARK: - Numbering and dependencies

    /// Indexes the drafts 1...n and translates plan numbers in dependencies to indexes.
    private static func resolve(_ drafts: [TaskDraft]) throws(PlanError) -> [ParsedTask] {
        var indexByNumber: [Int: Int] = [:]
        for (offset, draft) in drafts.enumerated() {
            guard let number = draft.number else { continue }
            if let earlier = indexByNumber[number] {
                throw PlanError(
                    code: .duplicateTaskNumber,
                    message: "task number \(number) is used twice (lines \(drafts[earlier - 1].line) and "
                        + "\(draft.line)); give every task its own number",
                    taskNumbers: [number],
                    line: draft.line
                )
            }
            indexByNumber[number] = offset + 1
        }

        var tasks: [ParsedTask] = []
        tasks.reserveCapacity(drafts.count)
        for (offset, draft) in drafts.enumerated() {
            var task = draft.parsedTask(index: offset + 1)
            let number = draft.number ?? task.index
            for dependency in draft.dependsOnNumbers {
                if dependency == number {
                    throw PlanError(
                        code: .selfDependency,
                        message: "task \(number) depends on itself; remove \(number) from its \"Depends on\" line",
                        taskNumbers: [number],
                        line: draft.line
                    )
                }
                guard let dependencyIndex = indexByNumber[dependency] else {
                    throw PlanError(
                        code: .missingDependency,
                        message: "task \(number) depends on task \(dependency), which is not in the plan; "
                            + "fix its \"Depends on\" line",
                        taskNumbers: [number, dependency],
                        line: draft.line
                    )
                }
                if !task.dependsOn.contains(dependencyIndex) { task.dependsOn.append(dependencyIndex) }
            }
            tasks.append(task)
        }

        if let cycle = DependencyGraph.cycle(in: tasks) {
            let numbers = cycle.map { drafts[$0 - 1].number ?? $0 }
            throw PlanError(
                code: .dependencyCycle,
                message: "dependency cycle between tasks \(numbers.map(String.init).joined(separator: " → ")); "
                    + "remove one of these dependencies",
                taskNumbers: Array(numbers.dropLast()),
                line: drafts[cycle[0] - 1].line
            )
        }
        return tasks
    }
}
