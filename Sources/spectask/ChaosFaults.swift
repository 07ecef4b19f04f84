import Foundation
import SpecTaskWorker

#if canImport(Glibc)
import Glibc
#endif

/// The faults a campaign injects.
enum ChaosFaultKind: Int, CaseIterable, Sendable, Comparable {
    case kill, zombie, postgresRestart, postgresOutage, runnerRestart

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    func label(outage: Int, zombie: Int) -> String {
        switch self {
        case .kill: "worker SIGKILL + restart"
        case .zombie: "worker SIGSTOP \(zombie) s, SIGCONT (zombie)"
        case .postgresRestart: "PostgreSQL restart (-m immediate)"
        case .postgresOutage: "PostgreSQL down \(outage) s"
        case .runnerRestart: "Zed runner SIGKILL + restart"
        }
    }
}

/// One injected fault and what became of it.
struct ChaosFault: Sendable {
    var kind: ChaosFaultKind
    /// What was done, e.g. "PostgreSQL down 30 s".
    var label: String
    var number: Int
    var target: String
    var injectedAt: ContinuousClock.Instant
    /// The fault's last action: the restart, SIGCONT, or PostgreSQL answering again.
    var endedAt: ContinuousClock.Instant?
    /// When the system worked normally again (see `ChaosFaultInjector.waitForRecovery`); `nil`: it did not within
    /// the recovery timeout.
    var recoveredAt: ContinuousClock.Instant?
    /// Zombies: when the other workers had taken over the frozen one's partitions, while it was still frozen.
    var takenOverAt: ContinuousClock.Instant?
    /// Zombies: batches the worker dropped after SIGCONT because its partitions had been claimed by another worker.
    var fencedBatches: Int?

    var recovery: Duration? { recoveredAt.map { $0 - injectedAt } }
}

/// A small seeded generator (SplitMix64): the same `--seed` gives the same fault plan and targets.
struct ChaosRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Injects the planned faults one at a time, at random moments of the load, and measures each one's recovery.
///
/// Faults never overlap: each waits until the previous one recovered (plus a random gap of 1–4 s), so every
/// recovery time belongs to one fault. Their nominal moments are spread over the load (after a warm-up, before a
/// quiet tail), each at a random point of its slot.
struct ChaosFaultInjector {
    let system: ChaosSystem
    let ledger: ChaosLedger
    let plan: [ChaosFaultKind]
    let seed: UInt64
    let workers: Int
    let partitions: Int32
    let outageSeconds: Int
    let zombieSeconds: Int
    let recoveryTimeout: Duration
    let started: ContinuousClock.Instant
    let warmup: Duration
    let window: Duration
    let print: @Sendable (String) -> Void

    /// Commands older than this without an outcome mean the system has not recovered yet: 2 s, or 1.5 times the
    /// longest wait seen before the first fault when the machine is slower than that even without faults.
    static let recoveredBelow = Duration.seconds(2)

