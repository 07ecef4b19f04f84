import Foundation
import SpecTaskDomain
import Testing

/// paths_claimed / paths_released: threads of one spec task share a workspace, so each claims the paths it is
/// about to change; the manager grants or keeps the claim waiting while another session holds overlapping paths,
/// and releases claims when their session, thread or instance ends.
@Suite("SpecTaskManager: path claims in the shared workspace")
struct ManagerPathClaimTests {
    private static let instanceID = ZedRun.instanceID
    private static func session(_ task: Int) -> String { ZedRun.session(task) }
    private static func thread(_ task: Int) -> String { ZedRun.thread(task) }

    /// Three independent tasks: three sessions run at once, each with an active thread.
    private static func team() throws -> ZedRun {
        var run = try ZedRun.implementing(plan: "## Task 1: Schema\n\n## Task 2: API\n\n## Task 3: UI\n")
        try run.ready()
        for task in 1...3 { try run.threadCreated(session(task), externalID: "zed-\(task)") }
        #expect(run.state.zedThreads.map(\.status) == [.active, .active, .active])
        return run
    }

    private static func claim(
        _ task: Int,
        _ id: String,
        _ paths: [String],
        instanceID: String = instanceID,
        session: String? = nil
    ) -> ZedEvent {
        .pathsClaimed(
            ZedPathsClaimed(
                instanceID: instanceID,
                workSessionID: session ?? Self.session(task),
                claimID: id,
                paths: paths,
                reason: "task \(task) edits them"
            )
        )
    }

    private static func release(_ task: Int, _ ids: [String]? = nil) -> ZedEvent {
        .pathsReleased(ZedPathsReleased(instanceID: instanceID, workSessionID: session(task), claimIDs: ids))
    }

    /// "<claim>:<from>→<to>" of every path claim change.
    private static func moves(_ emissions: [Emission]) -> [String] {
        emissions.claimChanges.map { "\($0.pathClaim.id):\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" }
    }

    // MARK: - Granted, waiting, granted after the holder ends

    @Test("a claim nobody else holds is granted at once: announced, answered, kept")
    func grantedAtOnce() throws {
        var run = try Self.team()
        let emissions = try run.send(Self.claim(1, "c1", ["./Sources/Schema/", "Sources/Schema/**", "Package.swift"]))

        #expect(Self.moves(emissions) == ["c1:nil→granted"])
        let claim = try #require(run.state.pathClaims.first)
        #expect(run.state.pathClaims.count == 1)
        #expect(claim.paths == ["Sources/Schema", "Sources/Schema/**", "Package.swift"], "normal form, in order")
        #expect(claim.status == .granted && claim.grantedAt == run.now && claim.claimedAt == run.now)
        #expect(claim.workSessionID == Self.session(1) && claim.threadID == Self.thread(1))
        #expect(claim.reason == "task 1 edits them")
        #expect(
            emissions.claimResults == [
                ClaimResult(
                    instanceID: Self.instanceID,
                    specTaskID: "st-1",
                    workSessionID: Self.session(1),
                    threadID: Self.thread(1),
                    claimID: "c1",
                    paths: claim.paths,
                    result: .granted,
                    conflicts: [],
                    reason: "granted"
                )
            ]
        )
        #expect(emissions.coordinationLog.isEmpty)

