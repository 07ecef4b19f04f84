import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import Synchronization

/// The mixed stream the Zed-event benchmark sends: round-robin over the instances, one event per instance per
/// round; even rounds are heartbeats, odd rounds thread activities, so every instance alternates between the two
/// and each kind is half of the stream (give or take one round).
///
/// Each event is keyed by its spec task id and carries its instance's runner token, as a runner sends it.
struct BenchZedSchedule: Sendable {
    let run: String
    let instances: [BenchZedInstance]
    let count: Int
    let topic: String

    private var rounds: Int { (count + instances.count - 1) / instances.count }

    func isHeartbeat(_ index: Int) -> Bool { index / instances.count % 2 == 0 }

    /// How many of the `count` events are heartbeats.
    var heartbeats: Int {
        let fullRounds = count / instances.count
        let rest = count % instances.count
        return (fullRounds + 1) / 2 * instances.count + (fullRounds % 2 == 0 ? rest : 0)
    }

    /// The Kafka records of events `range`, stamped with `time`.
    func records(_ range: Range<Int>, time: Date) -> [KafkaProducerRecord] {
        range.map { record($0, time: time) }
    }

    func record(_ index: Int, time: Date) -> KafkaProducerRecord {
        let instance = instances[index % instances.count]
        let round = index / instances.count
        // The thread's progress climbs with its activities, to 99 at the last one (the thread never completes).
        let activity = round / 2
        let progress = min(99, (activity + 1) * 99 / max(1, rounds / 2))
        let event: ZedEvent
        if isHeartbeat(index) {
            event = .heartbeat(
                ZedHeartbeat(
                    instanceID: instance.instanceID,
                    cpuPercent: 5 + round % 40,
                    memoryMB: 400 + round % 100,
                    threads: [
                        ZedHeartbeat.Thread(workSessionID: instance.workSessionID, status: .active, progress: progress)
                    ]
                )
            )
        } else {
            let kind = Self.kinds[activity % Self.kinds.count]
            let edits = kind == .codeEdit || kind == .fileCreate
            event = .threadActivity(
                ZedThreadActivity(
                    instanceID: instance.instanceID,
                    workSessionID: instance.workSessionID,
                    kind: kind,
                    summary: "bench \(kind.rawValue) \(activity + 1)",
                    filesChanged: edits ? 1 : nil,
                    linesAdded: edits ? 12 : nil,
                    linesRemoved: kind == .codeEdit ? 3 : nil,
                    testsRun: kind == .testRun ? 8 : nil,
                    testsPassed: kind == .testRun ? 8 : nil,
                    progress: progress,
                    tokensIn: 200,
                    tokensOut: 60,
                    costMicros: 350
                )
            )
        }
        return KafkaProducerRecord(
            topic: topic,
            key: Array(instance.specTaskID.utf8),
            value: CommandEncoder.encode(
                id: "\(run)-e\(index)",
                specTaskID: instance.specTaskID,
                source: BenchZedLoad.source,
                event: event,
                runnerToken: instance.runnerToken,
                time: time
            )
        )
    }

    private static let kinds: [ZedThreadActivity.Kind] = [.codeEdit, .fileCreate, .codeEdit, .testRun, .gitCommit]
}

/// Sends a schedule's events in batches of ``batchSize`` (one `producer.send` each), several batches in flight:
/// as fast as the producer takes them, or at `rate` events/s.
struct BenchZedLoad {
    static let source = "spectask-bench"
    /// Events per `producer.send`.
    static let batchSize = 2_000
    /// Up to this many events are encoded before the clock starts, so the bench's own JSON encoding is not
    /// measured as the workers' slowness; a longer run encodes each batch just before sending it.
    static let preparedLimit = 200_000

    let schedule: BenchZedSchedule
    let rate: Int?
    let producer: KafkaProducer
    /// Encoded before the clock started: the first `prepared.count` events.
    let prepared: [KafkaProducerRecord]

    struct Sent {
        /// First send → last delivery report.
        var elapsed: Duration
        /// With a rate: how far behind its schedule an event was sent, at worst.
        var maxLag: Duration
    }

    /// How many events have been handed to the producer, for progress lines.
    final class Progress: Sendable {
        let sent = Atomic<Int>(0)
    }

    /// Sends every event; `started` is the instant the measurement counts from.
    func send(started: ContinuousClock.Instant, progress: Progress) async throws -> Sent {
        let clock = ContinuousClock()
        // Enough batches in flight that waiting for one batch's acknowledgements never idles the producer; with a
        // rate, enough that a slow acknowledgement does not hold back the schedule.
        let maxInFlight = rate == nil ? 4 : 64
        var maxLag = Duration.zero
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            var inFlight = 0
            while next < schedule.count {
                var end = min(schedule.count, next + Self.batchSize)
                if let rate {
                    // Due by the clock, not by counting slices: a slow send is caught up in the next slice.
                    let due = min(schedule.count, Int((clock.now - started).seconds * Double(rate)) + 1)
                    guard due > next else {
                        try await Task.sleep(for: .milliseconds(5))
                        continue
                    }
                    end = min(end, due)
                    maxLag = max(maxLag, clock.now - (started + .seconds(Double(next) / Double(rate))))
                }
                let records =
                    end <= prepared.count
                    ? Array(prepared[next..<end]) : schedule.records(next..<end, time: Date())
                if inFlight == maxInFlight {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { _ = try await producer.send(records) }
                inFlight += 1
                progress.sent.add(end - next, ordering: .relaxed)
                next = end
            }
            try await group.waitForAll()
        }
        return Sent(elapsed: clock.now - started, maxLag: maxLag)
    }
}
