import Kafka
import Synchronization

/// What the ingest loop reports about itself, for `GET /health` (liveness) and `GET /ready` (readiness).
///
/// Liveness says only whether the loop still turns: a worker whose database is down is alive (it waits, serves its
/// consumer group and retries), and restarting it would not help. Readiness says whether it is doing its work.
public final class WorkerHealth: Sendable {
    private struct Values {
        var started = ContinuousClock.now
        var lastTurn = ContinuousClock.now
        var partitions = 0
        var databaseFailure: String?
        var stopped: [String: String] = [:]
        var stalled: [KafkaTopicPartition: Int64] = [:]
    }

    private let values = Mutex(Values())

    /// A loop that has not turned for this long is stuck: `/health` fails.
    public let livenessTimeout: Duration
    /// After this long without any partition, `/ready` says so.
    public let assignmentGrace: Duration

    public init(livenessTimeout: Duration = .seconds(30), assignmentGrace: Duration = .seconds(60)) {
        self.livenessTimeout = livenessTimeout
        self.assignmentGrace = assignmentGrace
    }

    func loopTurned() { values.withLock { $0.lastTurn = .now } }
    func recordOwnership(_ partitions: Int) { values.withLock { $0.partitions = partitions } }
    func recordDatabase(failure: String?) { values.withLock { $0.databaseFailure = failure } }
    func recordStopped(_ partition: KafkaTopicPartition, reason: String) {
        values.withLock { $0.stopped["\(partition)"] = reason }
    }
    /// Owned partitions with messages waiting that the broker has not served for a while (`StalledPartitions`).
    func recordStalled(_ partitions: [KafkaTopicPartition: Int64]) { values.withLock { $0.stalled = partitions } }

    /// Why the worker is not alive, or `nil` when it is.
    public func livenessProblem(now: ContinuousClock.Instant = .now) -> String? {
        let silent = now - values.withLock { $0.lastTurn }
        guard silent > livenessTimeout else { return nil }
        return "the ingest loop has not turned for \(silent) (limit \(livenessTimeout))"
    }

    /// Why the worker is not doing its work, or `nil` when it is (PostgreSQL is checked separately).
    public func readinessProblem(now: ContinuousClock.Instant = .now) -> String? {
        let v = values.withLock { $0 }
        if let failure = v.databaseFailure { return "applying input fails (retrying): \(failure)" }
        if !v.stopped.isEmpty {
            let partitions = v.stopped.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
            return "stopped partitions, re-created topics? \(partitions.joined(separator: ", ")); "
                + "re-sync with spectask offsets reset, then restart the workers"
        }
        if !v.stalled.isEmpty {
            let partitions = v.stalled.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) messages behind)" }
            return "the broker serves nothing from \(partitions.joined(separator: ", ")) although messages wait; "
                + "is the broker healthy?"
        }
        if v.partitions == 0, now - v.started > assignmentGrace {
            return "owns no input partitions (other workers own them all, or the group can not assign them)"
        }
        return nil
    }
}
