#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Paths or globs a work session's Zed thread is about to change in the task's shared workspace.
///
/// All sessions of a spec task share one Zed instance and so one workspace; a claim keeps two threads from
/// editing the same files at once. The manager grants a claim when no other session holds an overlapping one
/// (``ClaimPattern`` says what overlaps), and otherwise keeps it waiting until the holders release theirs.
/// Claims live in the spec task's state, so they are decided under the task's row lock.
public struct PathClaim: Sendable, Hashable, Codable, Identifiable {
    /// Chosen by the runner; unique among the spec task's current claims.
    public var id: String
    public var specTaskID: String
    public var workSessionID: String
    public var threadID: String?
    /// The claimed paths in normal form (``ClaimPattern/text``), without duplicates, in the order claimed.
    public var paths: [String]
    /// `waiting` or `granted` while the claim is kept; `released` and `refused` appear only in announcements.
    public var status: PathClaimStatus
    /// What the thread means to do with the paths, as it said.
    public var reason: String?
    public var claimedAt: Date
    public var grantedAt: Date?

    public init(
        id: String,
        specTaskID: String,
        workSessionID: String,
        threadID: String?,
        paths: [String],
        status: PathClaimStatus,
        reason: String? = nil,
        claimedAt: Date,
        grantedAt: Date? = nil
    ) {
        self.id = id
        self.specTaskID = specTaskID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.paths = paths
        self.status = status
        self.reason = reason
        self.claimedAt = claimedAt
        self.grantedAt = grantedAt
    }
}

/// Where a path claim stands: `waiting` → `granted` → `released`, or `refused` outright.
public enum PathClaimStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Another session holds an overlapping claim; granted once it is released.
    case waiting
    /// The session may change the paths.
    case granted
    /// Given up by the thread, or because its session, thread or instance ended.
    case released
    /// Not kept: waiting would close a cycle of sessions waiting on each other (a deadlock).
    case refused
}

/// Another session's claim in the way of a claim: whose it is and which paths overlap.
public struct PathClaimConflict: Sendable, Hashable, Codable {
    /// The holder.
    public var workSessionID: String
    public var threadID: String?
    public var claimID: String
    /// The holder's paths that overlap the claim.
    public var heldPaths: [String]
    /// The claim's paths that overlap the holder's.
    public var claimedPaths: [String]

    public init(
        workSessionID: String,
        threadID: String?,
        claimID: String,
        heldPaths: [String],
        claimedPaths: [String]
    ) {
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.claimID = claimID
        self.heldPaths = heldPaths
        self.claimedPaths = claimedPaths
    }
}
