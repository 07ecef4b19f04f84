import Foundation
import Kafka
import Logging
import ServiceLifecycle
import SpecTaskStore

/// Reads the input topics batch by batch and applies each batch through the `BatchApplier`.
///
/// Ownership: on assignment the worker claims its partitions in PostgreSQL (a new generation per partition);
/// a batch only commits if its partitions' generations are still this worker's, so a worker that lost a
/// partition can not apply anything for it afterwards.
///
/// Failures: a fenced batch is dropped (its partitions belong to another worker); any other failure pauses the
/// partitions and retries the same batch with backoff, while still polling so rebalances are served. No message
/// is skipped.
public struct IngestService: Service {
    let consumer: KafkaConsumer
    let applier: BatchApplier
    let settings: WorkerSettings
    let workerID: String
    let metrics: WorkerMetrics
    let sweepScope: SweepScope
    let logger: Logger

    /// How long a partition with nothing read since it was assigned must be owned before it counts as read to
    /// the end: a backlog would have been delivered by then (and would have made the position known).
    static let quietPartitionDelay = Duration.seconds(5)

    /// How long to wait for partitions before saying so in the log.
    static let assignmentWarningDelay = Duration.seconds(30)

    public init(
        consumer: KafkaConsumer,
        applier: BatchApplier,
        settings: WorkerSettings,
        workerID: String,
        metrics: WorkerMetrics = WorkerMetrics(),
        sweepScope: SweepScope = SweepScope(),
        logger: Logger
    ) {
        self.consumer = consumer
        self.applier = applier
        self.settings = settings
        self.workerID = workerID
        self.metrics = metrics
        self.sweepScope = sweepScope
        self.logger = logger
    }

