/// The status of one work session (one unit of agent work, mapped 1:1 to a Zed thread).
public enum WorkSessionStatus: String, LifecycleStatus {
    case pending
    case active
    case completed
    case failed
    case cancelled
    /// Waiting on something outside the session, e.g. an unfinished dependency or a lost Zed instance.
    case blocked

    public static let entityKind = EntityKind.workSession

    public static let transitions: [WorkSessionStatus: Set<WorkSessionStatus>] = [
        .pending: [.active, .cancelled, .blocked],
        .active: [.completed, .failed, .cancelled, .blocked],
        // A blocked session resumes, goes back to the queue, or gives up.
        .blocked: [.active, .pending, .failed, .cancelled],
        .completed: [],
        .failed: [],
        .cancelled: [],
    ]
}
