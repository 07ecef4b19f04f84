/// Progress of all work sessions in one phase.
public struct PhaseProgress: Sendable, Hashable, Codable {
    /// How many sessions are in the phase; 0 distinguishes "no work" from "no progress".
    public var sessionCount: Int
    /// The average of the sessions' percents, rounded down; 0 without sessions.
    public var percent: Int

    /// Creates the progress of one phase.
    public init(sessionCount: Int, percent: Int) {
        self.sessionCount = sessionCount
        self.percent = percent
    }
}
