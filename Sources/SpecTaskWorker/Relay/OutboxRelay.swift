import Kafka
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import Tracing

/// Publishes the outbox: reads committed rows in order, sends them, deletes them once the broker acknowledged.
///
/// Every worker runs one, and they work side by side: the outbox is split into shards by spec task
/// (``OutboxShards``), and a relay publishes a shard only while holding its lock, so one task's messages leave in
/// the order they were written while different shards leave in parallel. A relay is woken at once by its own
/// worker's commits (``RelayDoorbell``) and publishes the shards they wrote; every `sweepInterval` it also looks
/// for rows nobody announced (another worker's that crashed, the heartbeat sweeper's).
///
/// Nothing can stall it: a message the broker refuses for good (too large, illegal topic, not authorised) moves to
/// `dead_letters` with the reason, is counted and logged once, and the messages behind it go on. Other failures
/// are retried with backoff; what the broker already acknowledged is deleted and not sent again. A crash between
/// sending and deleting publishes those messages again: consumers dedupe by event id (at-least-once).
public struct OutboxRelay: Service {
    let client: PostgresClient
    let producer: KafkaProducer
    let outbox: OutboxStore
    let doorbell: RelayDoorbell
    let batchSize: Int
    let sweepInterval: Duration
    /// A pass that takes longer is abandoned (the database or the broker hangs), so shutdown is never held up.
    let callTimeout: Duration
    let metrics: WorkerMetrics
    /// `nil` without a tracer: then no span is started.
    let tracer: (any Tracer)?
    let logger: Logger

    /// - Parameter tracer: Reports a span per relay pass; the bootstrapped one by default, `nil` for none.
    public init(
        client: PostgresClient,
        producer: KafkaProducer,
        doorbell: RelayDoorbell = RelayDoorbell(),
        batchSize: Int = 1_000,
        sweepInterval: Duration = .milliseconds(250),
        callTimeout: Duration = .seconds(30),
        metrics: WorkerMetrics = WorkerMetrics(),
        tracer: (any Tracer)? = WorkerTracing.bootstrappedTracer,
        logger: Logger
    ) {
        self.client = client
        self.producer = producer
        self.outbox = OutboxStore(logger: logger)
        self.doorbell = doorbell
        self.batchSize = batchSize
        self.sweepInterval = sweepInterval
        self.callTimeout = callTimeout
        self.metrics = metrics
        self.tracer = tracer
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Backoff()
        // Shards to publish before waiting again: those rung, those another relay held, those with a failure.
        var due: Set<Int32> = Set(OutboxShards.all)
        var nextSweep = ContinuousClock.now
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let rung = await doorbell.wait(upTo: due.isEmpty ? max(.zero, nextSweep - .now) : .zero)
            due.formUnion(rung.shards)
            if let since = rung.since { metrics.record(.relayWait, .now - since) }
            do {
                if ContinuousClock.now >= nextSweep {
                    let outbox = self.outbox
                    let client = self.client
                    due.formUnion(
                        try await awaitServing(
                            "looking for outbox rows",
                            timeout: callTimeout,
                            { try await outbox.waitingShards(client: client) },
                            whileWaiting: {}
                        )
                    )
                    nextSweep = .now + sweepInterval
                }
                let shards = due
                due = try await awaitServing(
                    "publishing the outbox",
                    timeout: callTimeout,
                    { try await publish(shards) },
                    whileWaiting: {}
                )
                backoff.reset()
                // Shards held by another relay are tried again shortly, not spun on.
                if !due.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
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
        let last = due.union(await doorbell.wait(upTo: .zero).shards)
        _ = try? await awaitServing(
            "a last outbox pass",
            timeout: .seconds(5),
            { try await publish(last) },
            whileWaiting: {}
        )
        logger.debug("outbox relay stopped")
    }

    /// Publishes `shards` until they are empty or held by another relay.
    /// - Returns: The shards still due: held by another relay, or with messages left after a failure that may pass.
    /// - Throws: database errors, and a Kafka error when a message failed in a way that may pass.
    @discardableResult
    public func publish(_ shards: Set<Int32>) async throws -> Set<Int32> {
        var remaining = shards
        var busy: Set<Int32> = []
        while !remaining.isEmpty {
            let pass = try await publishOnce(remaining)
            busy.formUnion(remaining.subtracting(pass.lockedShards))
            guard pass.full else { break }
            remaining = pass.lockedShards
        }
        return busy
    }

    /// One pass: publishes up to `batchSize` messages of those of `shards` no other relay holds.
    public func publishOnce(_ shards: Set<Int32>) async throws -> OutboxRelayPass {
        let metrics = self.metrics
        let tracer = self.tracer
        let pass = try await outbox.relay(shards: shards, limit: batchSize, client: client) { messages in
            let started = ContinuousClock.now
            defer { metrics.record(.relayPublish, .now - started) }
            let span = tracer.map { Self.publishSpan(messages, tracer: $0) }
            defer { span?.end() }
            let results = await producer.sendEach(
                messages.map { message in
                    // A row written without headers (older build, or moved back from dead_letters) gets them from
                    // its payload, so every record carries the CloudEvents Kafka binding's headers.
                    let headers = message.headers ?? KafkaBinding.structuredHeaders(ofEncoded: message.payload)
                    return KafkaProducerRecord(
                        topic: message.topic,
                        key: message.key.map { Array($0.utf8) },
                        value: message.payload,
                        headers: headers.map(KafkaHeader.init)
                    )
                }
            )
            let deliveries = results.map { result -> OutboxDelivery in
                switch result {
                case .success: return .delivered
                case .failure(let error) where error.isPermanentForRecord:
                    return .refused(code: "\(error.code)", reason: error.message)
                case .failure(let error):
                    return .failed(reason: error.message)
                }
            }
            if let span {
                span.attributes["spectask.delivered"] = deliveries.count(where: { $0 == .delivered })
                if deliveries.contains(where: { $0 != .delivered }) { span.setStatus(SpanStatus(code: .error)) }
            }
            return deliveries
        }
        metrics.recordPublished(pass.delivered)
        for letter in pass.deadLettered {
            metrics.recordDeadLetter()
            logger.error(
                "the broker refused an outbox message for good; moved it to dead_letters",
                metadata: [
                    "outbox.id": "\(letter.id)", "kafka.topic": "\(letter.topic)", "kafka.key": "\(letter.key ?? "")",
                    "bytes": "\(letter.size)", "code": "\(letter.code)", "reason": "\(letter.reason)",
                ]
            )
        }
        if let reason = pass.firstFailure {
            throw RelayFailure(
                message: "\(pass.failed) outbox messages were not delivered (kept for a retry): \(reason)"
            )
        }
        return pass
    }
}

extension OutboxRelay {
    /// A span `spectask.publish` for one relay pass, linked to the trace context of every message that has one (the
    /// context each output carries, a child of its input's).
    fileprivate static func publishSpan(_ messages: [OutboxMessage], tracer: any Tracer) -> any Span {
        let span = tracer.startSpan("spectask.publish", context: .topLevel, ofKind: .producer)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.batch.message_count"] = messages.count
        for message in messages {
            guard let trace = message.headers.flatMap(TraceContext.extract(headers:)) else { continue }
            span.addLink(SpanLink(context: trace.serviceContext(using: tracer), attributes: [:]))
        }
        return span
    }
}

/// Some messages of a relay pass failed in a way that may pass; they stay in the outbox.
struct RelayFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
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
