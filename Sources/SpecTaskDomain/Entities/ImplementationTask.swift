/// One task of the approved implementation plan; each is implemented by one work session.
///
/// Identified by ``specTaskID`` and ``index`` (1...n in plan order).
public struct ImplementationTask: Sendable, Hashable, Codable {
    public var specTaskID: String
    /// Position in the plan, 1...n.
    public var index: Int
    public var title: String
    public var description: String
    public var acceptanceCriteria: String
    public var effort: Effort?
    /// Indexes of the tasks that must be completed before this one starts.
    public var dependsOn: [Int]
    /// Marked `(P)` in a Kiro plan: may run alongside other tasks.
    public var parallel: Bool
    /// Sub-tasks; their done fraction feeds progress.
    public var checklist: [ChecklistItem]
    /// Requirement references written directly under the task.
    public var requirements: [String]
    public var status: ImplementationTaskStatus
    /// The work session currently responsible for the task.
    public var assignedWorkSessionID: String?

    /// Creates an implementation task.
    public init(
        specTaskID: String,
        index: Int,
        title: String,
        description: String = "",
        acceptanceCriteria: String = "",
        effort: Effort? = nil,
        dependsOn: [Int] = [],
        parallel: Bool = false,
        checklist: [ChecklistItem] = [],
        requirements: [String] = [],
        status: ImplementationTaskStatus = .pending,
        assignedWorkSessionID: String? = nil
    ) {
        self.specTaskID = specTaskID
        self.index = index
        self.title = title
        self.description = description
        self.acceptanceCriteria = acceptanceCriteria
        self.effort = effort
        self.dependsOn = dependsOn
        self.parallel = parallel
        self.checklist = checklist
        self.requirements = requirements
        self.status = status
        self.assignedWorkSessionID = assignedWorkSessionID
    }
}