        // Another session's claim elsewhere, and the holder's own overlapping claim, are granted as well.
        #expect(
            Self.moves(try run.send(Self.claim(2, "c2", ["Sources/API/**", "Tests/APITests"]))) == ["c2:nil→granted"]
        )
        #expect(Self.moves(try run.send(Self.claim(1, "c1b", ["Sources/Schema/Model.swift"]))) == ["c1b:nil→granted"])
    }

    @Test(
        "overlapping claims of two sessions: the second waits, naming the holder; it is granted when the holder completes"
    )
    func waitsThenProceedsWhenHolderCompletes() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/**", "README.md"]))
        let waiting = try run.send(Self.claim(2, "c2", ["Sources/API/Routes.swift", "Tests/APITests", "README.md"]))

        let conflict = PathClaimConflict(
            workSessionID: Self.session(1),
            threadID: Self.thread(1),
            claimID: "c1",
            heldPaths: ["Sources/**", "README.md"],
            claimedPaths: ["Sources/API/Routes.swift", "README.md"]
        )
        let reason =
            "waits: work session \(Self.session(1)) holds Sources/**, README.md (claim c1, thread \(Self.thread(1))), "
            + "overlapping Sources/API/Routes.swift, README.md"
        #expect(Self.moves(waiting) == ["c2:nil→waiting"])
        #expect(waiting.claimChanges.first?.conflicts == [conflict])
        #expect(waiting.claimChanges.first?.reason == reason)
        #expect(waiting.claimResults.map(\.result) == [.waiting])
        #expect(waiting.claimResults.first?.conflicts == [conflict])
        #expect(waiting.claimResults.first?.reason == reason)
        #expect(run.state.pathClaims.map(\.status) == [.granted, .waiting])
        #expect(run.state.pathClaims[1].grantedAt == nil)

        // The conflict is in the coordination log: a blocking message from the waiting session to the holder.
        let entry = try #require(waiting.coordinationLog.first)
        #expect(waiting.coordinationLog.count == 1)
        #expect(entry.kind == .blocking && entry.fromWorkSessionID == Self.session(2))
        #expect(entry.toWorkSessionID == Self.session(1))
        #expect(entry.id == "cm-\(run.lastCommandID)-1")
        #expect(entry.message.hasPrefix("path claim c2 (Sources/API/Routes.swift, Tests/APITests, README.md) waits: "))
        #expect(entry.message.contains("work session \(Self.session(1)) holds Sources/**, README.md (claim c1"))
        #expect(waiting.deliveries.isEmpty, "the log records it; no thread is interrupted")

        // A third session waits in line behind the second for README.md.
        let third = try run.send(Self.claim(3, "c3", ["README.md"]))
        #expect(third.claimResults.map(\.result) == [.waiting])
        #expect(third.claimChanges.first?.conflicts.map(\.claimID) == ["c1"], "only granted claims stand in the way")

        // The holder completes: its claim is released, the first waiting claim granted and told; the third still
        // waits, now for the second.
        let done = try run.threadCompleted(Self.session(1))
        #expect(Self.moves(done) == ["c1:granted→released", "c2:waiting→granted"])
        #expect(done.claimChanges.first?.reason == "work session \(Self.session(1)) is completed")
        #expect(done.claimResults.map(\.claimID) == ["c2"])
        #expect(done.claimResults.first?.result == .granted && done.claimResults.first?.conflicts == [])
        #expect(done.claimResults.first?.reason == "granted after waiting")
        #expect(done.claimResults.first?.threadID == Self.thread(2))
        #expect(run.state.pathClaims.map(\.id) == ["c2", "c3"])
        #expect(run.state.pathClaims.map(\.status) == [.granted, .waiting])
        #expect(run.state.pathClaims[0].grantedAt == run.now)

        // The second releases README.md's claim by its id: the third proceeds.
        let released = try run.send(Self.release(2, ["c2"]))
        #expect(Self.moves(released) == ["c2:granted→released", "c3:waiting→granted"])
        #expect(released.claimChanges.first?.reason == "released by the thread of work session \(Self.session(2))")
        #expect(released.claimResults.map(\.claimID) == ["c3"])
    }

    @Test("a holder that fails releases its claims, and the waiting claim is granted")
    func holderFails() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/Schema"]))
        try run.send(Self.claim(2, "c2", ["Sources/Schema/Migration.swift"]))

        let failed = try run.send(
            .threadFailed(ZedThreadFailed(instanceID: Self.instanceID, workSessionID: Self.session(1), reason: "crash"))
        )
        #expect(Self.moves(failed) == ["c1:granted→released", "c2:waiting→granted"])
        #expect(failed.claimChanges.first?.reason == "work session \(Self.session(1)) is failed")
        #expect(failed.claimResults.map(\.claimID) == ["c2"])
        #expect(run.state.pathClaims.map(\.status) == [.granted])
    }

    @Test(
        "a holder whose instance times out: claims kept while disconnected, released when it fails; a retry claims afresh"
    )
    func holderInstanceTimesOut() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/**"]))
        try run.send(Self.claim(2, "c2", ["Sources/API"]))
        let timeouts = ZedInstanceTimeouts(ready: .seconds(120), heartbeat: .seconds(15), failAfter: .seconds(60))
        let heard = try #require(try run.instance().lastHeartbeatAt)

        // Silent past the heartbeat timeout: disconnected; its threads may be back, so the claims stay.
        let disconnect = try #require(timeouts.due(for: try run.instance(), at: heard.addingTimeInterval(16)))
        let disconnected = try run.send(disconnect.event)
        #expect(try run.instance().status == .disconnected)
        #expect(disconnected.claimChanges.isEmpty)
        #expect(run.state.pathClaims.map(\.status) == [.granted, .waiting])

        // Silent past the fail timeout: the instance fails with its sessions; every claim is released, none
        // granted (the waiting one's session failed too).
        let fail = try #require(timeouts.due(for: try run.instance(), at: heard.addingTimeInterval(61)))
        let failed = try run.send(fail.event)
        #expect(try run.instance().status == .failed)
        #expect(Self.moves(failed) == ["c1:granted→released", "c2:waiting→released"])
        #expect(
            failed.claimChanges.map(\.reason) == [
                "work session \(Self.session(1)) is failed", "work session \(Self.session(2)) is failed",
            ]
        )
        #expect(failed.claimResults.isEmpty)
        #expect(run.state.pathClaims.isEmpty)

        // A retry runs in a new instance; nothing left of the old claims stands in its way.
        let retried = try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: Self.session(2))))
        let retry = try #require(retried.outcome?.created.workSessionIDs.first)
        let newInstance = try run.instance().id
        try run.send(.instanceReady(ZedInstanceReady(instanceID: newInstance)))
        try run.send(
            .threadCreated(ZedThreadCreated(instanceID: newInstance, workSessionID: retry, zedThreadExternalID: "z"))
        )
        let granted = try run.send(Self.claim(2, "c2", ["Sources/API"], instanceID: newInstance, session: retry))
        #expect(Self.moves(granted) == ["c2:nil→granted"])
        #expect(granted.claimResults.first?.instanceID == newInstance)
    }

    @Test("stopping the instance or cancelling the task releases every claim")
    func stopAndCancelRelease() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/**"]))
        try run.send(Self.claim(2, "c2", ["Sources/API"]))
        let stopped = try run.apply(.stopZedInstance(StopZedInstance(reason: "maintenance")))
        #expect(Self.moves(stopped) == ["c1:granted→released", "c2:waiting→released"])
        #expect(stopped.claimResults.isEmpty)
        #expect(run.state.pathClaims.isEmpty)

        var other = try Self.team()
        try other.send(Self.claim(3, "c3", ["docs"]))
        let cancelled = try other.apply(.cancel(CancelSpecTask(reason: "not needed")))
        #expect(Self.moves(cancelled) == ["c3:granted→released"])
        #expect(cancelled.claimChanges.first?.reason == "work session \(Self.session(3)) is cancelled")
    }

    @Test("a blocked session keeps its claims; waiting in the queue, it releases them; restarted at once, keeps them")
    func blockedKeepsQueuedReleases() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/Schema"]))
        try run.send(Self.claim(2, "c2", ["Sources/Schema/Model.swift"]))
        // Two slots for three running sessions: a session put back in the queue waits there.
        try run.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 2)))

        let blocked = try run.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: Self.session(1), status: .blocked))
        )
        #expect(blocked.claimChanges.isEmpty)
        #expect(run.state.pathClaims.map(\.status) == [.granted, .waiting])

        let queued = try run.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: Self.session(1), status: .pending))
        )
        #expect(Self.moves(queued) == ["c1:granted→released", "c2:waiting→granted"])
        #expect(queued.claimChanges.first?.reason == "work session \(Self.session(1)) is pending")

        // With a free slot the scheduler restarts a queued session in the same command, on the same thread: its
        // claims stay.
        var other = try Self.team()
        try other.send(Self.claim(3, "c3", ["Sources/UI"]))
        try other.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: Self.session(3), status: .blocked))
        )
        let restarted = try other.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: Self.session(3), status: .pending))
        )
        #expect(restarted.sessionMoves.last == "\(Self.session(3)):pending→active")
        #expect(restarted.claimChanges.isEmpty && other.state.pathClaims.map(\.id) == ["c3"])
    }

    // MARK: - Asking again, releasing, deadlocks

    @Test("the same claim sent again is answered again, with no new announcement or log entry")
    func sameClaimAgain() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/**"]))
        try run.send(Self.claim(2, "c2", ["Sources/API"]))

        let again = try run.send(Self.claim(2, "c2", ["./Sources/API/"]))
        #expect(again.claimChanges.isEmpty && again.coordinationLog.isEmpty)
        #expect(again.claimResults.map(\.result) == [.waiting])
        #expect(again.claimResults.first?.conflicts.map(\.claimID) == ["c1"])
        let grantedAgain = try run.send(Self.claim(1, "c1", ["Sources/**"]))
        #expect(grantedAgain.claimChanges.isEmpty && grantedAgain.claimResults.map(\.result) == [.granted])

        // The id names one claim: other paths under it, or another session using it, are conflicts.
        let otherPaths = try run.reject(Self.claim(2, "c2", ["Tests"]))
        #expect(otherPaths.code == .conflict)
        #expect(
            otherPaths.message.contains("claim c2 of work session \(Self.session(2)) claims other paths (Sources/API)")
        )
        let taken = try run.reject(Self.claim(3, "c1", ["Sources/**"]))
        #expect(taken.code == .conflict)
        #expect(taken.message.contains("claim id c1 is already used by work session \(Self.session(1))"))
    }

    @Test("releasing: all of a session's claims without ids, waiting ones too; again is harmless; never another's")
    func releasing() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "c1", ["Sources/**"]))
        try run.send(Self.claim(1, "c1b", ["docs"]))
        try run.send(Self.claim(2, "c2", ["docs/guide.md"]))
        try run.send(Self.claim(2, "c2b", ["Sources/API"]))
        #expect(run.state.pathClaims.map(\.status) == [.granted, .granted, .waiting, .waiting])

        let rejection = try run.reject(Self.release(3, ["c1"]))
        #expect(rejection.code == .conflict)
        #expect(rejection.message.contains("claim c1 is work session \(Self.session(1))'s"))

        let released = try run.send(Self.release(1))
        #expect(
            Self.moves(released) == [
                "c1:granted→released", "c1b:granted→released", "c2:waiting→granted", "c2b:waiting→granted",
            ]
        )
        #expect(released.claimResults.map(\.claimID) == ["c2", "c2b"])

        let waitingGivenUp = try run.send(Self.release(2, ["c2b", "never-made"]))
        #expect(Self.moves(waitingGivenUp) == ["c2b:granted→released"])
        #expect(try run.send(Self.release(2, ["c2b"])).isEmpty, "released already: nothing to do")
    }

    @Test("a claim whose wait would close a cycle is refused, not kept, and the refusal is in the log")
    func deadlockRefused() throws {
        var run = try Self.team()
        try run.send(Self.claim(1, "a", ["Sources/Schema"]))
        try run.send(Self.claim(2, "b", ["Sources/API"]))
        try run.send(Self.claim(3, "c", ["Sources/UI"]))
        // 2 waits for 1, 3 waits for 2: 1 asking for 3's paths would wait on a session that waits on it.
        try run.send(Self.claim(2, "b2", ["Sources/Schema/Model.swift"]))
        try run.send(Self.claim(3, "c2", ["Sources/API/Routes.swift"]))

        let refused = try run.send(Self.claim(1, "a2", ["Sources/UI/View.swift"]))
        #expect(Self.moves(refused) == ["a2:nil→refused"])
        #expect(refused.claimResults.map(\.result) == [.refused])
        #expect(refused.claimResults.first?.conflicts.map(\.workSessionID) == [Self.session(3)])
        #expect(refused.claimResults.first?.reason.contains("waiting would deadlock") == true)
        #expect(refused.coordinationLog.first?.message.contains("was refused (waiting would deadlock)") == true)
        #expect(!run.state.pathClaims.contains { $0.id == "a2" })

        // Without the cycle the same kind of claim waits.
        let waits = try run.send(Self.claim(3, "c3", ["Sources/Schema"]))
        #expect(waits.claimResults.map(\.result) == [.waiting])
    }

    // MARK: - Who may claim, and the limits

    @Test("only a running session's thread claims: closed ones get sender_closed, waiting ones illegal_transition")
    func onlyRunningSessionsClaim() throws {
        var run = try ZedRun.implementing(plan: "## Task 1: Schema\n\n## Task 2: API\nDepends on: 1\n")
        try run.ready()
        try run.threadCreated(Self.session(1))
        let notStarted = try run.reject(Self.claim(2, "c", ["x"]))
        #expect(notStarted.code == .illegalTransition)
        #expect(notStarted.message.contains("is not running (it is pending), so no thread of it can claim paths"))

        try run.threadCompleted(Self.session(1))
        let closed = try run.reject(Self.claim(1, "c", ["x"]))
        #expect(closed.code == .senderClosed)
        #expect(closed.message.contains("is completed; only a running session's thread can claim paths"))

        let unknown = try run.reject(Self.claim(1, "c", ["x"], session: "ws-nope"))
        #expect(unknown.code == .unknownWorkSession)
    }

    @Test(
        "hostile paths are rejected as invalid_path, naming the path and the problem",
        arguments: [
            ([], "a claim needs at least one path"),
            ([""], "is empty"),
            (["ok", "../../etc/passwd"], "has a .. segment"),
            (["/abs"], "is absolute"),
            (["C:/x"], "is absolute"),
            (["a\\b"], "contains a backslash"),
            (["."], "names the workspace root"),
            (["a/**b"], "** must be a whole segment"),
            ([String(repeating: "x", count: 300)], "has a segment of 300 bytes"),
            (
                [Array(repeating: String(repeating: "y", count: 200), count: 6).joined(separator: "/")],
                "is 1205 characters long"
            ),
        ] as [([String], String)]
    )
    func invalidPaths(_ case_: ([String], String)) throws {
        var run = try Self.team()
        let rejection = try run.reject(Self.claim(1, "c", case_.0))
        #expect(rejection.code == .invalidPath)
        #expect(rejection.message.contains(case_.1), "\(rejection.message)")
        #expect(rejection.message.count < 400, "a long path is shortened in the message")
    }

    @Test("limits: 100 paths a claim, 1000 in a task, and a bounded overlap check, as claim_limit_exceeded")
    func limits() throws {
        var run = try Self.team()
        let tooMany = try run.reject(Self.claim(1, "c", (0...100).map { "f\($0)" }))
        #expect(tooMany.code == .claimLimitExceeded)
        #expect(tooMany.message == "a claim has at most 100 paths; this one has 101")

        for block in 0..<10 {
            try run.send(Self.claim(1, "c\(block)", (0..<100).map { "d\(block)/f\($0)" }))
        }
        #expect(run.state.pathClaims.reduce(0) { $0 + $1.paths.count } == 1000)
        let full = try run.reject(Self.claim(2, "more", ["elsewhere"]))
        #expect(full.code == .claimLimitExceeded)
        #expect(full.message.contains("has 1000 claimed paths; 1 more would pass the limit of 1000"))
        // Repeats count once.
        try run.send(Self.release(1, ["c9"]))
        try run.send(Self.claim(2, "dup", Array(repeating: "same", count: 100)))
        #expect(run.state.pathClaims.last?.paths == ["same"])

        // Star-filled globs against star-filled held globs: the check gives up instead of holding the lock.
        var hostile = try Self.team()
        let starry = (0..<100).map { index in String(repeating: "*a", count: 120) + "\(index)" }
        try hostile.send(Self.claim(1, "held", starry))
        let costly = try hostile.reject(
            Self.claim(2, "costly", (0..<100).map { index in String(repeating: "*a", count: 120) + "*b\(index)" })
        )
        #expect(costly.code == .claimLimitExceeded)
        #expect(costly.message.contains("takes more than \(ClaimLimits.overlapWork) steps"))
    }
}

extension Array where Element == Emission {
    var claimChanges: [PathClaimChange] {
        statusEvents.compactMap { if case .pathClaimChanged(let change) = $0 { change } else { nil } }
    }

    var claimResults: [ClaimResult] {
        zedCommands.compactMap { if case .claimResult(let result) = $0 { result } else { nil } }
    }
}
