import ArgumentParser
import Foundation
import Kafka
import Logging
import SpecTaskDomain
import SpecTaskWorker

/// `spectask bench --zed-events N`: how many Zed events per second the workers handle.
///
/// 1. Setup (``BenchZedSetup``): `tasks` spec tasks to implementation, each with a ready instance and an active
///    thread, the instances' runner tokens read from `zed.commands`.
/// 2. Load (``BenchZedLoad``): N events, heartbeats and thread activities mixed, round-robin over the instances,
///    in batches, as fast as possible or at `rate`.
/// 3. Measure: Zed events carry no outcome, so the workers' counters say when they are done: the sum over the
///    workers of `spectask_inputs_total` of zed.events (every outcome) and `spectask_heartbeats_coalesced_total`,
///    polled every 200 ms until it grew by N. Rate = N / (first send → the poll that saw it).
///
/// The tasks are cancelled afterwards, which stops their instances.
struct BenchZedEvents {
    let events: Int
    let tasks: Int
    let concurrency: Int
    let rate: Int?
    let timeout: Duration
    let metricsURLs: [URL]
    let topics: WorkerTopics
    let kafka: KafkaConfiguration
    let logger: Logger

    static let pollInterval = Duration.milliseconds(200)

    func run() async throws {
        let run = "bench-zed-\(UUID().uuidString.prefix(8).lowercased())"
        var metrics = BenchZedMetrics(urls: metricsURLs, zedEventsTopic: topics.zedEvents)
        let runStart = await metrics.read()
        guard !runStart.isEmpty else {
            throw CLIError(
                "none of the workers' metrics endpoints answered (\(metricsURLs.map(\.absoluteString).joined(separator: ", "))); "
                    + "--zed-events measures through them: are workers running, and is --metrics right?"
            )
        }
        let follower = try await StatusFollower.start(
            kafka: kafka,
            topics: [topics.status, topics.zedCommands, topics.rejected],
            logger: logger
        )
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: kafka, linger: .milliseconds(5)),
            logger: logger
        )
        print(
            "bench: \(events) Zed events over \(tasks) instances, "
                + (rate.map { "at \($0)/s" } ?? "as fast as possible")
                + ", topic \(topics.zedEvents); setup: \(tasks) tasks × \(BenchZedSetup.steps) commands, "
                + "at most \(concurrency) tasks in flight"
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            defer { group.cancelAll() }

            let setup = try await BenchZedSetup(
                run: run,
                tasks: tasks,
                concurrency: concurrency,
                topics: topics,
                producer: producer,
                follower: follower,
                timeout: timeout,
                logger: logger
            ).run()
            print(
                "  setup done in \(String(format: "%.2f", setup.elapsed.seconds)) s: \(tasks) instances ready, "
                    + "\(tasks) threads active"
            )

            let schedule = BenchZedSchedule(
                run: run,
                instances: setup.instances,
                count: events,
                topic: topics.zedEvents
            )
            let prepareTime = Date()
            let load = BenchZedLoad(
                schedule: schedule,
                rate: rate,
                producer: producer,
                prepared: schedule.records(0..<min(events, BenchZedLoad.preparedLimit), time: prepareTime)
            )
            let stagesBefore = await BenchStages.scrape(metricsURLs)
            let loadStart = await metrics.read()
            let measured = try await measure(load: load, metrics: metrics, since: loadStart)
            let stagesAfter = await BenchStages.scrape(metricsURLs)

            // Other senders on zed.events count too, so the target may be reached with some of ours still
            // unread: cancelling then would reject them. Wait (5 s at most) until the workers read everything.
            let settleDeadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < settleDeadline,
                BenchZedMetrics.delta(await metrics.read(), since: loadStart).zedEventsLag > 0
            {
                try await Task.sleep(for: Self.pollInterval)
            }
            let cancelled = await cleanUp(
                instances: setup.instances,
                run: run,
                producer: producer,
                follower: follower
            )
            await follower.close()

            let report = BenchZedReport(
                run: run,
                events: events,
                heartbeats: schedule.heartbeats,
                instances: tasks,
                rate: rate,
                prepared: load.prepared.count,
                setup: setup,
                sent: measured.sent,
                handledAt: measured.handledAt,
                counted: measured.counted,
                // The whole run's rejections: the setup's Zed events too.
                rejections: BenchZedMetrics.delta(measured.readings, since: runStart).rejections,
                workers: (answered: measured.readings.count, listed: metricsURLs.count),
                cancelled: cancelled
            )
            print(report.text)
            let unreachable = Set(stagesBefore.unreachable + stagesAfter.unreachable)
            if unreachable.count < metricsURLs.count {
                print("\nwhere the time went (the workers' stage histograms during the load, all workers together):")
                print(stagesAfter.stages.since(stagesBefore.stages).table(order: BenchCommand.stageOrder))
            }
            if !unreachable.isEmpty {
                print("(no metrics from \(unreachable.map(\.absoluteString).sorted().joined(separator: ", ")))")
            }
            if !report.rejections.isEmpty { throw ExitCode(1) }
        }
    }

    private struct Measured {
        var sent: BenchZedLoad.Sent
        /// First send → the poll that saw every event handled.
        var handledAt: Duration
        /// What the workers counted from just before the first send to that poll.
        var counted: BenchZedCounters
        /// Every worker's counters at that poll.
        var readings: [URL: BenchZedCounters]
    }

    private enum Finished {
        case sent(BenchZedLoad.Sent)
        case handled(Duration, BenchZedCounters, [URL: BenchZedCounters])
    }

    /// Sends the load and, at the same time, polls the workers' counters until they handled all of it.
    private func measure(
        load: BenchZedLoad,
        metrics: BenchZedMetrics,
        since loadStart: [URL: BenchZedCounters]
    ) async throws -> Measured {
        let clock = ContinuousClock()
        let progress = BenchZedLoad.Progress()
        let started = clock.now
        let deadline = started + timeout
        let target = Double(events)
        return try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask { .sent(try await load.send(started: started, progress: progress)) }
            group.addTask {
                var metrics = metrics
                var lastReport = started
                while true {
                    try await Task.sleep(for: Self.pollInterval)
                    let readings = await metrics.read()
                    let now = clock.now
                    let counted = BenchZedMetrics.delta(readings, since: loadStart)
                    if counted.handled >= target { return .handled(now - started, counted, readings) }
                    guard now < deadline else {
                        throw CLIError(
                            "timed out after \(timeout): the workers handled \(Int(counted.handled)) of \(events) "
                                + "Zed events (\(progress.sent.load(ordering: .relaxed)) sent); are all workers "
                                + "listed in --metrics?"
                        )
                    }
                    if now - lastReport >= .seconds(2) {
                        lastReport = now
                        print(
                            "  \(Int(counted.handled)) of \(events) events handled, "
                                + "\(progress.sent.load(ordering: .relaxed)) sent"
                        )
                    }
                }
            }
            defer { group.cancelAll() }
            var sent: BenchZedLoad.Sent?
            var handled: (Duration, BenchZedCounters, [URL: BenchZedCounters])?
            while sent == nil || handled == nil, let finished = try await group.next() {
                switch finished {
                case .sent(let result): sent = result
                case .handled(let at, let counted, let readings): handled = (at, counted, readings)
                }
            }
            return Measured(sent: sent!, handledAt: handled!.0, counted: handled!.1, readings: handled!.2)
        }
    }

    /// Cancels the benchmark's tasks, which stops their instances (instances left running would be timed out
    /// and failed by the workers' sweepers later on). Waits up to 30 s for the outcomes; returns how many applied.
    private func cleanUp(
        instances: [BenchZedInstance],
        run: String,
        producer: KafkaProducer,
        follower: StatusFollower
    ) async -> Int {
        var waiting = Set(instances.map { "\($0.specTaskID)-cancel" })
        let records = instances.map { instance in
            BenchDriver.record(
                (
                    instance.specTaskID, "\(instance.specTaskID)-cancel",
                    .cancel(CancelSpecTask(reason: "Zed-event benchmark \(run) finished"))
                ),
                topic: topics.commands
            )
        }
        do {
            _ = try await producer.send(records)
        } catch {
            logger.warning("could not cancel the benchmark's tasks: \(error)")
            return 0
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var applied = 0
        while !waiting.isEmpty, clock.now < deadline {
            guard let messages = try? await follower.next(timeout: .milliseconds(100)) else { break }
            for message in messages {
                guard let id = message.event.correlationid, waiting.contains(id) else { continue }
                switch message.status {
                case .commandApplied?:
                    applied += 1
                case .commandRejected(let outcome)?:
                    logger.warning("cancel of \(message.event.subject ?? "?") rejected: \(outcome.reason ?? "")")
                default:
                    continue
                }
                waiting.remove(id)
            }
        }
        return applied
    }
}

