/// The kinds of entity that have a status lifecycle.
///
/// Used to name the entity in a ``TransitionError`` so a rejection reads like
/// "work session ws-1 cannot go from completed to active".
public enum EntityKind: String, Sendable, Hashable, Codable, CaseIterable {
    case specTask = "spec_task"
    case workSession = "work_session"
    case zedThread = "zed_thread"
    case implementationTask = "implementation_task"
    case zedInstance = "zed_instance"

    /// The name used in human-readable messages, e.g. "work session".
    public var displayName: String {
        switch self {
        case .specTask: "spec task"
        case .workSession: "work session"
        case .zedThread: "Zed thread"
        case .implementationTask: "implementation task"
        case .zedInstance: "Zed instance"
        }
    }
}
