/// What a coordination message between work sessions is for.
public enum CoordinationKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Work passed on to another session.
    case handoff
    /// The sender cannot continue until the recipient acts.
    case blocking
    case notification
    case request
    case response
    /// To every session of the spec task.
    case broadcast
}
