import Foundation
import Kafka
import Logging
import ServiceLifecycle
import SpecTaskStore
import Tracing

/// Reads the input topics batch by batch and applies each batch through the `BatchApplier`.
///
/// Ownership: on assignment the worker claims its partitions in PostgreSQL (a new generation per partition);
/// a batch only commits if its partitions' generations are still this worker's, so a worker that lost a
/// partition can not apply anything for it afterwards.
///
/// The loop never goes deaf to its consumer group: every database call runs in a task of its own, and while it
/// takes longer than a moment the loop pauses its partitions and keeps polling (so rebalances are served and the
/// broker's `max.poll.interval.ms` is never exceeded); a call that takes longer than `databaseTimeout` is abandoned
/// and retried. When a claim or a batch fails, the partitions stay paused and the same messages are retried with
/// backoff until PostgreSQL answers again; nothing is skipped, nothing applied twice. A fenced batch is dropped
/// (its partitions belong to another worker).
public struct IngestService: Service {
    let consumer: KafkaConsumer
    let applier: BatchApplier
    let settings: WorkerSettings
    let workerID: String
    let metrics: WorkerMetrics
    let sweepScope: SweepScope
    let doorbell: RelayDoorbell
    let health: WorkerHealth
    /// `nil` without a tracer: then no span is started.
    let tracer: (any Tracer)?
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
        doorbell: RelayDoorbell = RelayDoorbell(),
        health: WorkerHealth = WorkerHealth(),
        tracer: (any Tracer)? = WorkerTracing.bootstrappedTracer,
        logger: Logger
    ) {
        self.consumer = consumer
        self.applier = applier
        self.settings = settings
        self.workerID = workerID
        self.metrics = metrics
        self.sweepScope = sweepScope
        self.doorbell = doorbell
        self.health = health
        self.tracer = tracer
        self.logger = logger
    }

    public func run() async throws {
        logger.info("joining the consumer group", metadata: ["kafka.topics": "\(settings.inputTopics)"])
        var state = State()
        // Graceful shutdown is checked between batches: a batch being applied is finished first.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            health.loopTurned()
            let idle = state.pending.isEmpty && state.unclaimed.isEmpty
            let events: [KafkaConsumerEvent]
            do {
                let started = ContinuousClock.now
                let tracedSince = tracer.map { _ in DefaultTracerClock.now }
                events = try await consumer.poll(
                    maxMessages: settings.maxBatchSize,
                    timeout: idle || state.retryAt != nil ? .milliseconds(100) : .zero
                )
                if idle { metrics.record(.pollWait, .now - started) }
                if let tracer, let tracedSince { tracePoll(events, since: tracedSince, tracer: tracer) }
            } catch let error as KafkaError where error.code == .clientClosed {
                break
            }
            try handle(events, &state)
            if let retryAt = state.retryAt, ContinuousClock.now < retryAt { continue }
            try await claimNewPartitions(&state)
            try await applyPending(&state)
            state.warnIfUnassigned(logger: logger, group: settings.groupID)
            let lag = (try? consumer.lag()) ?? [:]
            reportStalls(&state, lag: lag)
            metrics.recordOwnership(state.generations.count, lag: lag)
            health.recordOwnership(state.generations.count + state.unclaimed.count)
            sweepScope.set(state.retryAt == nil ? caughtUpZedPartitions(state, lag: lag) : [])
        }
        sweepScope.set([])
        await commitPositions(state)
        logger.info("ingest stopped")
    }

    /// Commits the position of every partition this worker still owns and waits for the answer, so the next owner
    /// starts where this one stopped (the commits during the run are not awaited).
    private func commitPositions(_ state: State) async {
        let positions = state.generations.keys.compactMap { partition in
            state.appliedUpTo[partition].map { KafkaTopicPartitionOffset(partition, offset: $0) }
        }
        do {
            try await consumer.commit(positions.sorted { $0.topicPartition < $1.topicPartition })
        } catch {
            logger.warning("committing offsets to Kafka at shutdown failed: \(error)")
        }
    }

    /// A span `kafka.poll` for a poll that returned messages (the many empty polls of an idle worker make none).
    private func tracePoll(_ events: [KafkaConsumerEvent], since: DefaultTracerClock.Instant, tracer: any Tracer) {
        let count = events.reduce(0) { count, event in
            if case .messages(let batch) = event { return count + batch.count }
            return count
        }
        guard count > 0 else { return }
        let span = tracer.startSpan("kafka.poll", context: .topLevel, ofKind: .consumer, at: since)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.consumer.group.name"] = settings.groupID
        span.attributes["messaging.batch.message_count"] = count
        span.end()
    }

    // MARK: - Consumer events

    private func handle(_ events: [KafkaConsumerEvent], _ state: inout State) throws {
        for event in events {
            switch event {
            case .partitionsAssigned(let partitions):
                state.unclaimed.formUnion(partitions)
                // Nothing is read from a partition before it is claimed, nor while the database is failing.
                try? consumer.pause(partitions)
                state.paused.formUnion(partitions)
                logger.info("assigned partitions", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            case .partitionsRevoked(let partitions):
                let revoked = Set(partitions)
                for partition in partitions {
                    state.generations[partition] = nil
                    state.appliedUpTo[partition] = nil
                    state.ownedSince[partition] = nil
                }
                state.unclaimed.subtract(revoked)
                state.paused.subtract(revoked)
                // Their messages belong to the new owner, who reads them from the offsets stored in PostgreSQL.
                state.pending.removeAll { revoked.contains($0.topicPartition) }
                logger.info("released partitions", metadata: ["kafka.partitions": "\(partitions.sorted())"])
                if state.generations.isEmpty && state.unclaimed.isEmpty {
                    state.waitingSince = .now
                    state.warned = false
                }
            case .messages(let batch):
                state.pending += batch
                for message in batch { state.fetched.insert(message.topicPartition) }
            }
        }
    }

    /// While a database call takes long: partitions paused (nothing more is fetched), the group served.
    private func serveGroup(_ state: inout State) async throws {
        health.loopTurned()
        let unpaused = Set(state.generations.keys).union(state.unclaimed).subtracting(state.paused)
        if !unpaused.isEmpty {
            try? consumer.pause(Array(unpaused))
            state.paused.formUnion(unpaused)
        }
        try handle(try await consumer.poll(maxMessages: settings.maxBatchSize, timeout: .zero), &state)
    }

    private func resumeAll(_ state: inout State) {
        let owned = state.paused.intersection(state.generations.keys).subtracting(state.stopped)
        guard !owned.isEmpty else { return }
        try? consumer.resume(Array(owned))
        state.paused.subtract(owned)
    }

    // MARK: - Database work

    private func claimNewPartitions(_ state: inout State) async throws {
        guard !state.unclaimed.isEmpty else { return }
        let partitions = state.unclaimed.sorted()
        let applier = self.applier
        let workerID = self.workerID
        do {
            let claims = try await awaitServing(
                "claiming partitions",
                timeout: settings.databaseTimeout,
                { try await applier.claims(partitions, owner: workerID) },
                whileWaiting: { try await serveGroup(&state) }
            )
            // A partition revoked while the claim ran is not this worker's any more.
            for (partition, claim) in claims where state.unclaimed.contains(partition) {
                state.generations[partition] = claim.generation
                state.appliedUpTo[partition] = claim.nextOffset
                state.ownedSince[partition] = .now
                state.unclaimed.remove(partition)
            }
            logger.info("owning partitions", metadata: ["kafka.partitions": "\(partitions)"])
            succeeded(&state)
        } catch {
            failed("claiming partitions failed", error, &state)
        }
    }

    private func applyPending(_ state: inout State) async throws {
        // A partition fenced off is another worker's now (the group will revoke it): its messages are not ours.
        state.pending.removeAll {
            state.generations[$0.topicPartition] == nil && !state.unclaimed.contains($0.topicPartition)
        }
        stopRecreatedPartitions(&state)
        // Messages of a partition still being claimed wait for its generation.
        let generations = state.generations
        let batch = Array(
            state.pending.lazy.filter { generations[$0.topicPartition] != nil }.prefix(settings.maxBatchSize)
        )
        guard !batch.isEmpty else {
            if state.unclaimed.isEmpty { resumeAll(&state) }
            return
        }
        let applier = self.applier
        do {
            let report = try await awaitServing(
                "applying a batch of \(batch.count) messages",
                timeout: settings.databaseTimeout,
                { try await applier.apply(batch, generations: generations) },
                whileWaiting: { try await serveGroup(&state) }
            )
            doorbell.ring(report.outboxShards)
            metrics.recordBatch(report)
            state.appliedUpTo.merge(report.nextOffsets) { max($0, $1) }
            let applied = Set(batch.map { MessagePosition($0) })
            state.pending.removeAll { applied.contains(MessagePosition($0)) }
            logger.debug(
                "batch applied",
                metadata: [
                    "batch.applied": "\(report.applied)", "batch.rejected": "\(report.rejected)",
                    "batch.duplicates": "\(report.duplicates)",
                ]
            )
            succeeded(&state)
            if state.pending.isEmpty && state.unclaimed.isEmpty { resumeAll(&state) }
            // PostgreSQL holds the truth; the Kafka commit only tells the group where a new owner starts reading, so
            // the next batch does not wait for its answer (a lost one means some messages are read again and
            // skipped). The last positions are committed and awaited at shutdown.
            do {
                let started = ContinuousClock.now
                try consumer.commitWithoutWaiting(
                    report.nextOffsets.map { KafkaTopicPartitionOffset($0.key, offset: $0.value) }
                )
                metrics.record(.kafkaCommit, .now - started)
            } catch {
                logger.warning("committing offsets to Kafka failed: \(error)")
            }
        } catch let fenced as ConsumerOffsetStore.Fenced {
            // Another worker owns that partition now: its messages are the new owner's. The transaction was rolled
            // back, so the other partitions' messages are applied again without it.
            metrics.recordFenced()
            logger.warning("\(fenced.description)")
            let partition = KafkaTopicPartition(topic: fenced.topic, partition: fenced.partition)
            state.generations[partition] = nil
            state.pending.removeAll { $0.topicPartition == partition }
        } catch {
            failed("applying a batch failed; retrying the same batch", error, &state, batchSize: batch.count)
        }
    }

    /// A partition whose log ends before the offset PostgreSQL says was applied was re-created (or truncated): its
    /// new messages would be skipped as applied, silently. Such a partition is stopped, loudly, until an operator
    /// re-syncs it (`spectask offsets reset`, then a restart of the workers).
    private func stopRecreatedPartitions(_ state: inout State) {
        let candidates = Set(state.pending.map(\.topicPartition)).subtracting(state.stopped)
        guard !candidates.isEmpty else { return }
        for (partition, end) in consumer.fetchedHighWatermarks(Array(candidates)) {
            guard let applied = state.appliedUpTo[partition], end < applied else { continue }
            state.stopped.insert(partition)
            state.generations[partition] = nil
            state.pending.removeAll { $0.topicPartition == partition }
            try? consumer.pause([partition])
            state.paused.insert(partition)
            health.recordStopped(partition, reason: "log ends at \(end), before offset \(applied) applied earlier")
            logger.error(
                """
                stopped \(partition): its log ends at offset \(end) but PostgreSQL says offsets up to \(applied - 1) were \
                applied; the topic was re-created or truncated, and its new messages would be skipped as applied. \
                Re-sync with `spectask offsets reset --group \(settings.groupID) --yes`, then restart the workers.
                """
            )
        }
    }

    private func succeeded(_ state: inout State) {
        if state.retryAt != nil {
            logger.info("the database answers again; applying", metadata: ["pending": "\(state.pending.count)"])
        }
        state.retryAt = nil
        state.backoff.reset()
        health.recordDatabase(failure: nil)
    }

    private func failed(_ message: String, _ error: any Error, _ state: inout State, batchSize: Int? = nil) {
        // Heartbeats wait unapplied while this fails: no instance may be timed out meanwhile.
        sweepScope.set([])
        metrics.recordFailedAttempt()
        health.recordDatabase(failure: "\(error)")
        let owned = Set(state.generations.keys).union(state.unclaimed).subtracting(state.paused)
        if !owned.isEmpty {
            try? consumer.pause(Array(owned))
            state.paused.formUnion(owned)
        }
        let delay = state.backoff.next()
        state.retryAt = .now + delay
        var metadata: Logger.Metadata = ["error": "\(String(reflecting: error))", "retry.in": "\(delay)"]
        if let batchSize { metadata["batch.size"] = "\(batchSize)" }
        logger.error("\(message)", metadata: metadata)
    }

    /// Says on `/ready` and in the log when the broker stops serving partitions this worker reads.
    private func reportStalls(_ state: inout State, lag: [KafkaTopicPartition: Int64]) {
        let reading = Set(state.generations.keys).subtracting(state.paused).subtracting(state.stopped)
        let stalled = state.stalls.observe(lag: lag, fetched: state.fetched, reading: reading, now: .now)
        state.fetched.removeAll(keepingCapacity: true)
        let partitions = Set(stalled.keys)
        if partitions != state.reportedStalls {
            for partition in partitions.subtracting(state.reportedStalls).sorted() {
                logger.warning(
                    "the broker serves nothing from \(partition) although \(stalled[partition]!) messages wait",
                    metadata: ["quiet.for": "\(state.stalls.threshold)"]
                )
            }
            for partition in state.reportedStalls.subtracting(partitions).sorted() {
                logger.info("\(partition) is served again")
            }
            state.reportedStalls = partitions
        }
        health.recordStalled(stalled)
    }

    /// The owned `zed.events` partitions with nothing left to read or apply.
    private func caughtUpZedPartitions(_ state: State, lag: [KafkaTopicPartition: Int64]) -> Set<Int32> {
        let now = ContinuousClock.now
        // Read but not applied yet (a backlog after an outage, more than one batch): the consumer's position is past
        // these heartbeats, so the lag says 0, but the sweeper must not judge an instance by heartbeats still here.
        let unapplied = Set(state.pending.map(\.topicPartition))
        return Set(
            state.generations.keys.filter { partition in
                guard partition.topic == settings.topics.zedEvents, !unapplied.contains(partition) else { return false }
                if let behind = lag[partition] { return behind == 0 }
                return state.ownedSince[partition].map { now - $0 > Self.quietPartitionDelay } ?? false
            }
            .map(\.partition)
        )
    }

    struct State {
        /// Claimed partitions and their generations: only these are applied.
        var generations: [KafkaTopicPartition: Int64] = [:]
        /// Per claimed partition, the next offset to apply as PostgreSQL knows it.
        var appliedUpTo: [KafkaTopicPartition: Int64] = [:]
        /// Partitions stopped because their log ends before what was applied (re-created topics).
        var stopped: Set<KafkaTopicPartition> = []
        /// Assigned by the group, not yet claimed in PostgreSQL.
        var unclaimed: Set<KafkaTopicPartition> = []
        var paused: Set<KafkaTopicPartition> = []
        /// Read and not yet applied, in the order read.
        var pending: [KafkaConsumerMessage] = []
        /// Set after a failed database call: no new attempt before then.
        var retryAt: ContinuousClock.Instant?
        var backoff = Backoff()
        var ownedSince: [KafkaTopicPartition: ContinuousClock.Instant] = [:]
        var waitingSince = ContinuousClock.now
        var warned = false
        /// Partitions a message was fetched from since the last check for stalls.
        var fetched: Set<KafkaTopicPartition> = []
        var stalls = StalledPartitions()
        var reportedStalls: Set<KafkaTopicPartition> = []

        mutating func warnIfUnassigned(logger: Logger, group: String) {
            guard generations.isEmpty, unclaimed.isEmpty, !warned,
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
}

/// Where a message was read: identifies it among those read.
private struct MessagePosition: Hashable {
    var partition: KafkaTopicPartition
    var offset: Int64

    init(_ message: KafkaConsumerMessage) {
        partition = message.topicPartition
        offset = message.offset
    }
}