/// The block the Zed-event mode ends with: one aligned `label: value` line per fact, as ``BenchReport``.
struct BenchZedReport {
    var run: String
    var events: Int
    var heartbeats: Int
    var instances: Int
    var rate: Int?
    var prepared: Int
    var setup: BenchZedSetup.Result
    var sent: BenchZedLoad.Sent
    var handledAt: Duration
    var counted: BenchZedCounters
    var rejections: [(code: String, count: Int)]
    var workers: (answered: Int, listed: Int)
    var cancelled: Int

    var text: String {
        let lines = self.lines
        let width = (lines.map(\.label.count).max() ?? 0) + 2
        return lines.map { ($0.label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + $0.value }
            .joined(separator: "\n")
    }

    var achievedRate: Double { Double(events) / max(handledAt.seconds, 1e-9) }

    private var lines: [(label: String, value: String)] {
        let activities = events - heartbeats
        var lines: [(label: String, value: String)] = [
            (
                "settings",
                "Zed-event mode, \(events) events (\(heartbeats) heartbeats, \(activities) thread activities) "
                    + "round-robin over \(instances) instances, "
                    + (rate.map { "offered at \($0)/s" } ?? "as fast as possible")
                    + ", batches of \(BenchZedLoad.batchSize), run \(run)"
            ),
            (
                "machine",
                "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(BenchReport.machine), \(BenchReport.build)"
            ),
            (
                "setup",
                "\(setup.commands) commands and \(setup.zedEvents) Zed events (instance_ready, thread_created) in "
                    + "\(format(setup.elapsed.seconds, "%.2f")) s"
            ),
            (
                "sent",
                "\(events) events in \(format(sent.elapsed.seconds, "%.2f")) s "
                    + "(\(format(Double(events) / max(sent.elapsed.seconds, 1e-9), "%.0f"))/s, to the last acknowledgement"
                    + (prepared == events ? ", encoded before the clock started)" : ")")
            ),
        ]
        if let rate {
            // The workers kept up when they were done soon after the last event was sent: no queue built up.
            let drain = handledAt - sent.elapsed
            let verdict =
                sent.maxLag > .milliseconds(100)
                ? "NO: the bench itself sent up to \(BenchReport.milliseconds(sent.maxLag)) behind its schedule of "
                    + "\(rate)/s; lower --rate"
                : drain > max(.seconds(1), sent.elapsed / 10)
                    ? "NO: the workers were done \(format(drain.seconds, "%.2f")) s after the last event was sent: a "
                        + "queue built up, and achieved is what they managed"
                    : "yes, the workers were done \(format(max(0, drain.seconds), "%.2f")) s after the last event was sent"
            lines.append(("kept up", verdict))
        }
        let other = counted.handled - Double(events)
        lines.append(
            (
                "handled",
                "\(events) in \(format(handledAt.seconds, "%.2f")) s (first send → the workers' counters showed them "
                    + "all; polled every \(Int(BenchZedEvents.pollInterval.seconds * 1000)) ms, \(workers.answered) of "
                    + "\(workers.listed) workers answering)"
                    + (other >= 1 ? "; \(Int(other)) more counted meanwhile, from other senders on the topic" : "")
            )
        )
        lines.append(("achieved", "\(format(achievedRate, "%.0f")) Zed events/s"))
        let outcomes = ["applied", "duplicate", "rejected"].map { "\(Int(counted.zedInputs[$0] ?? 0)) \($0)" }
        lines.append(
            (
                "coalesced",
                "\(Int(counted.coalescedHeartbeats)) heartbeats "
                    + "(\(format(100 * counted.coalescedHeartbeats / Double(max(1, heartbeats)), "%.0f")) % of those "
                    + "sent); the rest: \(outcomes.joined(separator: ", "))"
            )
        )
        lines.append(
            (
                "rejected",
                rejections.isEmpty
                    ? "0"
                    : "\(rejections.map(\.count).reduce(0, +)) ("
                        + rejections.map { "\($0.code): \($0.count)" }.joined(separator: ", ")
                        + "; see spectask.rejected)"
            )
        )
        lines.append(("cleanup", "\(cancelled) of \(instances) tasks cancelled, their instances stopped"))
        return lines
    }

    private func format(_ value: Double, _ format: String) -> String { String(format: format, value) }
}
