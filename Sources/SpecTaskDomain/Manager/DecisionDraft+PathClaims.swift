// Path claims in the shared workspace: every session of a spec task works in the one workspace of the task's Zed
// instance, so a thread claims the paths it is about to change and waits while another session holds an
// overlapping claim.
//
// - A claim no other session's granted claim overlaps is granted at once. One that overlaps waits, and is
//   granted, in the order claims were made, once the claims in its way are released. A session's own claims
//   never stand in its way, and waiting claims block nobody.
// - A claim whose wait would close a cycle (its holders wait, directly or through others, on the claimant) is
//   refused and not kept: otherwise both sides would wait forever.
// - Claims are released by their thread (`paths_released`), and for it when its session leaves active and
//   blocked (completed, failed, cancelled, waiting in the queue) once the command is applied, its thread ends,
//   or the instance fails (a heartbeat or ready timeout included) or stops. A disconnected instance keeps them: its threads may be back.
// - Every change is announced on the status topic (`path_claim_changed`); the claimant's thread gets a
//   `claim_result`; a wait or refusal is recorded in the coordination log as a `blocking` message from the
//   claimant to each holder.

extension DecisionDraft {
    mutating func claimPaths(_ event: ZedPathsClaimed) throws(Rejection) {
        let session = try claimant(event.workSessionID, doing: "claim paths")
        try ManagerLimits.validateClientID(event.claimID, field: "claimID")
        let patterns = try Self.claimPatterns(event.paths)
        let paths = patterns.map(\.text)
        var overlap = ClaimOverlap()

        if let position = state.pathClaims.firstIndex(where: { $0.id == event.claimID }) {
            try answerAgain(at: position, session: session, paths: paths, overlap: &overlap)
            return
        }
        let held = state.pathClaims.reduce(0) { $0 + $1.paths.count }
        guard held + paths.count <= ClaimLimits.pathsPerSpecTask else {
            throw Rejection(
                .claimLimitExceeded,
                "spec task \(specTaskID) has \(held) claimed paths; \(paths.count) more would pass the limit of "
                    + "\(ClaimLimits.pathsPerSpecTask); release claims first"
            )
        }
        let conflicts = try checkedConflicts(of: patterns, claimant: session.id, overlap: &overlap)
        var claim = PathClaim(
            id: event.claimID,
            specTaskID: specTaskID,
            workSessionID: session.id,
            threadID: zedThreadPosition(forWorkSession: session.id).map { state.zedThreads[$0].id },
            paths: paths,
            status: conflicts.isEmpty ? .granted : .waiting,
            reason: event.reason,
            claimedAt: now,
            grantedAt: conflicts.isEmpty ? now : nil
        )
        if conflicts.isEmpty {
            add(claim, conflicts: [], reason: "no other work session holds these paths")
            answer(claim, conflicts: [], reason: "granted")
            return
        }
        let holders = Self.describe(conflicts)
        let deadlock: Bool
        do throws(ClaimOverlap.Exhausted) {
            deadlock = try waitsOn(session.id, from: Set(conflicts.map(\.workSessionID)), overlap: &overlap)
        } catch {
            throw Self.tooCostly(paths.count)
        }
        if deadlock {
            claim.status = .refused
            let reason =
                "refused: \(holders); those sessions wait, directly or through others, for claims of work session "
                + "\(session.id), so waiting would deadlock; release claims and claim again"
            emit(
                .pathClaimChanged(PathClaimChange(to: .refused, reason: reason, pathClaim: claim, conflicts: conflicts))
            )
            logConflicts(claim, conflicts, outcome: "was refused (waiting would deadlock)")
            answer(claim, conflicts: conflicts, reason: reason)
            return
        }
        let reason = "waits: \(holders)"
        add(claim, conflicts: conflicts, reason: reason)
        logConflicts(claim, conflicts, outcome: "waits")
        answer(claim, conflicts: conflicts, reason: reason)
    }

