#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The thread in the spec task's Zed instance that runs one work session.
public struct ZedThread: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var workSessionID: String
    public var specTaskID: String
    /// The id Zed itself gave the thread, known once the runner reports it.
    public var zedThreadExternalID: String?
    public var status: ZedThreadStatus
    public var lastActivityAt: Date?
    /// The sums of the thread's activity events; `nil` until the first one.
    public var usage: Usage?

    /// Creates a Zed thread.
    public init(
        id: String,
        workSessionID: String,
        specTaskID: String,
        zedThreadExternalID: String? = nil,
        status: ZedThreadStatus = .pending,
        lastActivityAt: Date? = nil,
        usage: Usage? = nil
    ) {
        self.id = id
        self.workSessionID = workSessionID
        self.specTaskID = specTaskID
        self.zedThreadExternalID = zedThreadExternalID
        self.status = status
        self.lastActivityAt = lastActivityAt
        self.usage = usage
    }
}
