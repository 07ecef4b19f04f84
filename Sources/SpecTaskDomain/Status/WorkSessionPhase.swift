/// What kind of work a work session does.
public enum WorkSessionPhase: String, Sendable, Hashable, Codable, CaseIterable, CodingKeyRepresentable {
    case planning
    case implementation
    case validation
}