    /// Releases the thread's own claims (all of them without ids); claims that are gone already are skipped.
    mutating func releasePaths(_ event: ZedPathsReleased) throws(Rejection) {
        let session = state.workSessions[try existingWorkSession(event.workSessionID)]
        let named = event.claimIDs.map(Set.init)
        if let named,
            let foreign = state.pathClaims.first(where: {
                named.contains($0.id) && $0.workSessionID != session.id
            })
        {
            throw Rejection(
                .conflict,
                "claim \(foreign.id) is work session \(foreign.workSessionID)'s; work session \(session.id) can "
                    + "release only its own claims"
            )
        }
        var position = 0
        while position < state.pathClaims.count {
            let claim = state.pathClaims[position]
            if claim.workSessionID == session.id, named?.contains(claim.id) ?? true {
                releasePathClaim(at: position, reason: "released by the thread of work session \(session.id)")
            } else {
                position += 1
            }
        }
    }

    /// After every command: releases the claims whose holder can no longer change files, then grants, in claim
    /// order, the waiting claims nothing stands in the way of any more.
    mutating func settlePathClaims() {
        guard !state.pathClaims.isEmpty else { return }
        var position = 0
        while position < state.pathClaims.count {
            if let ended = endedHolder(of: state.pathClaims[position]) {
                releasePathClaim(at: position, reason: ended)
            } else {
                position += 1
            }
        }
        // A waiting claim can only become grantable when a claim was released.
        let released = emissions.contains { emission in
            if case .status(.pathClaimChanged(let change)) = emission { change.to == .released } else { false }
        }
        guard released else { return }
        var overlap = ClaimOverlap()
        for position in state.pathClaims.indices where state.pathClaims[position].status == .waiting {
            let claim = state.pathClaims[position]
            // When the budget runs out, the rest wait on; the thread can ask again (paths_claimed, same claim).
            guard
                let blocking = try? conflicts(
                    of: Self.storedPatterns(claim),
                    claimant: claim.workSessionID,
                    overlap: &overlap
                )
            else { return }
            guard blocking.isEmpty else { continue }
            grantPathClaim(at: position, reason: "the claims it waited for were released")
            answer(state.pathClaims[position], conflicts: [], reason: "granted after waiting")
        }
    }

    // MARK: - Checks

    /// The session of a thread that claims: started, and neither it nor its thread ended.
    private func claimant(_ workSessionID: String, doing what: String) throws(Rejection) -> WorkSession {
        let session = state.workSessions[try existingWorkSession(workSessionID)]
        guard session.startedAt != nil, session.status != .pending else {
            throw Rejection(
                .illegalTransition,
                "work session \(session.id) is not running (it is \(session.status.rawValue)), so no thread of it "
                    + "can \(what)"
            )
        }
        try requireOpenThread(of: session, to: what)
        return session
    }

    /// Rejects, as `sender_closed`, a report from a session that ended or whose thread did.
    func requireOpenThread(of session: WorkSession, to what: String) throws(Rejection) {
        let threadStatus = zedThreadPosition(forWorkSession: session.id).map { state.zedThreads[$0].status }
        let closed =
            session.status.isTerminal
            ? "is \(session.status.rawValue)"
            : threadStatus.flatMap { $0.isTerminal ? "has a \($0.rawValue) thread" : nil }
        if let closed {
            throw Rejection(
                .senderClosed,
                "work session \(session.id) \(closed); only a running session's thread can \(what)"
            )
        }
    }

    /// Parses the claimed paths, dropping repeats (in normal form).
    private static func claimPatterns(_ paths: [String]) throws(Rejection) -> [ClaimPattern] {
        guard !paths.isEmpty else { throw Rejection(.invalidPath, "a claim needs at least one path") }
        guard paths.count <= ClaimLimits.pathsPerClaim else {
            throw Rejection(
                .claimLimitExceeded,
                "a claim has at most \(ClaimLimits.pathsPerClaim) paths; this one has \(paths.count)"
            )
        }
        var patterns: [ClaimPattern] = []
        var seen: Set<String> = []
        for path in paths {
            let pattern: ClaimPattern
            do throws(ClaimPatternError) {
                pattern = try ClaimPattern(path)
            } catch {
                throw Rejection(.invalidPath, error.description)
            }
            if seen.insert(pattern.text).inserted { patterns.append(pattern) }
        }
        return patterns
    }