    public func run() async throws {
        logger.info("joining the consumer group", metadata: ["kafka.topics": "\(settings.inputTopics)"])
        var state = State()
        // Graceful shutdown is checked between batches: a batch being applied is finished first.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let events: [KafkaConsumerEvent]
            do {
                events = try await consumer.poll(maxMessages: settings.maxBatchSize, timeout: .milliseconds(100))
            } catch let error as KafkaError where error.code == .clientClosed {
                break
            }
            for event in events {
                try await handle(event, &state)
            }
            state.warnIfUnassigned(logger: logger, group: settings.groupID)
            let lag = (try? consumer.lag()) ?? [:]
            metrics.recordOwnership(state.generations.count, lag: lag)
            sweepScope.set(caughtUpZedPartitions(state, lag: lag))
        }
        sweepScope.set([])
        logger.info("ingest stopped")
    }

    /// The owned `zed.events` partitions with nothing left to read.
    private func caughtUpZedPartitions(_ state: State, lag: [KafkaTopicPartition: Int64]) -> Set<Int32> {
        let now = ContinuousClock.now
        return Set(
            state.generations.keys.filter { partition in
                guard partition.topic == settings.topics.zedEvents else { return false }
                if let behind = lag[partition] { return behind == 0 }
                return state.ownedSince[partition].map { now - $0 > Self.quietPartitionDelay } ?? false
            }
            .map(\.partition)
        )
    }

    struct State {
        var generations: [KafkaTopicPartition: Int64] = [:]
        var ownedSince: [KafkaTopicPartition: ContinuousClock.Instant] = [:]
        var waitingSince = ContinuousClock.now
        var warned = false

        mutating func warnIfUnassigned(logger: Logger, group: String) {
            guard generations.isEmpty, !warned,
                ContinuousClock.now - waitingSince > IngestService.assignmentWarningDelay
            else { return }
            warned = true
            logger.warning(
                """
                no partitions assigned yet; other workers may own them all, or the group is stuck rebalancing \
                (seen with Tansu: restart the broker or use a fresh --group-id)
                """,
                metadata: ["kafka.group": "\(group)", "waited": "\(IngestService.assignmentWarningDelay)"]
            )
        }
    }

    private func handle(_ event: KafkaConsumerEvent, _ state: inout State) async throws {
        switch event {
        case .partitionsAssigned(let partitions):
            var backoff = Backoff()
            while true {
                do {
                    state.generations.merge(try await applier.claim(partitions, owner: workerID)) { $1 }
                    for partition in partitions { state.ownedSince[partition] = .now }
                    break
                } catch {
                    let delay = backoff.next()
                    logger.error(
                        "claiming partitions failed; retrying",
                        metadata: ["error": "\(String(reflecting: error))", "retry.in": "\(delay)"]
                    )
                    try await Task.sleep(for: delay)
                }
            }
            logger.info("owning partitions", metadata: ["kafka.partitions": "\(partitions.sorted())"])
        case .partitionsRevoked(let partitions):
            for partition in partitions {
                state.generations[partition] = nil
                state.ownedSince[partition] = nil
            }
            logger.info("released partitions", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            if state.generations.isEmpty {
                state.waitingSince = .now
                state.warned = false
            }
        case .messages(let batch):
            try await apply(batch, &state)
        }
    }

    private func apply(_ batch: [KafkaConsumerMessage], _ state: inout State) async throws {
        var pending = batch
        var backoff = Backoff()
        var paused: [KafkaTopicPartition] = []
        defer { if !paused.isEmpty { try? consumer.resume(paused) } }
        while !pending.isEmpty {
            do {
                let report = try await applier.apply(pending, generations: state.generations)
                metrics.recordBatch(report)
                logger.debug(
                    "batch applied",
                    metadata: [
                        "batch.applied": "\(report.applied)", "batch.rejected": "\(report.rejected)",
                        "batch.duplicates": "\(report.duplicates)",
                    ]
                )
                do {
                    try await consumer.commit(
                        report.nextOffsets.map { KafkaTopicPartitionOffset($0.key, offset: $0.value) }
                    )
                } catch {
                    // PostgreSQL holds the truth; a failed Kafka commit only means some messages are read again and skipped.
                    logger.warning("committing offsets to Kafka failed: \(error)")
                }
                return
            } catch let fenced as ConsumerOffsetStore.Fenced {
                // Another worker owns that partition now: its messages are the new owner's. The transaction was rolled
                // back, so the other partitions' messages are applied again without it.
                metrics.recordFenced()
                logger.warning("\(fenced.description)")
                let partition = KafkaTopicPartition(topic: fenced.topic, partition: fenced.partition)
                state.generations[partition] = nil
                pending.removeAll { $0.topicPartition == partition }
                continue
            } catch {
                // Heartbeats wait unapplied while this fails: no instance may be timed out meanwhile.
                sweepScope.set([])
                if paused.isEmpty {
                    paused = Array(state.generations.keys)
                    try? consumer.pause(paused)
                }
                metrics.recordFailedAttempt()
                let delay = backoff.next()
                logger.error(
                    "applying a batch failed; retrying the same batch",
                    metadata: [
                        "error": "\(String(reflecting: error))", "retry.in": "\(delay)",
                        "batch.size": "\(pending.count)",
                    ]
                )
                try await Task.sleep(for: delay)
                // Keep serving the group while waiting: a revoked partition's messages belong to its new owner.
                for event in try await consumer.poll(maxMessages: 1, timeout: .milliseconds(10)) {
                    switch event {
                    case .messages(let early):
                        // A partition assigned meanwhile is not paused: put its position back so nothing is skipped.
                        try? await consumer.seek(
                            early.map { KafkaTopicPartitionOffset($0.topicPartition, offset: $0.offset) }
                        )
                    default:
                        try await handle(event, &state)
                    }
                }
                let unpaused = state.generations.keys.filter { !paused.contains($0) }
                if !unpaused.isEmpty {
                    try? consumer.pause(Array(unpaused))
                    paused += unpaused
                }
                pending.removeAll { state.generations[$0.topicPartition] == nil }
            }
        }
    }
}
