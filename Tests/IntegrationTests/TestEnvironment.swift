import Foundation
import Kafka
import Logging
import PostgresNIO
import SpecTaskStore
import SpecTaskWorker

/// Where the real services are. `scripts/test` exports these; the defaults match `scripts/services up`.
/// A missing service fails the test that needs it, loudly: nothing is skipped.
enum TestEnvironment {
    static let bootstrapServers = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] ?? "127.0.0.1:19092"

    static var kafka: KafkaConfiguration {
        KafkaConfiguration(
            bootstrapServers: bootstrapServers.split(separator: ",").map(String.init),
            clientID: "spectask-tests"
        )
    }

    static let logger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel =
            ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// A name no other test run uses: the broker keeps topics and groups for its whole life.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(12).lowercased())"
    }

    /// Creates a fresh topic, failing with a clear message when the broker is not reachable.
    static func makeTopic(_ prefix: String, partitions: Int32 = 1) async throws -> String {
        let name = unique(prefix)
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        do {
            _ = try await admin.createTopics(
                [KafkaTopicSpecification(name: name, partitions: partitions)],
                timeout: .seconds(15)
            )
        } catch {
            throw ServiceUnavailable(
                what: "Kafka broker at \(bootstrapServers)",
                hint: "start it with scripts/services up, or point KAFKA_BOOTSTRAP_SERVERS at one",
                underlying: error
            )
        }
        return name
    }

    static func consumerConfiguration(group: String, topics: [String]) -> KafkaConsumerConfiguration {
        // Small timeouts: Tansu holds a join until the rebalance timeout (max.poll.interval.ms) passes.
        KafkaConsumerConfiguration(
            common: kafka,
            groupID: group,
            topics: topics,
            sessionTimeout: .seconds(6),
            maxPollInterval: .seconds(10)
        )
    }
}

struct ServiceUnavailable: Error, CustomStringConvertible {
    var what: String
    var hint: String
    var underlying: any Error
    var description: String { "\(what) is not reachable (\(underlying)); \(hint)" }
}

/// Runs `body` with a producer whose delivery reports are served, then shuts the producer down.
func withProducer<T: Sendable>(_ body: @Sendable (KafkaProducer) async throws -> T) async throws -> T {
    let producer = try KafkaProducer(
        configuration: KafkaProducerConfiguration(common: TestEnvironment.kafka),
        logger: TestEnvironment.logger
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await producer.run() }
        defer { group.cancelAll() }
        return try await body(producer)
    }
}

/// Polls until `predicate` holds for everything received so far, or fails after `timeout`.
func pollUntil(
    _ consumer: KafkaConsumer,
    timeout: Duration = .seconds(60),
    _ predicate: ([KafkaConsumerMessage]) -> Bool
) async throws -> (messages: [KafkaConsumerMessage], events: [KafkaConsumerEvent]) {
    var messages: [KafkaConsumerMessage] = []
    var events: [KafkaConsumerEvent] = []
    let deadline = ContinuousClock.now + timeout
    while !predicate(messages) {
        guard ContinuousClock.now < deadline else {
            throw TimedOut(what: "waiting for messages; got \(messages.count) so far, events: \(events)")
        }
        for event in try await consumer.poll(timeout: .milliseconds(200)) {
            events.append(event)
            if case .messages(let batch) = event { messages += batch }
        }
    }
    return (messages, events)
}

/// Reads `topic` from its beginning, in a consumer group of its own, until `predicate` holds for everything received.
func pollTopic(
    _ topic: String,
    timeout: Duration = .seconds(60),
    until predicate: ([KafkaConsumerMessage]) -> Bool
) async throws -> [KafkaConsumerMessage] {
    let consumer = try KafkaConsumer(
        configuration: TestEnvironment.consumerConfiguration(group: TestEnvironment.unique("poll"), topics: [topic]),
        logger: TestEnvironment.logger
    )
    defer { Task { await consumer.close() } }
    return try await pollUntil(consumer, timeout: timeout, predicate).messages
}

/// One pass of an outbox relay over every shard, with a producer of its own.
func relayOnce(_ client: PostgresClient) async throws -> OutboxRelayPass {
    try await withProducer { producer in
        try await OutboxRelay(client: client, producer: producer, logger: TestEnvironment.logger)
            .publishOnce(Set(OutboxShards.all))
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out \(what)" }
}

// MARK: - PostgreSQL

extension TestEnvironment {
    static var database: DatabaseConfiguration {
        get throws { try ServiceEnvironment.database(ProcessInfo.processInfo.environment) }
    }

    /// Runs `body` with a client connected to a database created for this call alone, dropped afterwards.
    static func withFreshDatabase<T: Sendable>(
        _ body: @Sendable (PostgresClient, DatabaseConfiguration) async throws -> T
    ) async throws -> T {
        let base = try database
        let name = "test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await withClient(base) { admin in
            do {
                try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            } catch {
                throw ServiceUnavailable(
                    what: "PostgreSQL at \(base)",
                    hint:
                        "start it with scripts/services up, or point POSTGRES_URL at one whose user may CREATE DATABASE",
                    underlying: error
                )
            }
        }
        let fresh = {
            var copy = base
            copy.database = name
            return copy
        }()
        let result: Result<T, any Error>
        do {
            result = .success(try await withClient(fresh) { try await body($0, fresh) })
        } catch {
            result = .failure(error)
        }
        _ = try? await withClient(base) { admin in
            try await admin.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: logger
            )
        }
        return try result.get()
    }

    static func withClient<T: Sendable>(
        _ configuration: DatabaseConfiguration,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: try configuration.clientConfiguration(), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            await Task.yield()
            return try await body(client)
        }
    }
}