    func run() async throws -> [ChaosFault] {
        var random = ChaosRandom(seed: seed)
        var threshold = Self.recoveredBelow
        let slot = plan.isEmpty ? Duration.zero : window / plan.count
        var faults: [ChaosFault] = []
        var previousEnd = started
        var counters: [ChaosFaultKind: Int] = [:]
        for (index, kind) in plan.enumerated() {
            let jitter = slot * Double.random(in: 0..<0.5, using: &random)
            let gap = Duration.milliseconds(Int.random(in: 1000...4000, using: &random))
            let at = max(started + warmup + slot * index + jitter, previousEnd + gap)
            if index == 0 {
                // The warm-up shows how long commands wait for their outcomes without faults (after a first
                // second or two of joining).
                var longest = Duration.zero
                while ContinuousClock.now < at {
                    if ContinuousClock.now - started > .seconds(3) {
                        longest = max(longest, ledger.oldestUnansweredAge())
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                threshold = max(Self.recoveredBelow, longest * 1.5)
                print(
                    "  without faults the oldest command waited \(Self.format(longest)) at most: a fault counts as "
                        + "recovered when none waits longer than \(Self.format(threshold))"
                )
            }
            try await Task.sleep(until: at, clock: .continuous)
            counters[kind, default: 0] += 1
            let worker = Int.random(in: 0..<workers, using: &random)
            var fault = try await inject(kind, number: counters[kind]!, worker: worker, threshold: threshold)
            let recovered = await waitForRecovery(of: fault, threshold: threshold)
            fault.recoveredAt = recovered
            if kind == .zombie, let resumedLog = fault.fencedBatches {
                // Whatever the worker logged since SIGCONT, now that it had time to try its stale batch.
                let text = await system.workerLogText(worker, from: resumedLog)
                fault.fencedBatches = text.components(separatedBy: "was claimed by another worker").count - 1
            }
            faults.append(fault)
            previousEnd = ContinuousClock.now
            let position = "fault \(index + 1)/\(plan.count)"
            let elapsed = Self.format(fault.injectedAt - started)
            var line =
                "  \(position) at \(elapsed): \(kind.label(outage: outageSeconds, zombie: zombieSeconds)), "
                + "\(fault.target): "
            if let recovery = fault.recovery {
                line += "recovered after \(Self.format(recovery))"
            } else {
                line += "NOT recovered within \(Self.format(recoveryTimeout))"
            }
            if let takenOver = fault.takenOverAt {
                line += "; its partitions moved on after \(Self.format(takenOver - fault.injectedAt))"
            }
            if let fenced = fault.fencedBatches { line += "; fenced batches after SIGCONT: \(fenced)" }
            print(line)
            if fault.recoveredAt == nil, index + 1 < plan.count {
                // More faults on a system that is stuck would only blur what stuck it.
                print("  no more faults: the system did not recover from this one")
                break
            }
        }
        return faults
    }

    private func inject(
        _ kind: ChaosFaultKind,
        number: Int,
        worker: Int,
        threshold: Duration
    ) async throws -> ChaosFault {
        let now = ContinuousClock.now
        var fault = ChaosFault(
            kind: kind,
            label: kind.label(outage: outageSeconds, zombie: zombieSeconds),
            number: number,
            target: "",
            injectedAt: now
        )
        switch kind {
        case .kill:
            let pid = try await system.killAndRestartWorker(worker)
            fault.target = "worker \(worker + 1) (pid \(pid))"
            fault.endedAt = .now
        case .zombie:
            await system.pauseWorker(worker)
            fault.target = "worker \(worker + 1)"
            // While it is frozen: do the others take its partitions over?
            let resumeAt = now + .seconds(zombieSeconds)
            while ContinuousClock.now < resumeAt {
                if fault.takenOverAt == nil,
                    ContinuousClock.now - now > .seconds(1),
                    ledger.oldestUnansweredAge() < threshold,
                    ledger.flowsEverywhere(since: now + .seconds(1), partitions: partitions)
                {
                    fault.takenOverAt = .now
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            fault.fencedBatches = await system.resumeWorker(worker)  // the log offset, counted after recovery
            fault.endedAt = .now
        case .postgresRestart:
            fault.target = "private cluster"
            try await system.crashPostgres()
            try await system.startPostgres()
            fault.endedAt = .now
        case .postgresOutage:
            fault.target = "private cluster"
            try await system.crashPostgres()
            try await Task.sleep(until: now + .seconds(outageSeconds), clock: .continuous)
            try await system.startPostgres()
            fault.endedAt = .now
        case .runnerRestart:
            fault.target = "reference runner"
            try await system.killAndRestartRunner()
            fault.endedAt = .now
        }
        return fault
    }

    /// The moment the system works normally again after the fault's last action, or `nil` after the timeout.
    ///
    /// For worker and PostgreSQL faults: commands sent after the last action have outcomes on every partition of the
    /// commands topic (so the flow resumed everywhere, not only where the fault did not reach), and no command has
    /// waited longer than `threshold` (2 s on a machine that keeps up) for its outcome (the backlog is worked off). For the runner: a Zed task started after
    /// the restart got its instance ready, i.e. the new runner answers the workers.
    private func waitForRecovery(of fault: ChaosFault, threshold: Duration) async -> ContinuousClock.Instant? {
        let since = fault.endedAt ?? fault.injectedAt
        let deadline = since + recoveryTimeout
        while ContinuousClock.now < deadline {
            let recovered: Bool
            switch fault.kind {
            case .runnerRestart:
                recovered = ledger.read { state in
                    state.zedStarted.contains { task, startedAt in
                        startedAt > since && state.trails[task]?.instanceReadyAt != nil
                    }
                }
            default:
                recovered =
                    ledger.oldestUnansweredAge() < threshold
                    && ledger.flowsEverywhere(since: since, partitions: partitions)
            }
            if recovered { return .now }
            try? await Task.sleep(for: .milliseconds(100))
            if Task.isCancelled { return nil }
        }
        return nil
    }

    /// A plan with each fault kind `count` times, in a seeded random order.
    static func plan(_ counts: [ChaosFaultKind: Int], seed: UInt64) -> [ChaosFaultKind] {
        var random = ChaosRandom(seed: seed ^ 0x5EED)
        return ChaosFaultKind.allCases.flatMap { Array(repeating: $0, count: counts[$0] ?? 0) }.shuffled(
            using: &random
        )
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.1f s", duration.seconds)
    }
}
