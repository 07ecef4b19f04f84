import Kafka
import Metrics
import Prometheus
import Synchronization

// swift-metrics' types (the API recorded with); swift-prometheus has types of the same names.
private typealias Counter = Metrics.Counter
private typealias Gauge = Metrics.Gauge
private typealias Timer = Metrics.Timer

/// The measurements of one worker, recorded with swift-metrics and served in the Prometheus text format on
/// `GET /metrics` by swift-prometheus.
///
/// Each worker has a registry of its own (no process-wide bootstrap), so tests can run several side by side.
/// Names follow Prometheus conventions: base units (`_seconds`), `_total` for counters, and labels for what varies
/// (topic, outcome, rejection code, stage) rather than one metric name per case.
public final class WorkerMetrics: Sendable {
    /// Where a batch's time goes, in the order it is spent. Each is a histogram of
    /// `spectask_stage_duration_seconds{stage=…}`.
    public enum Stage: String, CaseIterable, Sendable {
        /// The ingest loop blocked in the consumer's poll waiting for messages.
        case pollWait = "poll_wait"
        /// Decoding and validating the batch's messages.
        case decode
        /// The batch's first statement: locking the partitions' offset rows (fencing), claiming the inputs' ids in the
        /// inbox and taking the spec tasks' advisory locks.
        case intake
        /// Locking and loading the spec tasks' rows.
        case load
        /// The decision function, every message of the batch.
        case decide
        /// Writing the changed states, coordination log, outbox and offsets (one statement).
        case persist
        /// The whole batch transaction, from taking a connection to the end of the commit.
        case transaction
        /// Handing the offsets to librdkafka after the transaction (committed in the background).
        case kafkaCommit = "kafka_commit"
        /// From a batch's commit until the relay starts publishing what it wrote.
        case relayWait = "relay_wait"
        /// The relay producing a pass's messages and awaiting every acknowledgement.
        case relayPublish = "relay_publish"
    }

    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    private let batches: Counter
    private let fencedBatches: Counter
    private let failedAttempts: Counter
    private let published: Counter
    private let deadLetters: Counter
    private let coalescedHeartbeats: Counter
    /// Per kind of timeout (`ready`, `heartbeat`, `fail_after`).
    private let instanceTimeouts: [InstanceTimeout: Counter]
    private let ownedPartitions: Gauge
    private let stages: [Stage: Timer]
    private let inputs = Mutex<[String: Counter]>([:])
    private let rejections = Mutex<[String: Counter]>([:])
    private let lags = Mutex<[KafkaTopicPartition: Gauge]>([:])

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Finer than the default at the low end: a healthy stage takes a few milliseconds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.registry = registry
        self.factory = factory
        batches = Counter(label: "spectask_batches_total", factory: factory)
        fencedBatches = Counter(label: "spectask_batches_fenced_total", factory: factory)
        failedAttempts = Counter(label: "spectask_batch_attempts_failed_total", factory: factory)
        published = Counter(label: "spectask_outbox_published_total", factory: factory)
        deadLetters = Counter(label: "spectask_outbox_dead_letters_total", factory: factory)
        coalescedHeartbeats = Counter(label: "spectask_heartbeats_coalesced_total", factory: factory)
        instanceTimeouts = Self.perCase { timeout in
            Counter(
                label: "spectask_instance_timeouts_total",
                dimensions: [("timeout", timeout.rawValue)],
                factory: factory
            )
        }
        ownedPartitions = Gauge(label: "spectask_partitions_owned", factory: factory)
        stages = Self.perCase { stage in
            Timer(label: "spectask_stage_duration_seconds", dimensions: [("stage", stage.rawValue)], factory: factory)
        }
        ownedPartitions.record(0)
    }

    /// One metric per case of `Key` (a label value each).
    private static func perCase<Key: CaseIterable & Hashable, Metric>(_ make: (Key) -> Metric) -> [Key: Metric] {
        Dictionary(uniqueKeysWithValues: Key.allCases.map { ($0, make($0)) })
    }

    func recordBatch(_ report: BatchApplier.Report) {
        batches.increment()
        for (topic, counts) in report.inputsByTopic {
            increment(inputs, "spectask_inputs_total", [("topic", topic), ("outcome", "applied")], by: counts.applied)
            increment(
                inputs,
                "spectask_inputs_total",
                [("topic", topic), ("outcome", "rejected")],
                by: counts.rejected
            )
            increment(
                inputs,
                "spectask_inputs_total",
                [("topic", topic), ("outcome", "duplicate")],
                by: counts.duplicates
            )
        }
        for (code, count) in report.rejectionsByCode {
            increment(rejections, "spectask_inputs_rejected_total", [("code", code)], by: count)
        }
        if report.coalescedHeartbeats > 0 { coalescedHeartbeats.increment(by: Int64(report.coalescedHeartbeats)) }
        for (stage, duration) in report.stageDurations { record(stage, duration) }
    }

    func record(_ stage: Stage, _ duration: Duration) {
        stages[stage]?.recordNanoseconds(duration.nanoseconds)
    }

    /// The timeouts the heartbeat sweepers fire, by what went quiet.
    enum InstanceTimeout: String, CaseIterable, Sendable {
        /// A pending instance whose runner never reported it ready.
        case ready
        /// A ready instance with no heartbeat for the heartbeat timeout: disconnected.
        case heartbeat
        /// A disconnected instance with no heartbeat since: failed.
        case failAfter = "fail_after"
    }

    func recordInstanceTimeout(_ timeout: InstanceTimeout) { instanceTimeouts[timeout]?.increment() }
    func recordFenced() { fencedBatches.increment() }
    func recordFailedAttempt() { failedAttempts.increment() }
    func recordPublished(_ count: Int) { if count > 0 { published.increment(by: Int64(count)) } }
    func recordDeadLetter() { deadLetters.increment() }

    func recordOwnership(_ partitions: Int, lag: [KafkaTopicPartition: Int64]) {
        ownedPartitions.record(partitions)
        lags.withLock { gauges in
            for (partition, behind) in lag {
                let gauge =
                    gauges[partition]
                    ?? Gauge(
                        label: "spectask_consumer_lag",
                        dimensions: [("topic", partition.topic), ("partition", "\(partition.partition)")],
                        factory: factory
                    )
                gauges[partition] = gauge
                gauge.record(behind)
            }
            // A partition given away is not behind here any more.
            for (partition, gauge) in gauges where lag[partition] == nil { gauge.record(0) }
        }
    }

    /// The Prometheus text exposition format.
    public func render() -> String { registry.emitToString() }

    private func increment(
        _ counters: borrowing Mutex<[String: Counter]>,
        _ label: String,
        _ dimensions: [(String, String)],
        by amount: Int
    ) {
        let key = dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let counter = counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let counter = Counter(label: label, dimensions: dimensions, factory: factory)
            counters[key] = counter
            return counter
        }
        if amount > 0 { counter.increment(by: Int64(amount)) }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for swift-metrics timers.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : product + attoseconds / 1_000_000_000
    }
}
