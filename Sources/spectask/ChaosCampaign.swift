import Foundation
import Kafka
import Logging
import PostgresNIO
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Synchronization

/// One chaos campaign: set up the private system, run the load with the faults, drain, check, report.
struct ChaosCampaign: Sendable {
    var run: String
    var seed: UInt64
    var workers: Int
    var rate: Int
    var zedRate: Double
    var duration: Duration
    var counts: [ChaosFaultKind: Int]
    var outageSeconds: Int
    var zombieSeconds: Int
    var recoveryTimeout: Duration
    var kafka: KafkaConfiguration
    var commandLine: String
    var logger: Logger

    /// Input topics' partitions (topics/*.topic.json): what "the flow resumed everywhere" counts.
    static let partitions: Int32 = 6
    static let sessionTimeout = Duration.seconds(6)
    static let heartbeatTimeout = Duration.seconds(10)
    static let heartbeatFailAfter = Duration.seconds(20)

    /// Returns whether every check passed.
    func run(system: ChaosSystem) async throws -> Bool {
        let (kafka, logger) = (self.kafka, self.logger)
        let clock = ContinuousClock()
        let setupStarted = clock.now
        print(
            "setting up: a private PostgreSQL cluster, topics \(system.prefix)*, \(workers) workers"
                + (zedRate > 0 ? ", the reference Zed runner" : "") + "…"
        )
        try await system.start()
        print(
            "  ready after \(ChaosFaultInjector.format(clock.now - setupStarted)): PostgreSQL on "
                + "127.0.0.1:\(await system.postgresPort), logs in \(await system.logs.path)"
        )

        let ledger = ChaosLedger()
        let follower = try await StatusFollower.start(kafka: kafka, topics: [system.topics.status], logger: logger)
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: kafka, linger: .milliseconds(2)),
            logger: logger
        )
        let producing = Task { try await producer.run() }
        let following = Task { await ChaosLoad.follow(follower, into: ledger, logger: logger) }
        defer {
            producing.cancel()
            following.cancel()
        }
        let load = ChaosLoad(
            run: run,
            rate: rate,
            zedRate: zedRate,
            topics: system.topics,
            producer: producer,
            ledger: ledger,
            logger: logger
        )
        let plan = ChaosFaultInjector.plan(counts, seed: seed)
        let started = clock.now
        print(
            "load: \(rate) commands/s to model tasks"
                + (zedRate > 0 ? String(format: ", a Zed task every %.1f s", 1 / zedRate) : "")
                + ", for \(Int(duration.seconds)) s at least; \(plan.count) faults in a random order"
                + (plan.isEmpty
                    ? ""
                    : ": "
                        + ChaosFaultKind.allCases.compactMap { kind in
                            let count = plan.count { $0 == kind }
                            guard count > 0 else { return nil }
                            return "\(count) × \(kind.label(outage: outageSeconds, zombie: zombieSeconds))"
                        }.joined(separator: ", "))
        )

        let zedFinishedFlag = ChaosFlag()
        async let modelLoad = load.sendModelLoad()
        async let zedDriving: Void = load.driveZedTasks(finished: { zedFinishedFlag.isSet })
        let progress = Task { await Self.reportProgress(ledger: ledger, started: started) }
        defer { progress.cancel() }

        let warmup = min(Duration.seconds(10), duration / 10)
        let tail = min(Duration.seconds(15), duration / 10)
        let injector = ChaosFaultInjector(
            system: system,
            ledger: ledger,
            plan: plan,
            seed: seed,
            workers: workers,
            partitions: Self.partitions,
            outageSeconds: outageSeconds,
            zombieSeconds: zombieSeconds,
            recoveryTimeout: recoveryTimeout,
            started: started,
            warmup: warmup,
            window: max(.zero, duration - warmup - tail),
            print: { print($0) }
        )
        let faults = try await injector.run()
        if clock.now < started + duration {
            try await Task.sleep(until: started + duration, clock: .continuous)
        } else {
            // A few seconds of normal load after the last recovery, so its after-effects show.
            try await Task.sleep(for: .seconds(5))
        }
        load.stopping.withLock { $0 = true }
        let (modelSent, modelTime) = try await modelLoad
        let loadTime = clock.now - started
        print(
            "load stopped after \(ChaosFaultInjector.format(loadTime))"
                + (modelTime > duration + .seconds(1)
                    ? " (longer than --duration: the faults needed the time)" : "")
                + "; waiting for the last outcomes"
        )

        // Every command's outcome (given up when none came for 30 s: the system is stuck), then every Zed task's end.
        var lastAnswered = (count: -1, at: clock.now)
        try await Self.wait(upTo: .seconds(120)) {
            let (sent, answered) = ledger.counts
            if answered != lastAnswered.count { lastAnswered = (answered, clock.now) }
            return sent == answered || clock.now - lastAnswered.at > .seconds(30)
        }
        let zedDeadline = Self.heartbeatTimeout + Self.heartbeatFailAfter + .seconds(45)
        try await Self.wait(upTo: zedDeadline) {
            ledger.read { state in
                state.zedStarted.keys.allSatisfy { task in
                    guard let status = state.trails[task]?.status?.value else { return false }
                    return [SpecTaskStatus.done.rawValue, SpecTaskStatus.implementationFailed.rawValue].contains(status)
                }
            }
        }
        zedFinishedFlag.set()
        try await zedDriving
        progress.cancel()

        var processProblems = await system.exitedWorkers().map {
            "worker \($0.index + 1) exited on its own with status \($0.status); see its log"
        }
        if let status = await system.runnerExited {
            processProblems.append("the Zed runner exited on its own with status \(status); see its log")
        }
        // No more Zed events from here on: the input topics' ends stay put for the lag check.
        await system.stopRunner()
        print("draining: outbox, consumer lag, status topic…")
        let database = try ServiceEnvironment.database([:], url: await system.postgresURL)
        let topics = system.topics
        let group = system.group
        // The commands topic's ends are known exactly from the delivery reports (this campaign is its only
        // producer); zed.events is read to its end. (Tansu's fetched high watermarks were seen to say "caught up"
        // long before the end of a large partition, so they are not relied on.)
        let zedEventEnds = try await ChaosChecks.readEnds(
            kafka: kafka,
            topic: topics.zedEvents,
            partitions: Self.partitions,
            logger: logger
        )
        let ends = ledger.read { state in
            Dictionary(
                uniqueKeysWithValues: state.commandEnds.map {
                    (KafkaTopicPartition(topic: topics.commands, partition: $0.key), $0.value)
                }
            )
        }.merging(zedEventEnds) { $1 }
        let (outbox, deadLetters, lagProblems, stored) = try await withPostgres(database, logger: logger) { client in
            _ = try await ChaosChecks.drainOutbox(client: client, timeout: .seconds(60), logger: logger)
            let lagDeadline = ContinuousClock.now + .seconds(60)
            while try await !ChaosChecks.lagProblems(ends: ends, group: group, client: client, logger: logger).isEmpty,
                ContinuousClock.now < lagDeadline
            {
                try await Task.sleep(for: .seconds(1))
            }
            // Frozen from here on: with the workers stopped, the database, the outbox and what was published can
            // be compared with each other (a system still catching up would move under the checks).
            await system.stopProcesses()
            let left = try await OutboxAdmin(logger: logger).status(client: client)
            let lagProblems = try await ChaosChecks.lagProblems(
                ends: ends,
                group: group,
                client: client,
                logger: logger
            )
            let ids = Array(Set(ledger.read { $0.commands.map(\.task) }))
            let stored = try await ChaosChecks.loadTasks(ids, client: client, logger: logger)
            return (left.rows, left.deadLetters, lagProblems, stored)
        }
        // Everything published is on the status topic: read until nothing new came for 3 s (copies still on their
        // way included).
        var seen = (count: -1, at: clock.now)
        try await Self.wait(upTo: .seconds(60)) {
            let count = ledger.read { $0.statusEvents }
            if count != seen.count { seen = (count, clock.now) }
            return clock.now - seen.at > .seconds(3)
        }
        following.cancel()
        _ = await following.value
        await follower.close()

        let checks = ChaosChecks(
            ChaosChecks.Evidence(
                ledger: ledger.read { $0 },
                faults: faults,
                stored: stored,
                outbox: outbox,
                deadLetters: deadLetters,
                lagProblems: lagProblems,
                processProblems: processProblems,
                endedAt: clock.now
            )
        )
        let zedSent = ledger.read { state in state.commands.count { $0.population == .zed } }
        print("")
        print(
            ChaosReport(
                faults: faults,
                checks: checks,
                sent: (modelSent, zedSent),
                loadTime: loadTime,
                redelivered: ledger.read { $0.redelivered },
                outageSeconds: outageSeconds,
                zombieSeconds: zombieSeconds,
                command: commandLine
            ).text
        )
        return checks.passed
    }

    /// A line every 5 seconds while the load runs.
    static func reportProgress(ledger: ChaosLedger, started: ContinuousClock.Instant) async {
        var previous = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(5))
            if Task.isCancelled { return }
            let (sent, answered) = ledger.counts
            let oldest = ledger.oldestUnansweredAge()
            let (events, redelivered, zedStarted, zedDone) = ledger.read { state in
                (
                    state.statusEvents, state.redelivered, state.zedStarted.count,
                    state.zedStarted.keys.count { state.trails[$0]?.status?.value == SpecTaskStatus.done.rawValue }
                )
            }
            print(
                "  [\(String(format: "%4.0f", (ContinuousClock.now - started).seconds)) s] sent \(sent) "
                    + "(+\(sent - previous) in 5 s), answered \(answered), oldest unanswered "
                    + "\(ChaosFaultInjector.format(oldest)); status events \(events) (\(redelivered) republished)"
                    + (zedStarted > 0 ? "; Zed tasks \(zedDone)/\(zedStarted) done" : "")
            )
            previous = sent
        }
    }

    /// Polls `condition` every 100 ms for up to `timeout`; returns whether it held.
    @discardableResult
    static func wait(upTo timeout: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
        return true
    }
}

/// A flag set once, read from any task.
final class ChaosFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
