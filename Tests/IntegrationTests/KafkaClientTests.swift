import Foundation
import Kafka
import Synchronization
import Testing

@Suite("Kafka client against the real broker")
struct KafkaClientTests {
    @Test("a message round-trips with its key and headers")
    func roundTrip() async throws {
        let topic = try await TestEnvironment.makeTopic("roundtrip")
        let report = try await withProducer { producer in
            try await producer.send(
                KafkaProducerRecord(
                    topic: topic,
                    key: "task-1",
                    value: #"{"hello":"world"}"#,
                    headers: [
                        KafkaHeader(key: "ce_type", value: "spectask.test"), KafkaHeader(key: "empty", value: nil),
                    ]
                )
            )
        }
        #expect(report.topic == topic)
        #expect(report.offset == 0)

        let consumer = try KafkaConsumer(
            configuration: TestEnvironment.consumerConfiguration(group: TestEnvironment.unique("g"), topics: [topic]),
            logger: TestEnvironment.logger
        )
        let (messages, events) = try await pollUntil(consumer) { !$0.isEmpty }
        await consumer.close()

        #expect(events.first == .partitionsAssigned([KafkaTopicPartition(topic: topic, partition: 0)]))
        let message = try #require(messages.first)
        #expect(message.key == Array("task-1".utf8))
        #expect(String(decoding: message.value, as: UTF8.self) == #"{"hello":"world"}"#)
        #expect(message.header("ce_type") == Array("spectask.test".utf8))
        #expect(message.headers.contains(KafkaHeader(key: "empty", value: nil)))
        #expect(message.timestampMilliseconds != nil)
    }

    @Test("offsets committed survive a restart; uncommitted messages are delivered again")
    func committedOffsetsSurviveRestart() async throws {
        let topic = try await TestEnvironment.makeTopic("restart")
        let group = TestEnvironment.unique("g")
        _ = try await withProducer { producer in
            try await producer.send((0..<10).map { KafkaProducerRecord(topic: topic, key: nil, value: "m\($0)") })
        }

        let first = try KafkaConsumer(
            configuration: TestEnvironment.consumerConfiguration(group: group, topics: [topic]),
            logger: TestEnvironment.logger
        )
        let (read, _) = try await pollUntil(first) { $0.count >= 10 }
        #expect(read.map(\.offset) == Array(0..<10))
        // Finish only the first five: commit the position after offset 4.
        try await first.commit([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: 5)])
        let committed = try await first.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        #expect(committed[KafkaTopicPartition(topic: topic, partition: 0)] == 5)
        await first.close()

