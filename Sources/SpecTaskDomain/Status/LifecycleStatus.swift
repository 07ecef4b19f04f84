/// A status whose legal changes are listed as data in ``transitions``.
///
/// Keeping the table as a value (rather than `if`s spread over the worker) means an illegal
/// transition is something a test can enumerate, and a rejection can say what was allowed.
/// A status never transitions to itself: whether a repeated status report is a harmless
/// duplicate is for the caller to decide, not the table.
public protocol LifecycleStatus: RawRepresentable, CaseIterable, Hashable, Sendable, Codable,
    CodingKeyRepresentable
where RawValue == String {
    /// The entity this status belongs to, used in error messages.
    static var entityKind: EntityKind { get }

    /// Every status mapped to the statuses it may change to. Terminal statuses map to an empty set.
    static var transitions: [Self: Set<Self>] { get }
}

extension LifecycleStatus {
    /// The statuses this status may change to.
    public var allowedTransitions: Set<Self> {
        Self.transitions[self] ?? []
    }

    /// Whether the lifecycle has ended: no transition leaves this status.
    public var isTerminal: Bool {
        allowedTransitions.isEmpty
    }

    /// Whether changing from this status to `next` is allowed by the transition table.
    ///
    /// - Parameter next: The status to change to.
    /// - Returns: `true` when `next` is listed for this status in ``transitions``.
    public func canTransition(to next: Self) -> Bool {
        allowedTransitions.contains(next)
    }

    /// The error describing why changing to `next` is illegal, or `nil` when it is allowed.
    ///
    /// - Parameters:
    ///   - next: The status to change to.
    ///   - entityID: The id of the entity, used in the message when given.
    /// - Returns: `nil` for a legal transition, otherwise the ``TransitionError`` to report.
    public func transitionError(to next: Self, entityID: String? = nil) -> TransitionError? {
        if canTransition(to: next) { return nil }
        return TransitionError(
            entityKind: Self.entityKind,
            entityID: entityID,
            from: rawValue,
            to: next.rawValue,
            allowed: allowedTransitions.map(\.rawValue).sorted()
        )
    }

    /// Checks a transition and returns the new status, so a change reads
    /// `session.status = try session.status.transition(to: .active, entityID: session.id)`.
    ///
    /// - Parameters:
    ///   - next: The status to change to.
    ///   - entityID: The id of the entity, used in the error message when given.
    /// - Returns: `next`, when the transition is legal.
    /// - Throws: ``TransitionError`` when the table does not allow the change.
    @discardableResult
    public func transition(to next: Self, entityID: String? = nil) throws(TransitionError) -> Self {
        if let error = transitionError(to: next, entityID: entityID) { throw error }
        return next
    }
}
