import Foundation
import Kafka
import Logging
import NIOCore
import ServiceLifecycle
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker
import Synchronization

/// The dashboard's subscription to `spectask.status` and `spectask.progress`: every message becomes a
/// Server-Sent Event for the open pages, and the outcomes of the commands the dashboard published are handed to
/// the actions waiting for them.
///
/// Each dashboard process reads every partition from its end when it starts (explicit assignment, no consumer
/// group): it serves its own browsers, so any number of dashboards run side by side. The full state comes from
/// PostgreSQL (the read API); the events only say what changed, and carry the progress snapshots as they are.
public final class DashboardFeed: Service, Sendable {
    /// What a command the dashboard published came to.
    public struct Outcome: Codable, Sendable {
        public var commandID: String
        /// `applied` or `rejected`.
        public var outcome: String
        public var code: String?
        public var reason: String?
        public var createdWorkSessionIDs: [String]
    }

    private struct State {
        var subscribers: [UUID: AsyncStream<ByteBuffer>.Continuation] = [:]
        var waiters: [String: CheckedContinuation<Outcome?, Never>] = [:]
        /// Outcomes that arrived before anyone waited for them (briefly kept).
        var early: [String: Outcome] = [:]
        /// Commands whose outcome will be waited for.
        var expected: Set<String> = []
        var closed = false
    }

    private let kafka: KafkaConfiguration
    private let topics: WorkerTopics
    private let logger: Logger
    private let state = Mutex(State())
    private let started = Mutex(false)

    public init(kafka: KafkaConfiguration, topics: WorkerTopics, logger: Logger) {
        self.kafka = kafka
        self.topics = topics
        self.logger = logger
    }

    /// Whether the subscription is positioned and reading.
    public var isReading: Bool { started.withLock { $0 } }

    // MARK: - Server-Sent Events

