#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one Zed editor workspace of a spec task, shared by all its work sessions.
public struct ZedInstance: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var specTaskID: String
    public var status: ZedInstanceStatus
    /// When the runner last reported; drives the heartbeat timeout.
    public var lastHeartbeatAt: Date?

    /// Creates a Zed instance.
    public init(id: String, specTaskID: String, status: ZedInstanceStatus = .pending, lastHeartbeatAt: Date? = nil) {
        self.id = id
        self.specTaskID = specTaskID
        self.status = status
        self.lastHeartbeatAt = lastHeartbeatAt
    }
}
