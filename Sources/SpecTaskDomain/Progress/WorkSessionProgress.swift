/// Progress of one work session.
public struct WorkSessionProgress: Sendable, Hashable, Codable {
    public var workSessionID: String
    public var status: WorkSessionStatus
    public var phase: WorkSessionPhase
    public var implementationTaskIndex: Int?
    public var percent: Int

    /// Creates the progress of one work session.
    public init(
        workSessionID: String,
        status: WorkSessionStatus,
        phase: WorkSessionPhase,
        implementationTaskIndex: Int?,
        percent: Int
    ) {
        self.workSessionID = workSessionID
        self.status = status
        self.phase = phase
        self.implementationTaskIndex = implementationTaskIndex
        self.percent = percent
    }
}
