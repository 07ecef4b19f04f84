import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

/// Follows output topics from "now" (or from the beginning) for the CLI's send, watch and bench commands.
struct StatusFollower {
    let consumer: KafkaConsumer

    /// Reads every partition of `topics` by explicit assignment, from their current ends (or from the start), and
    /// returns only once positioned there: whatever is sent after this returns is seen, even on topics created a
    /// moment ago. (Joining a group instead left a window in which the first outcomes were missed.)
    static func start(
        kafka: KafkaConfiguration,
        topics: [String],
        fromBeginning: Bool = false,
        timeout: Duration = .seconds(30),
        logger: Logger
    ) async throws -> StatusFollower {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        var partitions: [KafkaTopicPartition] = []
        for topic in topics {
            let metadata: KafkaTopicMetadata?
            do {
                metadata = try await admin.describeTopic(topic, timeout: timeout)
            } catch {
                throw CLIError(
                    "could not read the metadata of \(topic) (\(error)); is the broker up? (scripts/services status)"
                )
            }
            guard let metadata, metadata.partitions > 0 else {
                throw CLIError("topic \(topic) does not exist; create the topics with: spectask topics apply")
            }
            partitions += (0..<metadata.partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
        }
        let consumer = try KafkaConsumer.assigned(
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: "spectask-cli-\(UUID().uuidString)",
                topics: topics,
                offsetReset: fromBeginning ? .earliest : .latest
            ),
            logger: logger
        )
        if fromBeginning {
            try consumer.assign(
                partitions.map { KafkaTopicPartitionOffset($0, offset: KafkaTopicPartitionOffset.beginning) }
            )
        } else {
            // Explicit offsets, fetched now: nothing is resolved lazily after the caller started sending. Some brokers
            // answer the last batch's base offset here, so a few older messages may come too: callers match by id.
            let ends = try await consumer.queryHighWatermarks(partitions, timeout: timeout)
            try consumer.assign(partitions.map { KafkaTopicPartitionOffset($0, offset: max(0, ends[$0] ?? 0)) })
        }
        return StatusFollower(consumer: consumer)
    }

    /// The next messages, decoded; `[]` when nothing arrived within `timeout`.
    ///
    /// - Parameter onlyOutcomes: Skip, without decoding them, the messages whose `ce_type` header says they are not a
    ///   command's outcome (`command_applied`, `command_rejected`): the changes a command caused are most of the
    ///   topic, and decoding them was about half of `spectask bench`'s CPU, taken from the workers it measures on a
    ///   shared machine. A message without the header is decoded.
    func next(
        timeout: Duration = .milliseconds(200),
        onlyOutcomes: Bool = false
    ) async throws -> [(raw: KafkaConsumerMessage, event: CloudEvent, status: StatusEvent?)] {
        var result: [(KafkaConsumerMessage, CloudEvent, StatusEvent?)] = []
        for case .messages(let batch) in try await consumer.poll(maxMessages: 2000, timeout: timeout) {
            for raw in batch {
                if onlyOutcomes, !StatusEvent.mayBeOutcome(typeHeader: raw.header(KafkaBinding.typeHeader)) { continue }
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
