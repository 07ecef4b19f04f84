/// Progress of one implementation task.
public struct ImplementationTaskProgress: Sendable, Hashable, Codable {
    public var index: Int
    public var title: String
    public var status: ImplementationTaskStatus
    public var percent: Int
    /// Checklist items marked done.
    public var checklistDone: Int
    /// All checklist items.
    public var checklistTotal: Int
    /// The work session responsible for the task, if any.
    public var workSessionID: String?

    /// Creates the progress of one implementation task.
    public init(
        index: Int,
        title: String,
        status: ImplementationTaskStatus,
        percent: Int,
        checklistDone: Int,
        checklistTotal: Int,
        workSessionID: String?
    ) {
        self.index = index
        self.title = title
        self.status = status
        self.percent = percent
        self.checklistDone = checklistDone
        self.checklistTotal = checklistTotal
        self.workSessionID = workSessionID
    }
}
