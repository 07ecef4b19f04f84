/// An illegal status change, e.g. "work session ws-1 cannot go from completed to active".
///
/// Statuses are stored as their raw values so one error type serves every lifecycle and
/// can be carried as-is into a rejection event.
public struct TransitionError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The kind of entity whose status was to change.
    public var entityKind: EntityKind
    /// The entity's id, when known.
    public var entityID: String?
    /// The current status (raw value).
    public var from: String
    /// The requested status (raw value).
    public var to: String
    /// The statuses `from` may change to (raw values, sorted); empty when `from` is terminal.
    public var allowed: [String]

    /// Creates a transition error.
    public init(entityKind: EntityKind, entityID: String?, from: String, to: String, allowed: [String]) {
        self.entityKind = entityKind
        self.entityID = entityID
        self.from = from
        self.to = to
        self.allowed = allowed
    }

    /// A human-readable explanation that names the entity, both statuses and what is allowed instead.
    public var message: String {
        let subject = entityID.map { "\(entityKind.displayName) \($0)" } ?? entityKind.displayName
        let hint =
            allowed.isEmpty
            ? "\(from) is terminal"
            : "from \(from) it can go to \(allowed.joined(separator: ", "))"
        return "\(subject) cannot go from \(from) to \(to); \(hint)"
    }

    public var description: String { message }
}
