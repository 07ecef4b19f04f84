import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain

/// Reads `spectask.rejected` from its beginning to its current end, for the `rejected` operator commands: a bounded
/// scan, not a follower.
///
/// A partition is finished when the position reaches the high watermark its latest fetch response carried (the
/// one kind of end every broker seen so far gets right, see `KafkaConsumer.lag()`). Should a broker stop answering
/// with data before that (Tansu has been seen to), the scan ends after ``idleTimeout`` without a new message and
/// names the partitions it did not finish.
struct RejectedReader {
    /// One record as read, with where and when it was published.
    struct Entry: Sendable {
        var record: RejectedRecord
        /// When the worker rejected the input: the record's CloudEvent `time`, else the Kafka timestamp.
        var time: Date?
        /// The record's own place on the rejected topic.
        var partition: Int32
        var offset: Int64

        init?(_ message: KafkaConsumerMessage) {
            guard let (event, record) = try? EventDecoder.decodeRejected(message.value) else { return nil }
            self.record = record
            self.time =
                event.date
                ?? message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            self.partition = message.partition
            self.offset = message.offset
        }
    }

    /// What a scan read.
    struct Summary: Sendable {
        /// Rejected records read.
        var records = 0
        /// Messages on the topic that were not rejected records.
        var unreadable = 0
        /// Partitions not read to their end: the scan stopped after ``idleTimeout`` without news.
        var unfinished: [KafkaTopicPartition] = []
        var idleTimeout: Duration
    }

    let kafka: KafkaConfiguration
    let topic: String
    let logger: Logger
    /// The scan ends after this long without a new message, even with partitions not at their end.
    var idleTimeout: Duration = .seconds(2)
    /// How long the broker may take to answer the first fetch.
    var answerTimeout: Duration = .seconds(30)

    /// Hands every record on the topic to `visit`, partition by partition in offset order (partitions
    /// interleaved), and returns when all partitions are read to their end, or after ``idleTimeout`` without a new
    /// message (the summary names the partitions left unfinished).
    ///
    /// - Throws: ``CLIError`` when the topic does not exist or the broker does not answer; Kafka errors.
    func scan(_ visit: (Entry) -> Void) async throws -> Summary {
        let partitions = try await partitions()
        // A consumer of no group (explicit assignment): nothing is committed and no group is left behind. A longer
        // fetch wait than the followers': a scan wants whole answers, not low latency (see fetchWaitMax).
        let consumer = try KafkaConsumer.assigned(
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: "spectask-cli-\(UUID().uuidString)",
                topics: [topic],
                offsetReset: .earliest,
                fetchWaitMax: .milliseconds(100)
            ),
            logger: logger
        )
        do {
            try consumer.assign(
                partitions.map { KafkaTopicPartitionOffset($0, offset: KafkaTopicPartitionOffset.beginning) }
            )
            let summary = try await read(partitions, from: consumer, visit)
            await consumer.close()
            return summary
        } catch {
            await consumer.close()
            throw error
        }
    }

    private func read(
        _ partitions: [KafkaTopicPartition],
        from consumer: KafkaConsumer,
        _ visit: (Entry) -> Void
    ) async throws -> Summary {
        var summary = Summary(idleTimeout: idleTimeout)
        var nextOffset: [KafkaTopicPartition: Int64] = [:]
        let started = ContinuousClock.now
        // When the last message came; `nil` until the broker first answered.
        var lastNews: ContinuousClock.Instant?
        while true {
            for case .messages(let batch) in try await consumer.poll(maxMessages: 1_000, timeout: .milliseconds(200)) {
                for message in batch {
                    nextOffset[message.topicPartition] = message.offset + 1
                    if let entry = Entry(message) {
                        summary.records += 1
                        visit(entry)
                    } else {
                        summary.unreadable += 1
                    }
                }
                lastNews = .now
            }
            let ends = consumer.fetchedHighWatermarks(partitions)
            if lastNews == nil, !ends.isEmpty { lastNews = .now }
            let unfinished = partitions.filter { partition in
                guard let end = ends[partition] else { return true }
                return (nextOffset[partition] ?? 0) < end
            }
            guard !unfinished.isEmpty else { return summary }
            if let lastNews {
                if ContinuousClock.now - lastNews >= idleTimeout {
                    summary.unfinished = unfinished
                    return summary
                }
            } else if ContinuousClock.now - started >= answerTimeout {
                throw CLIError(
                    "the broker did not answer fetches of \(topic) within \(answerTimeout); is it up? "
                        + "(scripts/services status)"
                )
            }
        }
    }

    private func partitions() async throws -> [KafkaTopicPartition] {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let metadata: KafkaTopicMetadata?
        do {
            metadata = try await admin.describeTopic(topic, timeout: answerTimeout)
        } catch {
            throw CLIError(
                "could not read the metadata of \(topic) (\(error)); is the broker up? (scripts/services status)"
            )
        }
        guard let metadata, metadata.partitions > 0 else {
            throw CLIError(
                "topic \(topic) does not exist; check --topic-prefix, or create the topics with: spectask topics apply"
            )
        }
        return (0..<metadata.partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
    }
}

extension RejectedReader.Summary {
    /// A warning for stderr when the scan may have missed records, else `nil`.
    var warning: String? {
        var parts: [String] = []
        if !unfinished.isEmpty {
            parts.append(
                "stopped without news before the end of \(unfinished.map(\.description).joined(separator: ", ")): "
                    + "the broker served nothing more for \(idleTimeout), so records may be missing"
            )
        }
        if unreadable > 0 { parts.append("skipped \(unreadable) message(s) that are not rejected records") }
        return parts.isEmpty ? nil : "warning: " + parts.joined(separator: "; ")
    }
}
