/// One task read from an implementation plan, before it is stored as an ``ImplementationTask``.
public struct ParsedTask: Sendable, Hashable, Codable {
    /// Position in the plan, 1...n, whatever numbers the plan itself used.
    public var index: Int
    public var title: String
    public var description: String
    public var acceptanceCriteria: String
    public var effort: Effort?
    /// Indexes (not plan numbers) of the tasks this one depends on, in the order written.
    public var dependsOn: [Int]
    /// Marked `(P)` in a Kiro plan. Recorded only; it adds no dependencies.
    public var parallel: Bool
    /// Sub-tasks of a Kiro major task (or checkboxes under a heading task).
    public var checklist: [ChecklistItem]
    /// `_Requirements: …_` references written directly under the task.
    public var requirements: [String]

    /// Creates a parsed task.
    public init(
        index: Int,
        title: String,
        description: String = "",
        acceptanceCriteria: String = "",
        effort: Effort? = nil,
        dependsOn: [Int] = [],
        parallel: Bool = false,
        checklist: [ChecklistItem] = [],
        requirements: [String] = []
    ) {
        self.index = index
        self.title = title
        self.description = description
        self.acceptanceCriteria = acceptanceCriteria
        self.effort = effort
        self.dependsOn = dependsOn
        self.parallel = parallel
        self.checklist = checklist
        self.requirements = requirements
    }
}