    /// The patterns of a kept claim (stored in normal form, so they parse).
    private static func storedPatterns(_ claim: PathClaim) -> [ClaimPattern] {
        claim.paths.compactMap { try? ClaimPattern($0) }
    }

    private static func tooCostly(_ count: Int) -> Rejection {
        Rejection(
            .claimLimitExceeded,
            "checking these \(count) paths against the claims held takes more than \(ClaimLimits.overlapWork) "
                + "steps; claim fewer paths or plainer globs"
        )
    }

    private func checkedConflicts(
        of patterns: [ClaimPattern],
        claimant: String,
        overlap: inout ClaimOverlap
    ) throws(Rejection) -> [PathClaimConflict] {
        do throws(ClaimOverlap.Exhausted) {
            return try conflicts(of: patterns, claimant: claimant, overlap: &overlap)
        } catch {
            throw Self.tooCostly(patterns.count)
        }
    }

    /// Every granted claim of another session that overlaps `patterns`, with the paths that overlap on each side.
    private func conflicts(
        of patterns: [ClaimPattern],
        claimant: String,
        overlap: inout ClaimOverlap
    ) throws(ClaimOverlap.Exhausted) -> [PathClaimConflict] {
        var conflicts: [PathClaimConflict] = []
        for held in state.pathClaims where held.status == .granted && held.workSessionID != claimant {
            var heldPaths: [String] = []
            var claimed: Set<String> = []
            for heldPattern in Self.storedPatterns(held) {
                var hit = false
                for pattern in patterns {
                    guard try overlap.overlaps(heldPattern, pattern) else { continue }
                    hit = true
                    claimed.insert(pattern.text)
                }
                if hit { heldPaths.append(heldPattern.text) }
            }
            guard !heldPaths.isEmpty else { continue }
            conflicts.append(
                PathClaimConflict(
                    workSessionID: held.workSessionID,
                    threadID: held.threadID,
                    claimID: held.id,
                    heldPaths: heldPaths,
                    claimedPaths: patterns.map(\.text).filter(claimed.contains)
                )
            )
        }
        return conflicts
    }

    /// Whether any of `sessions` waits, directly or through other waiting sessions, for a claim of `target`.
    private func waitsOn(
        _ target: String,
        from sessions: Set<String>,
        overlap: inout ClaimOverlap
    ) throws(ClaimOverlap.Exhausted) -> Bool {
        var pending = Array(sessions)
        var seen = sessions
        while let session = pending.popLast() {
            for claim in state.pathClaims where claim.workSessionID == session && claim.status == .waiting {
                for holder in try conflicts(of: Self.storedPatterns(claim), claimant: session, overlap: &overlap)
                    .map(\.workSessionID)
                {
                    if holder == target { return true }
                    if seen.insert(holder).inserted { pending.append(holder) }
                }
            }
        }
        return false
    }

    /// Why a kept claim's holder can no longer change files, or `nil` while it can.
    private func endedHolder(of claim: PathClaim) -> String? {
        guard let session = workSessionPosition(claim.workSessionID).map({ state.workSessions[$0] }) else {
            return "work session \(claim.workSessionID) is gone"
        }
        if session.status != .active && session.status != .blocked {
            return "work session \(session.id) is \(session.status.rawValue)"
        }
        if let thread = zedThreadPosition(forWorkSession: session.id).map({ state.zedThreads[$0] }),
            thread.status.isTerminal
        {
            return "Zed thread \(thread.id) is \(thread.status.rawValue)"
        }
        guard let instance = state.zedInstance else { return "spec task \(specTaskID) has no Zed instance" }
        if instance.status == .failed || instance.status == .stopped {
            return "Zed instance \(instance.id) is \(instance.status.rawValue)"
        }
        return nil
    }

