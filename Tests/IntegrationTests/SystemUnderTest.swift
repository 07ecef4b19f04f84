import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker
import Synchronization
import Testing

/// A private copy of the whole system for one test: its own topics (a unique prefix), its own consumer group,
/// real `spectask worker` processes, and a listener on the output topics.
final class SystemUnderTest: Sendable {
    let prefix: String
    let group: String
    let topics: WorkerTopics
    /// Extra environment of every `spectask` process this system starts (e.g. `POSTGRES_URL` of a private database).
    let environment: [String: String]
    /// The admin port of the workers; `nil`: each picks a free one.
    let adminPort: Int?
    private let workers: Mutex<[WorkerProcessTests.Child]>
    private let producer: KafkaProducer
    private let producerTask: Task<Void, any Error>
    let status: TopicListener
    let zedCommands: TopicListener
    let rejected: TopicListener
    let progress: TopicListener

    private init(
        prefix: String,
        group: String,
        producer: KafkaProducer,
        producerTask: Task<Void, any Error>,
        listeners: [TopicListener],
        environment: [String: String],
        adminPort: Int?
    ) {
        self.prefix = prefix
        self.group = group
        self.topics = WorkerTopics(prefix: prefix)
        self.environment = environment
        self.adminPort = adminPort
        self.workers = Mutex([])
        self.producer = producer
        self.producerTask = producerTask
        self.status = listeners[0]
        self.zedCommands = listeners[1]
        self.rejected = listeners[2]
        self.progress = listeners[3]
    }

    /// Creates the topics, starts `workers` worker processes and waits until the input partitions are owned.
    ///
    /// - Parameters:
    ///   - environment: Added to the environment of every `spectask` process (migrate, workers).
    ///   - adminPort: The workers' admin port (one worker only: two can not share it); by default each picks a free one.
    static func start(
        workers count: Int = 1,
        extraWorkerArguments: [String] = [],
        environment: [String: String] = [:],
        adminPort: Int? = nil,
        adminPorts: [Int] = []
    ) async throws -> SystemUnderTest {
        let prefix = TestEnvironment.unique("e2e") + "."
        let group = TestEnvironment.unique("workers")
        let migrated = try await WorkerProcessTests.run(["migrate"], environment: environment)
        guard migrated.status == 0 else { throw TimedOut(what: "migrating: \(migrated.output)") }
        let applied = try await WorkerProcessTests.run([
            "topics", "apply", "--topic-prefix", prefix, "--topics-dir", WorkerProcessTests.repositoryPath("topics"),
        ])
        guard applied.status == 0 else { throw TimedOut(what: "creating topics: \(applied.output)") }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: TestEnvironment.kafka),
            logger: TestEnvironment.logger
        )
        let producerTask = Task { try await producer.run() }
        let topics = WorkerTopics(prefix: prefix)
        var listeners: [TopicListener] = []
        for topic in [topics.status, topics.zedCommands, topics.rejected, topics.progress] {
            listeners.append(try await TopicListener.start(topic: topic))
        }
        let system = SystemUnderTest(
            prefix: prefix,
            group: group,
            producer: producer,
            producerTask: producerTask,
            listeners: listeners,
            environment: environment,
            adminPort: adminPort
        )
        for index in 0..<count {
            try system.startWorker(
                extraArguments: extraWorkerArguments,
                adminPort: index < adminPorts.count ? adminPorts[index] : nil
            )
        }
        for worker in system.workers.withLock({ $0 }) {
            try await worker.waitForOutput(containing: "owning partitions", timeout: .seconds(90))
        }
        return system
    }

    @discardableResult
    func startWorker(extraArguments: [String] = [], adminPort: Int? = nil) throws -> WorkerProcessTests.Child {
        let worker = try WorkerProcessTests.Child(
            [
                "worker", "--topic-prefix", prefix, "--group-id", group,
                "--admin", "127.0.0.1:\(adminPort ?? self.adminPort ?? 0)",
                "--log-level", "debug",
            ] + extraArguments,
            environment: environment
        )
        workers.withLock { $0.append(worker) }
        return worker
    }

    var workerProcesses: [WorkerProcessTests.Child] { workers.withLock { $0 } }

    /// Stops workers (SIGTERM) and listeners.
    func stop() async {
        for worker in workers.withLock({ $0 }) where worker.process.isRunning {
            worker.process.terminate()
            _ = try? await worker.waitForExit(timeout: .seconds(20))
        }
        for listener in [status, zedCommands, rejected, progress] { await listener.stop() }
        producerTask.cancel()
    }

    // MARK: - Input

    /// Sends a command and returns its id.
    @discardableResult
    func send(_ command: SpecTaskCommand, task: String, id: String = UUID().uuidString) async throws -> String {
        let bytes = CommandEncoder.encode(
            id: id,
            specTaskID: task,
            actor: "tests",
            source: "integration-tests",
            command: command
        )
        try await sendRaw(bytes, key: task)
        return id
    }

    /// Sends many messages in one go, awaiting every delivery; messages with one key keep their order.
    func sendAll(_ messages: [(key: String?, value: [UInt8])]) async throws {
        _ = try await producer.send(
            messages.map {
                KafkaProducerRecord(topic: topics.commands, key: $0.key.map { Array($0.utf8) }, value: $0.value)
            }
        )
    }

    func sendRaw(_ bytes: [UInt8], key: String?, topic: String? = nil, headers: [KafkaHeader] = []) async throws {
        try await producer.send(
            KafkaProducerRecord(
                topic: topic ?? topics.commands,
                key: key.map { Array($0.utf8) },
                value: bytes,
                headers: headers
            )
        )
    }

    // MARK: - Output

    /// Waits for the outcome (applied or rejected) of a command.
    func outcome(of commandID: String, timeout: Duration = .seconds(60)) async throws -> StatusEvent {
        let message = try await status.wait(timeout: timeout, "the outcome of command \(commandID)") { message in
            message.event.correlationid == commandID
                && [StatusEvent.typePrefix + "command_applied", StatusEvent.typePrefix + "command_rejected"].contains(
                    message.event.type
                )
        }
        return try #require(message.status)
    }

    /// Sends a command and waits for it to be applied; fails with the reason when it was rejected.
    @discardableResult
    func apply(
        _ command: SpecTaskCommand,
        task: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CommandOutcome {
        let id = try await send(command, task: task)
        switch try await outcome(of: id) {
        case .commandApplied(let outcome): return outcome
        case .commandRejected(let outcome):
            Issue.record("\(command.name) was rejected: \(outcome.reason ?? "")", sourceLocation: sourceLocation)
            return outcome
        default: throw TimedOut(what: "an outcome event")
        }
    }
}

