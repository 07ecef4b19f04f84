import Foundation
import Kafka
import Logging
import SpecTaskDomain
import SpecTaskWorker

/// Follows output topics from "now" (or from the beginning) for the CLI's send, watch and bench commands.
struct StatusFollower {
    let consumer: KafkaConsumer

    /// Joins a private consumer group on `topics` and positions it at their current ends (or at the start).
    static func start(
        kafka: KafkaConfiguration,
        topics: [String],
        fromBeginning: Bool = false,
        timeout: Duration = .seconds(30),
        logger: Logger
    ) async throws -> StatusFollower {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: "spectask-cli-\(UUID().uuidString)",
                topics: topics,
                offsetReset: fromBeginning ? .earliest : .latest,
                sessionTimeout: .seconds(6),
                maxPollInterval: .seconds(10)
            ),
            logger: logger
        )
        let deadline = ContinuousClock.now + timeout
        while try consumer.assignment().isEmpty {
            guard ContinuousClock.now < deadline else {
                throw CLIError(
                    "could not join \(topics.joined(separator: ", ")) within \(timeout); is the broker up? (scripts/services status)"
                )
            }
            _ = try await consumer.poll(timeout: .milliseconds(100))
        }
        if !fromBeginning {
            // Start at the current ends, so nothing written after this returns is missed. Starting a little early
            // (some brokers answer with the last batch's base offset) is harmless: callers match by id.
            let ends = try await consumer.queryHighWatermarks(try consumer.assignment())
            try await consumer.seek(ends.map { KafkaTopicPartitionOffset($0.key, offset: max(0, $0.value)) })
        }
        return StatusFollower(consumer: consumer)
    }

    /// The next messages, decoded; `[]` when nothing arrived within `timeout`.
    func next(
        timeout: Duration = .milliseconds(200)
    ) async throws -> [(raw: KafkaConsumerMessage, event: CloudEvent, status: StatusEvent?)] {
        var result: [(KafkaConsumerMessage, CloudEvent, StatusEvent?)] = []
        for case .messages(let batch) in try await consumer.poll(maxMessages: 2000, timeout: timeout) {
            for raw in batch {
                guard let (event, status) = try? EventDecoder.decode(raw.value) else { continue }
                result.append((raw, event, status))
            }
        }
        return result
    }

    func close() async { await consumer.close() }
}

/// A failure to report to the user as it is, without a stack of types.
struct CLIError: Error, CustomStringConvertible, LocalizedError {
    var description: String
    init(_ description: String) { self.description = description }
    var errorDescription: String? { description }
}
