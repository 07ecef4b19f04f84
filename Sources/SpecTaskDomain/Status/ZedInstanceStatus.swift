/// The status of the one Zed instance (editor workspace) of a spec task.
public enum ZedInstanceStatus: String, LifecycleStatus {
    case pending
    case ready
    /// Heartbeats stopped; the instance may still come back.
    case disconnected
    /// The instance reported an error or stayed disconnected too long; a runner may still recover it.
    case failed
    case stopped

    public static let entityKind = EntityKind.zedInstance

    public static let transitions: [ZedInstanceStatus: Set<ZedInstanceStatus>] = [
        .pending: [.ready, .failed, .stopped],
        .ready: [.disconnected, .failed, .stopped],
        .disconnected: [.ready, .failed, .stopped],
        // A heartbeat after a timeout recovers a failed instance; only stopping is final.
        .failed: [.stopped, .ready],
        .stopped: [],
    ]
}
