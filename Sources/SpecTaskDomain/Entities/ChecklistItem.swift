/// One sub-task of an implementation task, e.g. `- [x] 2.2 Remove N+1 queries` in a Kiro plan.
public struct ChecklistItem: Sendable, Hashable, Codable {
    /// Whether the item is done, as written in the plan or reported later.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// `[ ]`
        case pending
        /// `[~]`
        case inProgress = "in_progress"
        /// `[x]` or `[X]`
        case done
    }

    /// The number as written, e.g. "1.1"; derived from the position when the plan has none.
    public var number: String
    public var title: String
    public var state: State
    /// Requirement references from `_Requirements: 1.1, 2.3_`.
    public var requirements: [String]
    /// Detail bullets written under the item.
    public var details: [String]

    /// Creates a checklist item.
    public init(
        number: String,
        title: String,
        state: State = .pending,
        requirements: [String] = [],
        details: [String] = []
    ) {
        self.number = number
        self.title = title
        self.state = state
        self.requirements = requirements
        self.details = details
    }
}
