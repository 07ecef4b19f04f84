import Kafka
import Synchronization

/// Counters and gauges of one worker, served as Prometheus text on `GET /metrics`.
public final class WorkerMetrics: Sendable {
    private struct Values {
        var batches = 0
        var applied = 0
        var rejected = 0
        var duplicates = 0
        var fencedBatches = 0
        var failedAttempts = 0
        var published = 0
        var deadLetters = 0
        var ownedPartitions = 0
        var coalescedHeartbeats = 0
        var unauthenticated = 0
        var heartbeatTimeouts = 0
        var lag: [KafkaTopicPartition: Int64] = [:]
    }

    private let values = Mutex(Values())

    public init() {}

    func recordBatch(_ report: BatchApplier.Report) {
        values.withLock {
            $0.batches += 1
            $0.applied += report.applied
            $0.rejected += report.rejected
            $0.duplicates += report.duplicates
            $0.coalescedHeartbeats += report.coalescedHeartbeats
            $0.unauthenticated += report.unauthenticated
        }
    }

    func recordHeartbeatTimeouts(_ count: Int) { values.withLock { $0.heartbeatTimeouts += count } }
    func recordFenced() { values.withLock { $0.fencedBatches += 1 } }
    func recordFailedAttempt() { values.withLock { $0.failedAttempts += 1 } }
    func recordPublished(_ count: Int) { values.withLock { $0.published += count } }
    func recordDeadLetter() { values.withLock { $0.deadLetters += 1 } }

    func recordOwnership(_ partitions: Int, lag: [KafkaTopicPartition: Int64]) {
        values.withLock {
            $0.ownedPartitions = partitions
            $0.lag = lag
        }
    }

    /// The Prometheus text exposition format.
    public func render() -> String {
        let v = values.withLock { $0 }
        var lines = [
            "# HELP spectask_batches_total Poll batches applied (one transaction each).",
            "# TYPE spectask_batches_total counter", "spectask_batches_total \(v.batches)",
            "# HELP spectask_commands_applied_total Commands applied.",
            "# TYPE spectask_commands_applied_total counter", "spectask_commands_applied_total \(v.applied)",
            "# HELP spectask_inputs_rejected_total Inputs rejected (to spectask.rejected).",
            "# TYPE spectask_inputs_rejected_total counter", "spectask_inputs_rejected_total \(v.rejected)",
            "# HELP spectask_inputs_duplicate_total Inputs skipped because they were applied before.",
            "# TYPE spectask_inputs_duplicate_total counter", "spectask_inputs_duplicate_total \(v.duplicates)",
            "# HELP spectask_batches_fenced_total Batches dropped because another worker owns the partition now.",
            "# TYPE spectask_batches_fenced_total counter", "spectask_batches_fenced_total \(v.fencedBatches)",
            "# HELP spectask_batch_attempts_failed_total Failed attempts to apply a batch (retried with backoff).",
            "# TYPE spectask_batch_attempts_failed_total counter",
            "spectask_batch_attempts_failed_total \(v.failedAttempts)",
            "# HELP spectask_outbox_published_total Outbox messages published by this worker's relay.",
            "# TYPE spectask_outbox_published_total counter", "spectask_outbox_published_total \(v.published)",
            "# HELP spectask_outbox_dead_letters_total Outbox messages the broker refused for good (moved to dead_letters).",
            "# TYPE spectask_outbox_dead_letters_total counter",
            "spectask_outbox_dead_letters_total \(v.deadLetters)",
            "# HELP spectask_heartbeats_coalesced_total Heartbeats superseded by a later one in the same batch.",
            "# TYPE spectask_heartbeats_coalesced_total counter",
            "spectask_heartbeats_coalesced_total \(v.coalescedHeartbeats)",
            "# HELP spectask_zed_events_unauthenticated_total Zed events rejected for a missing or wrong runner token.",
            "# TYPE spectask_zed_events_unauthenticated_total counter",
            "spectask_zed_events_unauthenticated_total \(v.unauthenticated)",
            "# HELP spectask_heartbeat_timeouts_total Zed instances this worker's sweeper disconnected or failed.",
            "# TYPE spectask_heartbeat_timeouts_total counter",
            "spectask_heartbeat_timeouts_total \(v.heartbeatTimeouts)",
            "# HELP spectask_partitions_owned Input partitions this worker owns.",
            "# TYPE spectask_partitions_owned gauge", "spectask_partitions_owned \(v.ownedPartitions)",
            "# HELP spectask_consumer_lag Messages not yet read, per owned partition.",
            "# TYPE spectask_consumer_lag gauge",
        ]
        for (partition, lag) in v.lag.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "spectask_consumer_lag{topic=\"\(partition.topic)\",partition=\"\(partition.partition)\"} \(lag)"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