/// Everything published on one topic since the listener started, decoded.
final class TopicListener: Sendable {
    struct Message: Sendable {
        var raw: KafkaConsumerMessage
        var event: CloudEvent
        var status: StatusEvent?
    }

    private final class Store: Sendable {
        let messages = Mutex<[Message]>([])
        let undecodable = Mutex<Int>(0)
    }

    private let consumer: KafkaConsumer
    private let store = Store()
    private let task: Task<Void, Never>

    /// Reads every partition of `topic` from its beginning, by explicit assignment: no consumer group, so no session
    /// that can time out on a busy machine and no rebalance that would deliver everything a second time.
    static func start(topic: String) async throws -> TopicListener {
        let admin = try KafkaAdmin(configuration: TestEnvironment.kafka, logger: TestEnvironment.logger)
        let partitions = try #require(
            try await admin.describeTopic(topic, timeout: .seconds(30))?.partitions,
            "topic \(topic) does not exist"
        )
        var configuration = TestEnvironment.consumerConfiguration(
            group: TestEnvironment.unique("listener"),
            topics: [topic]
        )
        // Dozens of listeners run at once in a test run: 50 ms keeps their empty fetches from loading the broker.
        configuration.fetchWaitMax = .milliseconds(50)
        let consumer = try KafkaConsumer.assigned(configuration: configuration, logger: TestEnvironment.logger)
        try consumer.assign(
            (0..<partitions).map {
                KafkaTopicPartitionOffset(topic: topic, partition: $0, offset: KafkaTopicPartitionOffset.beginning)
            }
        )
        return TopicListener(consumer: consumer)
    }

    private init(consumer: KafkaConsumer) {
        let store = self.store
        self.consumer = consumer
        task = Task {
            while !Task.isCancelled, !consumer.isClosed {
                guard let events = try? await consumer.poll(timeout: .milliseconds(100)) else { continue }
                for case .messages(let batch) in events {
                    let decoded = batch.compactMap { raw -> Message? in
                        if let (event, status) = try? EventDecoder.decode(raw.value) {
                            return Message(raw: raw, event: event, status: status)
                        }
                        // Not a status event (a zed command, a rejected record): keep the envelope only.
                        guard let event = try? JSONDecoder().decode(CloudEvent.self, from: Data(raw.value)) else {
                            store.undecodable.withLock { $0 += 1 }
                            return nil
                        }
                        return Message(raw: raw, event: event, status: nil)
                    }
                    store.messages.withLock { $0 += decoded }
                }
            }
        }
    }

    var messages: [Message] { store.messages.withLock { $0 } }

    /// How many messages were not even a CloudEvent (and so are not in `messages`).
    var undecodableCount: Int { store.undecodable.withLock { $0 } }

    func wait(timeout: Duration, _ what: String, _ predicate: (Message) -> Bool) async throws -> Message {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = messages.first(where: predicate) { return found }
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func waitForCount(
        _ count: Int,
        timeout: Duration,
        _ what: String,
        _ predicate: (Message) -> Bool
    ) async throws -> [Message] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = messages.filter(predicate)
            if found.count >= count { return found }
            guard ContinuousClock.now < deadline else {
                throw TimedOut(what: "waiting for \(count) × \(what); got \(found.count)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() async {
        task.cancel()
        await consumer.close()
    }
}
