/// The status of a Zed thread, the editor-side twin of a work session.
public enum ZedThreadStatus: String, LifecycleStatus {
    case pending
    case active
    /// The runner stopped reporting (heartbeat timeout); a later report recovers the thread.
    case disconnected
    case completed
    case failed

    public static let entityKind = EntityKind.zedThread

    public static let transitions: [ZedThreadStatus: Set<ZedThreadStatus>] = [
        // A thread may finish before its "active" report arrives, so pending can complete directly.
        .pending: [.active, .failed, .completed],
        .active: [.disconnected, .completed, .failed],
        .disconnected: [.active, .failed],
        .completed: [],
        .failed: [],
    ]
}
