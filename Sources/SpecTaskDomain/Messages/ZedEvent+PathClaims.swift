// The Zed events and command of path claims: a thread claims the paths it is about to change, the manager
// answers with `claim_result`, and the thread releases them when it is done (or they are released for it when
// its session, thread or instance ends).

/// A thread is about to change these paths or globs (``ClaimPattern`` says how they read) and asks for them.
public struct ZedPathsClaimed: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    /// Chosen by the runner, to match the `claim_result` and to release the claim; sending the same claim again
    /// (same id, same paths) only asks for the answer again.
    public var claimID: String
    public var paths: [String]
    /// What the thread means to do with them, for people reading the log.
    public var reason: String?

    public init(instanceID: String, workSessionID: String, claimID: String, paths: [String], reason: String? = nil) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.claimID = claimID
        self.paths = paths
        self.reason = reason
    }
}

/// A thread is done with claims of its own (granted or still waiting); without `claimIDs`, with all of them.
/// Claims already released (or never made) are skipped, so a release can be sent again safely.
public struct ZedPathsReleased: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    public var claimIDs: [String]?

    public init(instanceID: String, workSessionID: String, claimIDs: [String]? = nil) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.claimIDs = claimIDs
    }
}

/// The manager's answer to a claim, to the claiming thread: `granted`, `waiting` (with the holders in the way;
/// a second `claim_result` says `granted` once they released) or `refused` (waiting would deadlock).
public struct ClaimResult: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var workSessionID: String
    public var threadID: String
    public var claimID: String
    /// The claim's paths in normal form.
    public var paths: [String]
    public var result: PathClaimStatus
    /// The other sessions' claims in the way (none when granted).
    public var conflicts: [PathClaimConflict]
    public var reason: String

    public init(
        instanceID: String,
        specTaskID: String,
        workSessionID: String,
        threadID: String,
        claimID: String,
        paths: [String],
        result: PathClaimStatus,
        conflicts: [PathClaimConflict],
        reason: String
    ) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.claimID = claimID
        self.paths = paths
        self.result = result
        self.conflicts = conflicts
        self.reason = reason
    }
}

/// A path claim was made, granted, released or refused: on `spectask.status` with the claim as it is now and,
/// when it waits or is refused, the claims in its way.
public struct PathClaimChange: Sendable, Hashable, Codable {
    public var from: PathClaimStatus?
    public var to: PathClaimStatus
    public var reason: String?
    public var pathClaim: PathClaim
    public var conflicts: [PathClaimConflict]

    public init(
        from: PathClaimStatus? = nil,
        to: PathClaimStatus,
        reason: String? = nil,
        pathClaim: PathClaim,
        conflicts: [PathClaimConflict] = []
    ) {
        self.from = from
        self.to = to
        self.reason = reason
        self.pathClaim = pathClaim
        self.conflicts = conflicts
    }
}
