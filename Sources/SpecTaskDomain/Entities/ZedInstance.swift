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
    /// What the last heartbeat said about the runner's machine.
    public var resources: ResourceUsage?
    /// The last error the runner reported (or the heartbeat timeout), kept after a recovery for the record.
    public var lastError: String?
    /// When the instance was created (the time of the command that created it); a pending instance whose runner
    /// has not reported it ready within `SPECTASK_INSTANCE_READY_TIMEOUT` of it fails. `nil` for instances stored
    /// before it was recorded: those are never timed out while pending.
    public var createdAt: Date?
    /// The workspace configuration the instance was opened with, given again to an instance that replaces it.
    public var workspaceConfig: JSONValue?

    /// Creates a Zed instance.
    public init(
        id: String,
        specTaskID: String,
        status: ZedInstanceStatus = .pending,
        lastHeartbeatAt: Date? = nil,
        resources: ResourceUsage? = nil,
        lastError: String? = nil,
        createdAt: Date? = nil,
        workspaceConfig: JSONValue? = nil
    ) {
        self.id = id
        self.specTaskID = specTaskID
        self.status = status
        self.lastHeartbeatAt = lastHeartbeatAt
        self.resources = resources
        self.lastError = lastError
        self.createdAt = createdAt
        self.workspaceConfig = workspaceConfig
    }
}