        let second = try KafkaConsumer(
            configuration: TestEnvironment.consumerConfiguration(group: group, topics: [topic]),
            logger: TestEnvironment.logger
        )
        let (again, _) = try await pollUntil(second) { $0.count >= 5 }
        // Give a stray redelivery of an early offset a chance to show up before judging.
        let extra = try await second.poll(timeout: .seconds(1))
        await second.close()
        #expect(again.map(\.offset) == Array(5..<10))
        #expect(!extra.contains { if case .messages(let m) = $0 { !m.isEmpty } else { false } })
    }

    @Test("pause holds a partition back; resume releases it")
    func pauseAndResume() async throws {
        let topic = try await TestEnvironment.makeTopic("pause")
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let consumer = try KafkaConsumer(
            configuration: TestEnvironment.consumerConfiguration(group: TestEnvironment.unique("g"), topics: [topic]),
            logger: TestEnvironment.logger
        )
        // Join the group first.
        let deadline = ContinuousClock.now + .seconds(60)
        while try consumer.assignment().isEmpty {
            #expect(ContinuousClock.now < deadline, "no assignment within 60 s")
            if ContinuousClock.now >= deadline { return }
            _ = try await consumer.poll(timeout: .milliseconds(200))
        }
        try consumer.pause([partition])
        _ = try await withProducer { producer in
            try await producer.send((0..<5).map { KafkaProducerRecord(topic: topic, key: nil, value: "p\($0)") })
        }
        var whilePaused = 0
        for _ in 0..<10 {
            for case .messages(let batch) in try await consumer.poll(timeout: .milliseconds(200)) {
                whilePaused += batch.count
            }
        }
        #expect(whilePaused == 0)

        try consumer.resume([partition])
        let (messages, _) = try await pollUntil(consumer) { $0.count >= 5 }
        await consumer.close()
        #expect(messages.map(\.offset) == Array(0..<5))
    }

    @Test("partitions paused as they are assigned (a second member joining) deliver once resumed")
    func pauseOnAssignment() async throws {
        let topic = try await TestEnvironment.makeTopic("pause-assigned", partitions: 4)
        let group = TestEnvironment.unique("g")
        func member() throws -> KafkaConsumer {
            try KafkaConsumer(
                configuration: TestEnvironment.consumerConfiguration(group: group, topics: [topic]),
                logger: TestEnvironment.logger
            )
        }
        let first = try member()
        let deadline = ContinuousClock.now + .seconds(60)
        while try first.assignment().count < 4 {
            try #require(ContinuousClock.now < deadline, "the first member got no assignment within 60 s")
            _ = try await first.poll(timeout: .milliseconds(100))
        }
        // Committed offsets exist, as they do for a worker's partitions.
        try await first.commit((0..<4).map { KafkaTopicPartitionOffset(topic: topic, partition: $0, offset: 0) })
        let second = try member()
        var owned: Set<KafkaTopicPartition> = []
        while owned.isEmpty {
            try #require(ContinuousClock.now < deadline + .seconds(60), "the second member got nothing")
            async let firstEvents = first.poll(timeout: .milliseconds(100))
            for event in try await second.poll(timeout: .milliseconds(100)) {
                if case .partitionsAssigned(let partitions) = event {
                    try second.pause(partitions)
                    owned.formUnion(partitions)
                }
            }
            _ = try await firstEvents
        }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await second.poll(timeout: .milliseconds(100))
        try second.resume(Array(owned))
        let targets = owned.sorted()
        _ = try await withProducer { producer in
            try await producer.send(
                targets.map { KafkaProducerRecord(topic: topic, key: nil, value: "x", partition: $0.partition) }
            )
        }
        // Tansu sometimes rebalances once more after the first assignment: a partition the second member loses
        // then goes to the first, unpaused, which must get its message instead.
        let firstGot = Mutex<Set<KafkaTopicPartition>>([])
        let keepFirstAlive = Task {
            while !Task.isCancelled {
                for case .messages(let batch) in (try? await first.poll(timeout: .milliseconds(100))) ?? [] {
                    firstGot.withLock { $0.formUnion(batch.map(\.topicPartition)) }
                }
            }
        }
        defer { keepFirstAlive.cancel() }
        var secondGot: Set<KafkaTopicPartition> = []
        var keptThroughout = owned
        var events: [KafkaConsumerEvent] = []
        let delivered = ContinuousClock.now + .seconds(30)
        while secondGot.union(firstGot.withLock { $0 }) != owned {
            guard ContinuousClock.now < delivered else {
                throw TimedOut(what: "the messages of \(owned.sorted()); the second member's events: \(events)")
            }
            for event in try await second.poll(timeout: .milliseconds(100)) {
                events.append(event)
                switch event {
                case .messages(let batch): secondGot.formUnion(batch.map(\.topicPartition))
                case .partitionsRevoked(let partitions): keptThroughout.subtract(partitions)
                default: break
                }
            }
        }
        // Every partition the second member paused and resumed, and kept, delivered to it.
        #expect(secondGot.isSuperset(of: keptThroughout), "events: \(events)")
        keepFirstAlive.cancel()
        await second.close()
        await first.close()
    }

    @Test("lag is the fetched high watermark minus the position")
    func lag() async throws {
        let topic = try await TestEnvironment.makeTopic("lag")
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        _ = try await withProducer { producer in
            try await producer.send((0..<10).map { KafkaProducerRecord(topic: topic, key: nil, value: "l\($0)") })
        }
        let consumer = try KafkaConsumer(
            configuration: TestEnvironment.consumerConfiguration(group: TestEnvironment.unique("g"), topics: [topic]),
            logger: TestEnvironment.logger
        )
        var read: [KafkaConsumerMessage] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while read.count < 4, ContinuousClock.now < deadline {
            for case .messages(let batch) in try await consumer.poll(
                maxMessages: 4 - read.count,
                timeout: .milliseconds(200)
            ) {
                read += batch
            }
        }
        #expect(read.count == 4)
        #expect(try consumer.lag() == [partition: 6])

        let (rest, _) = try await pollUntil(consumer) { $0.count >= 6 }
        #expect(rest.count == 6)
        #expect(try consumer.lag() == [partition: 0])
        await consumer.close()
    }

    @Test("sending to an invalid topic name fails at once with a clear error")
    func invalidTopicName() async throws {
        try await withProducer { producer in
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(KafkaProducerRecord(topic: "no spaces allowed!", key: nil, value: "x"))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("'no spaces allowed!' is not a valid Kafka topic name") == true)
            #expect(error?.isRetriable == false)
        }
    }

    @Test("topics are created idempotently and listed with their partitions")
    func createTopicsIdempotently() async throws {
        let admin = try KafkaAdmin(configuration: TestEnvironment.kafka, logger: TestEnvironment.logger)
        let name = TestEnvironment.unique("admin")
        let spec = KafkaTopicSpecification(name: name, partitions: 3, configs: ["cleanup.policy": "compact"])
        #expect(try await admin.createTopics([spec]) == [name: .created])
        #expect(try await admin.createTopics([spec]) == [name: .alreadyExisted])
        #expect(try await admin.describeTopic(name) == KafkaTopicMetadata(name: name, partitions: 3))
    }
}