    /// A new stream of SSE frames for one page; it ends when the page goes away or the dashboard stops.
    public func subscribe() -> AsyncStream<ByteBuffer> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(
            of: ByteBuffer.self,
            bufferingPolicy: .bufferingNewest(2000)
        )
        let closed = state.withLock { state in
            if !state.closed { state.subscribers[id] = continuation }
            return state.closed
        }
        if closed {
            continuation.finish()
        } else {
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            continuation.yield(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
        }
        return stream
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    private func broadcast(event: String, json: [UInt8]) {
        var frame = ByteBuffer()
        frame.writeString("event: \(event)\ndata: ")
        // JSON written without newlines (the encoder escapes those inside strings), so one data line.
        frame.writeBytes(json)
        frame.writeString("\n\n")
        broadcast(frame)
    }

    private func broadcast(_ frame: ByteBuffer) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(frame) }
    }

    // MARK: - Command outcomes

    /// Waits for the outcome of command `id` on `spectask.status`; `nil` after `timeout`.
    ///
    /// Call ``expect(_:)`` before publishing the command, so an outcome that comes quickly is not missed.
    public func outcome(of id: String, timeout: Duration) async -> Outcome? {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resolve(id, nil)
        }
        defer {
            timer.cancel()
            state.withLock { state in
                state.expected.remove(id)
                state.early[id] = nil
            }
        }
        return await withCheckedContinuation { continuation in
            let ready: Outcome?? = state.withLock { state in
                if let early = state.early.removeValue(forKey: id) { return .some(early) }
                if state.closed { return .some(nil) }
                state.waiters[id] = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Says an outcome for `id` will be waited for: kept if it arrives before ``outcome(of:timeout:)`` is called.
    public func expect(_ id: String) {
        state.withLock { _ = $0.expected.insert(id) }
    }

    /// Takes back ``expect(_:)`` for a command that was not published after all.
    public func forget(_ id: String) {
        state.withLock { state in
            state.expected.remove(id)
            state.early[id] = nil
        }
    }

    private func resolve(_ id: String, _ outcome: Outcome?) {
        let waiter = state.withLock { state in
            let waiter = state.waiters.removeValue(forKey: id)
            if waiter == nil, let outcome, state.expected.contains(id) { state.early[id] = outcome }
            return waiter
        }
        waiter?.resume(returning: outcome)
    }

    // MARK: - The subscription

    public func run() async throws {
        defer { closeOut() }
        let found: [KafkaTopicPartition]?
        do {
            found = try await cancelWhenGracefulShutdown { try await self.partitions() }
        } catch is CancellationError {
            return
        }
        guard let partitions = found else { return }
        let consumer = try KafkaConsumer.assigned(
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: "spectask-dashboard-\(UUID().uuidString)",
                topics: [topics.status, topics.progress],
                offsetReset: .latest
            ),
            logger: logger
        )
        let ends = try await consumer.queryHighWatermarks(partitions, timeout: .seconds(30))
        try consumer.assign(partitions.map { KafkaTopicPartitionOffset($0, offset: max(0, ends[$0] ?? 0)) })
        started.withLock { $0 = true }
        logger.info("dashboard following \(topics.status) and \(topics.progress)")
        await cancelWhenGracefulShutdown {
            var lastKeepAlive = ContinuousClock.now
            while !Task.isCancelled {
                do {
                    for case .messages(let batch) in try await consumer.poll(
                        maxMessages: 2000,
                        timeout: .milliseconds(200)
                    ) {
                        for message in batch { self.handle(message) }
                    }
                } catch is CancellationError {
                    break
                } catch {
                    self.logger.warning("dashboard feed: \(error)")
                    try? await Task.sleep(for: .seconds(1))
                }
                if ContinuousClock.now - lastKeepAlive > .seconds(15) {
                    lastKeepAlive = .now
                    self.broadcast(ByteBuffer(string: ": keep-alive\n\n"))
                }
            }
        }
        await consumer.close()
    }

    /// Ends every page's event stream and every wait for an outcome: the server can then stop.
    private func closeOut() {
        let (subscribers, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.subscribers = [:]
                state.waiters = [:]
            }
            return (Array(state.subscribers.values), Array(state.waiters.values))
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Every partition of the two topics; waits (saying so every half minute, and not ready meanwhile) while
    /// either does not exist yet, as when the dashboard starts before `spectask topics apply`. `nil` when cancelled.
    private func partitions() async throws -> [KafkaTopicPartition]? {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        var lastWarning: ContinuousClock.Instant?
        while !Task.isCancelled {
            var partitions: [KafkaTopicPartition] = []
            var missing: [String] = []
            for topic in [topics.status, topics.progress] {
                let metadata = try? await admin.describeTopic(topic, timeout: .seconds(10))
                if let metadata, metadata.partitions > 0 {
                    partitions += (0..<metadata.partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
                } else {
                    missing.append(topic)
                }
            }
            if missing.isEmpty { return partitions }
            if lastWarning.map({ ContinuousClock.now - $0 > .seconds(30) }) ?? true {
                lastWarning = .now
                logger.warning(
                    "dashboard waiting for \(missing.joined(separator: " and ")) (is the broker up? create the topics with: spectask topics apply)"
                )
            }
            try? await Task.sleep(for: .seconds(2))
        }
        return nil
    }

    /// What a browser gets for a status event: which task, what kind of change, the command it answers.
    struct Change: Encodable {
        var specTaskID: String?
        var type: String
        var correlationid: String?
        var status: String?
        var time: String?
    }

    struct ProgressChange: Encodable {
        var specTaskID: String?
        var progress: ProgressSnapshot
    }

    private func handle(_ message: KafkaConsumerMessage) {
        if message.topic == topics.progress {
            guard let (event, snapshot) = try? EventDecoder.decodeProgress(message.value) else { return }
            if let json = try? DashboardServer.compactEncoder.encode(
                ProgressChange(specTaskID: event.subject, progress: snapshot)
            ) {
                broadcast(event: "progress", json: Array(json))
            }
            return
        }
        guard let (event, status) = try? EventDecoder.decode(message.value) else { return }
        let name = String(event.type.dropFirst(StatusEvent.typePrefix.count))
        var specTaskStatus: String?
        switch status {
        case .commandApplied(let outcome)?:
            resolve(
                outcome.commandID,
                Outcome(
                    commandID: outcome.commandID,
                    outcome: "applied",
                    createdWorkSessionIDs: outcome.created.workSessionIDs
                )
            )
        case .commandRejected(let outcome)?:
            resolve(
                outcome.commandID,
                Outcome(
                    commandID: outcome.commandID,
                    outcome: "rejected",
                    code: outcome.code,
                    reason: outcome.reason,
                    createdWorkSessionIDs: []
                )
            )
        case .specTaskChanged(let change)?:
            specTaskStatus = change.to.rawValue
        default:
            break
        }
        let change = Change(
            specTaskID: event.subject,
            type: name,
            correlationid: event.correlationid,
            status: specTaskStatus,
            time: event.time
        )
        if let json = try? DashboardServer.compactEncoder.encode(change) {
            broadcast(event: "change", json: Array(json))
        }
    }
}

/// A failure to report as it is.
public struct DashboardError: Error, CustomStringConvertible, LocalizedError {
    public var description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
