import Crypto
import Foundation
import Kafka
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// Invariant 3: no output can stall the rest. Oversized inputs get one bounded rejected record each and every other
/// command still gets its outcome; an outbox message the broker refuses for good is set aside, and the relay goes on.
@Suite("Never stall", .serialized)
struct NeverStallTests {
    /// A producer that may send messages up to 10 MB (librdkafka refuses anything over 1 MB by default).
    static func largeMessageProducer() throws -> KafkaProducer {
        var kafka = TestEnvironment.kafka
        kafka.additionalProperties["message.max.bytes"] = "10000000"
        // Hundreds of megabytes in one burst take a while on a busy 2-core machine: more than the default 30 s.
        return try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: kafka, messageTimeout: .seconds(180)),
            logger: TestEnvironment.logger
        )
    }

    /// A well-formed create command padded to exactly `size` bytes (the worker rejects anything over 256 KiB unread).
    static func paddedCommand(id: String, task: String, size: Int) -> [UInt8] {
        let bare = CommandEncoder.encode(
            id: id,
            specTaskID: task,
            source: "tests",
            command: .create(CreateSpecTask(name: "padded"))
        )
        // Whitespace after the JSON object: the size is exact and the bytes are still one JSON document.
        return bare + [UInt8](repeating: UInt8(ascii: " "), count: max(0, size - bare.count))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test(
        "a 2 MB command and one just under the broker's limit: one bounded rejected record each; later commands answered"
    )
    func oversizeCommands() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let producer = try Self.largeMessageProducer()
        let producerTask = Task { try await producer.run() }
        defer { producerTask.cancel() }

        let huge = Self.paddedCommand(id: "huge", task: "huge-task", size: 2_000_000)
        let underLimit = Self.paddedCommand(id: "under", task: "under-task", size: 990_000)
        let hugeReport = try await producer.send(
            KafkaProducerRecord(topic: system.topics.commands, key: Array("huge-task".utf8), value: huge)
        )
        let underReport = try await producer.send(
            KafkaProducerRecord(topic: system.topics.commands, key: Array("under-task".utf8), value: underLimit)
        )
        // Sent after them: its outcome must still come.
        // Task ids unique per run: the database outlives the run.
        let after = try await system.send(
            .create(CreateSpecTask(name: "after the big ones")),
            task: TestEnvironment.unique("after")
        )
        guard case .commandApplied = try await system.outcome(of: after) else {
            Issue.record("the command sent after the oversized ones was not applied")
            return
        }

        for (original, report) in [(huge, hugeReport), (underLimit, underReport)] {
            let records = try await system.rejected.waitForCount(1, timeout: .seconds(60), "its rejected record") {
                $0.raw.value.count < 200_000 && Self.record(of: $0)?.offset == report.offset
                    && Self.record(of: $0)?.partition == report.partition
            }
            #expect(records.count == 1)
            let record = try #require(Self.record(of: records[0]))
            #expect(record.code == "oversize")
            #expect(record.originalSize == original.count)
            #expect(record.originalTruncated)
            #expect(record.originalSHA256 == Self.sha256Hex(original))
            #expect(record.original == Array(original.prefix(RejectedRecord.maxOriginalBytes)))
            // Publishable by construction: far below any broker's limit.
            #expect(records[0].raw.value.count < 100_000, "a rejected record of \(records[0].raw.value.count) bytes")
        }
    }

    @Test("a burst of oversize inputs: every one gets exactly one rejected record, every valid command its outcome")
    func oversizeBurst() async throws {
        let count = Int(ProcessInfo.processInfo.environment["SPECTASK_TEST_OVERSIZE_BURST"] ?? "") ?? 1_000
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let producer = try Self.largeMessageProducer()
        let producerTask = Task { try await producer.run() }
        defer { producerTask.cancel() }

        // Interleaved: a valid create after every 10 oversize inputs.
        let run = TestEnvironment.unique("burst")
        var records: [KafkaProducerRecord] = []
        var valid: [String] = []
        for index in 0..<count {
            let task = "\(run)-\(index)"
            records.append(
                KafkaProducerRecord(
                    topic: system.topics.commands,
                    key: Array(task.utf8),
                    value: Self.paddedCommand(id: "big-\(index)", task: task, size: CommandDecoder.defaultMaxBytes + 1)
                )
            )
            if index % 10 == 9 {
                let id = "\(run)-valid-\(index)"
                valid.append(id)
                records.append(
                    KafkaProducerRecord(
                        topic: system.topics.commands,
                        key: Array(task.utf8),
                        value: CommandEncoder.encode(
                            id: id,
                            specTaskID: task,
                            source: "tests",
                            command: .create(CreateSpecTask(name: "valid"))
                        )
                    )
                )
            }
        }
        let reports = try await producer.send(records)
        let oversizeOffsets = Set(
            zip(records, reports).filter { $0.0.value.count > CommandDecoder.defaultMaxBytes }.map {
                "\($0.1.partition).\($0.1.offset)"
            }
        )
        #expect(oversizeOffsets.count == count)

        for id in valid {
            guard case .commandApplied = try await system.outcome(of: id, timeout: .seconds(120)) else {
                Issue.record("valid command \(id) was not applied")
                continue
            }
        }
        let rejected = try await system.rejected.waitForCount(count, timeout: .seconds(120), "rejected records") {
            Self.record(of: $0)?.code == "oversize"
        }
        let positions = rejected.compactMap { Self.record(of: $0).map { "\($0.partition).\($0.offset)" } }
        #expect(Set(positions) == oversizeOffsets, "every oversize input has a rejected record")
        #expect(positions.count == count, "and exactly one: \(positions.count) records for \(count) inputs")
    }

    @Test("the relay sets aside what the broker refuses for good and publishes everything behind it")
    func deadLetters() async throws {
        try await StoreFixture.with { fixture in
            let topic = try await TestEnvironment.makeTopic("relay")
            let outbox = OutboxStore(logger: TestEnvironment.logger)
            let task = "dead-letter-task"
            func message(_ body: String, size: Int = 0, topic: String = topic) -> OutboxMessage {
                OutboxMessage(
                    topic: topic,
                    key: task,
                    payload: Array(body.utf8) + [UInt8](repeating: UInt8(ascii: " "), count: size)
                )
            }
            // In one shard (one task), in this order: fine, too large, fine, illegal topic, fine.
            let messages = [
                message("first"), message("too large", size: 2_000_000), message("second"),
                message("bad topic", topic: "no such topic!"), message("third"),
            ]
            try await fixture.client.withTransaction(logger: TestEnvironment.logger) { connection in
                try await outbox.append(messages, on: connection)
            }

            let pass = try await relayOnce(fixture.client)
            #expect(pass.delivered == 3)
            #expect(pass.deadLettered.map(\.topic) == [topic, "no such topic!"])
            #expect(pass.deadLettered.first?.code == "MSG_SIZE_TOO_LARGE")
            #expect(pass.failed == 0)
            #expect(try await fixture.count("SELECT count(*) FROM outbox") == 0)
            let letters = try await outbox.deadLetters(client: fixture.client)
            #expect(letters.map(\.size) == [2_000_000 + "too large".utf8.count, "bad topic".utf8.count])
            #expect(letters.allSatisfy { !$0.reason.isEmpty })

            // The three others are on the topic, in order.
            let received = try await pollTopic(topic) { $0.count >= 3 }
            #expect(received.map { String(decoding: $0.value, as: UTF8.self) } == ["first", "second", "third"])
        }
    }

    static func record(of message: TopicListener.Message) -> RejectedRecord? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(message.raw.value)) as? [String: Any],
            let data = object["data"],
            let json = try? JSONSerialization.data(withJSONObject: data)
        else { return nil }
        return try? JSONDecoder().decode(RejectedRecord.self, from: json)
    }
}