    // MARK: - Answers

    /// The same claim sent again (a runner retrying): answered as it stands; a waiting one is granted if nothing
    /// stands in its way any more.
    private mutating func answerAgain(
        at position: Int,
        session: WorkSession,
        paths: [String],
        overlap: inout ClaimOverlap
    ) throws(Rejection) {
        let claim = state.pathClaims[position]
        guard claim.workSessionID == session.id else {
            throw Rejection(
                .conflict,
                "claim id \(claim.id) is already used by work session \(claim.workSessionID) in spec task "
                    + "\(specTaskID); choose another id"
            )
        }
        guard claim.paths == paths else {
            throw Rejection(
                .conflict,
                "claim \(claim.id) of work session \(session.id) claims other paths (\(claim.paths.joined(separator: ", "))); "
                    + "choose a new id for a new claim"
            )
        }
        guard claim.status == .waiting else {
            answer(claim, conflicts: [], reason: "granted")
            return
        }
        let conflicts = try checkedConflicts(of: Self.storedPatterns(claim), claimant: session.id, overlap: &overlap)
        if conflicts.isEmpty {
            grantPathClaim(at: position, reason: "the claims it waited for were released")
            answer(state.pathClaims[position], conflicts: [], reason: "granted after waiting")
        } else {
            answer(claim, conflicts: conflicts, reason: "waits: \(Self.describe(conflicts))")
        }
    }

    /// Tells the claimant's thread how its claim stands.
    private mutating func answer(_ claim: PathClaim, conflicts: [PathClaimConflict], reason: String) {
        guard let instance = state.zedInstance,
            let thread = zedThreadPosition(forWorkSession: claim.workSessionID).map({ state.zedThreads[$0] })
        else { return }
        emit(
            .claimResult(
                ClaimResult(
                    instanceID: instance.id,
                    specTaskID: specTaskID,
                    workSessionID: claim.workSessionID,
                    threadID: thread.id,
                    claimID: claim.id,
                    paths: claim.paths,
                    result: claim.status,
                    conflicts: conflicts,
                    reason: reason
                )
            )
        )
    }

    /// One `blocking` message in the coordination log from the claimant to each holder in the way.
    private mutating func logConflicts(_ claim: PathClaim, _ conflicts: [PathClaimConflict], outcome: String) {
        var byHolder: [(String, [PathClaimConflict])] = []
        for conflict in conflicts {
            if let index = byHolder.firstIndex(where: { $0.0 == conflict.workSessionID }) {
                byHolder[index].1.append(conflict)
            } else {
                byHolder.append((conflict.workSessionID, [conflict]))
            }
        }
        for (ordinal, (holder, held)) in byHolder.enumerated() {
            record(
                CoordinationEntry(
                    id: generatedID("cm", ordinal: ordinal + 1),
                    specTaskID: specTaskID,
                    fromWorkSessionID: claim.workSessionID,
                    toWorkSessionID: holder,
                    kind: .blocking,
                    message: "path claim \(claim.id) (\(claim.paths.joined(separator: ", "))) \(outcome): "
                        + Self.describe(held),
                    createdAt: now
                )
            )
        }
    }

    /// "work session ws-1 holds Sources/** (claim c-1, thread th-1), overlapping Sources/App.swift; …"
    static func describe(_ conflicts: [PathClaimConflict]) -> String {
        conflicts.map { conflict in
            let thread = conflict.threadID.map { ", thread \($0)" } ?? ""
            return "work session \(conflict.workSessionID) holds \(conflict.heldPaths.joined(separator: ", ")) "
                + "(claim \(conflict.claimID)\(thread)), overlapping \(conflict.claimedPaths.joined(separator: ", "))"
        }
        .joined(separator: "; ")
    }
}
