/// The size a plan gives an implementation task.
public enum Effort: String, Sendable, Hashable, Codable, CaseIterable {
    case small
    case medium
    case large
}
