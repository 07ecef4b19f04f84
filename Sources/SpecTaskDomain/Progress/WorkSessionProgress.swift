/// Progress of one work session.
public struct WorkSessionProgress: Sendable, Hashable, Codable {
    public var workSessionID: String
    public var status: WorkSessionStatus
    public var phase: WorkSessionPhase
    public var implementationTaskIndex: Int?
    public var percent: Int
    /// The sums of its thread's activity events.
    public var usage: Usage

    /// Creates the progress of one work session.
    public init(
        workSessionID: String,
        status: WorkSessionStatus,
        phase: WorkSessionPhase,
        implementationTaskIndex: Int?,
        percent: Int,
        usage: Usage = .zero
    ) {
        self.workSessionID = workSessionID
        self.status = status
        self.phase = phase
        self.implementationTaskIndex = implementationTaskIndex
        self.percent = percent
        self.usage = usage
    }
}
