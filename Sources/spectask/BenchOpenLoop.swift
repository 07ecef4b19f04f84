import Foundation
import Kafka
import Logging
import SpecTaskDomain
import SpecTaskWorker
import Synchronization

/// The order an open-loop run sends its commands in.
///
/// Tasks go in windows of `window`; inside a window, round-robin one step at a time. So a task's consecutive
/// commands are `window` sends apart instead of back to back, and the system sees many tasks at once, as in the
/// closed loop.
struct BenchSchedule {
    let run: String
    let tasks: Int
    let window: Int

    var count: Int { tasks * BenchDriver.steps }

    /// The `index`th command to send, 0 ..< count.
    func item(_ index: Int) -> BenchItem {
        let perWindow = window * BenchDriver.steps
        let first = index / perWindow * window  // 0-based number of the window's first task
        let size = min(window, tasks - first)  // the last window may be short
        let offset = index % perWindow
        return BenchDriver.command(for: "\(run)-\(first + offset % size + 1)", step: offset / size)
    }
}

/// Sends a schedule at a fixed offered rate whatever the outcomes, and times each command's send → outcome.
///
/// Sending runs in its own task so that waiting for delivery reports never delays reading outcomes (which would
/// inflate the latencies), and reading never delays sending (which would lower the offered rate).
struct BenchOpenLoop {
    let schedule: BenchSchedule
    let rate: Int
    let topic: String
    let producer: KafkaProducer
    let follower: StatusFollower
    let timeout: Duration
    let logger: Logger

    /// How often the sender wakes up: small enough that the rate is smooth, not bursts.
    static let slice = Duration.milliseconds(5)

    func run() async throws -> BenchResult {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        let pending = PendingCommands()
        async let sending = send(pending: pending, started: started)

        var latencies: [Duration] = []
        var rejected = 0
        var firstOutcome: ContinuousClock.Instant?
        var lastOutcome = started
        var peakInFlight = 0
        var lastReport = started
        while latencies.count < schedule.count {
            // The sender's error is only rethrown when it is awaited, so it is passed on here, not after the timeout.
            if let failure = pending.failure { throw CLIError("sending failed: \(failure)") }
            guard clock.now < deadline else {
                throw CLIError(
                    "timed out after \(timeout) with \(latencies.count) of \(schedule.count) outcomes; are workers running?"
                )
            }
            for message in try await follower.next(timeout: .milliseconds(20), onlyOutcomes: true) {
                let rejection: CommandOutcome?
                switch message.status {
                case .commandApplied?: rejection = nil
                case .commandRejected(let outcome)?: rejection = outcome
                default: continue  // a change the command caused, not its outcome
                }
                // Not ours when nothing is pending under its id: another sender's command on the same topic.
                guard let id = message.event.correlationid, let sent = pending.take(id) else { continue }
                if let rejection {
                    rejected += 1
                    logger.warning("rejected: \(rejection.reason ?? "")")
                }
                lastOutcome = clock.now
                firstOutcome = firstOutcome ?? lastOutcome
                latencies.append(lastOutcome - sent)
            }
            peakInFlight = max(peakInFlight, pending.count)
            if clock.now - lastReport > .seconds(2) {
                lastReport = clock.now
                print("  \(latencies.count) of \(schedule.count) commands done, \(peakInFlight) in flight at most")
            }
        }
        let sent = try await sending
        // Achieved rate between the first and the last outcome: the send → outcome latency at both ends is not
        // slowness, and counting it would mark a short run that keeps up as one that does not.
        let outcomeSpan = (firstOutcome.map { lastOutcome - $0 } ?? .zero).seconds
        return BenchResult(
            latencies: latencies,
            rejected: rejected,
            elapsed: lastOutcome - started,
            achievedRate: outcomeSpan > 0 ? Double(latencies.count - 1) / outcomeSpan : Double(latencies.count),
            openLoop: .init(
                offeredRate: rate,
                sentRate: Double(schedule.count) / max(sent.elapsed.seconds, 1e-3),
                maxSendLag: sent.maxLag,
                peakInFlight: peakInFlight
            )
        )
    }

    /// Sends, every slice, the commands due by then: command `i` is due `i / rate` seconds after `started`.
    private func send(
        pending: PendingCommands,
        started: ContinuousClock.Instant
    ) async throws -> (elapsed: Duration, maxLag: Duration) {
        let clock = ContinuousClock()
        var next = 0
        var maxLag = Duration.zero
        while next < schedule.count {
            // Due by the clock, not by counting slices: a slow send is caught up in the next slice, not lost.
            let due = min(schedule.count, Int((clock.now - started).seconds * Double(rate)) + 1)
            if due > next {
                let items = (next..<due).map(schedule.item)
                let now = clock.now
                maxLag = max(maxLag, now - (started + .seconds(Double(next) / Double(rate))))
                pending.add(items.map(\.id), at: now)
                do {
                    _ = try await producer.send(items.map { BenchDriver.record($0, topic: topic) })
                } catch {
                    pending.failure = "\(error)"
                    throw error
                }
                next = due
            }
            if next < schedule.count { try await Task.sleep(for: Self.slice) }
        }
        return (clock.now - started, maxLag)
    }
}

/// Send instants of the commands whose outcome has not arrived: written by the sender, taken by the reader.
private final class PendingCommands: Sendable {
    private let sentAt = Mutex<[String: ContinuousClock.Instant]>([:])
    private let sendFailure = Mutex<String?>(nil)

    /// Why sending stopped, if it failed.
    var failure: String? {
        get { sendFailure.withLock { $0 } }
        set { sendFailure.withLock { $0 = newValue } }
    }

    var count: Int { sentAt.withLock { $0.count } }

    func add(_ ids: [String], at instant: ContinuousClock.Instant) {
        sentAt.withLock { sentAt in
            for id in ids { sentAt[id] = instant }
        }
    }

    func take(_ id: String) -> ContinuousClock.Instant? { sentAt.withLock { $0.removeValue(forKey: id) } }
}
