import Kafka
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskStore

/// Publishes the outbox: reads committed rows in order, sends them, deletes them once the broker acknowledged.
///
/// One relay works at a time across all workers (an advisory lock), so the messages of one task leave in the
/// order they were written. A crash between sending and deleting publishes a batch again: consumers dedupe
/// by event id and per-task sequence (at-least-once).
public struct OutboxRelay: Service {
    let client: PostgresClient
    let producer: KafkaProducer
    let outbox: OutboxStore
    let batchSize: Int
    let idleInterval: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    public init(
        client: PostgresClient,
        producer: KafkaProducer,
        batchSize: Int = 500,
        idleInterval: Duration = .milliseconds(20),
        metrics: WorkerMetrics = WorkerMetrics(),
        logger: Logger
    ) {
        self.client = client
        self.producer = producer
        self.outbox = OutboxStore(logger: logger)
        self.batchSize = batchSize
        self.idleInterval = idleInterval
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Backoff()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let published = try await publishOnce()
                metrics.recordPublished(published ?? 0)
                backoff.reset()
                if (published ?? 0) < batchSize { try await Task.sleep(for: idleInterval) }
            } catch is CancellationError {
                break
            } catch {
                let delay = backoff.next()
                logger.error(
                    "publishing the outbox failed; retrying",
                    metadata: ["error": "\(String(reflecting: error))", "retry.in": "\(delay)"]
                )
                try? await Task.sleep(for: delay)
            }
        }
        // One last pass so what the ingest committed before shutdown is not left waiting for the next start.
        _ = try? await publishOnce()
        logger.debug("outbox relay stopped")
    }

    /// Publishes one batch. Returns how many messages went out, or `nil` when another relay is at work.
    @discardableResult
    public func publishOnce() async throws -> Int? {
        try await outbox.relay(limit: batchSize, client: client) { messages in
            _ = try await producer.send(
                messages.map {
                    KafkaProducerRecord(topic: $0.topic, key: $0.key.map { Array($0.utf8) }, value: $0.payload)
                }
            )
        }
    }
}

/// Exponential backoff with a cap: 100 ms, 200 ms, … 5 s.
struct Backoff {
    private var attempt = 0

    mutating func next() -> Duration {
        defer { attempt += 1 }
        return .milliseconds(min(5_000, 100 << min(attempt, 6)))
    }

    mutating func reset() { attempt = 0 }
}
