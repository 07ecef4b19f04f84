/// The status of an implementation task parsed from the plan, driven by its work session.
public enum ImplementationTaskStatus: String, LifecycleStatus {
    case pending
    case assigned
    case inProgress = "in_progress"
    case completed
    case blocked

    public static let entityKind = EntityKind.implementationTask

    /// Going back to `pending` is how a failed session's task is released for a retry, and how a reviewer reopens a
    /// completed one (`request_implementation_changes`).
    public static let transitions: [ImplementationTaskStatus: Set<ImplementationTaskStatus>] = [
        .pending: [.assigned, .blocked],
        .assigned: [.inProgress, .completed, .blocked, .pending],
        .inProgress: [.completed, .blocked, .pending],
        .blocked: [.pending, .assigned, .inProgress],
        .completed: [.pending],
    ]
}
