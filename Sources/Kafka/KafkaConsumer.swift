import CRdKafka
import Logging
import ServiceLifecycle

/// A consumer-group member with manual offset control.
///
/// Nothing is committed unless the application calls `commit`, so a crash re-delivers whatever was not finished.
/// Polls, seeks and close run one at a time on a dedicated thread; rebalance notifications are returned by `poll`
/// in the order they happened, before the messages fetched after them.
public final class KafkaConsumer: Service, Sendable {
    private let client: RDKafkaClient
    private let configuration: KafkaConsumerConfiguration
    private let serial: BlockingCalls
    private let concurrent: BlockingCalls
    private let logger: Logger
    private let closed = AtomicFlag()

    /// Creates the member and subscribes it to `configuration.topics`; it joins the group on the first poll.
    /// - Throws: `KafkaError` for rejected properties or an illegal topic name.
    public convenience init(configuration: KafkaConsumerConfiguration, logger: Logger) throws {
        try self.init(configuration: configuration, subscribe: true, logger: logger)
    }

    /// Creates a consumer that reads only the partitions given to ``assign(_:)``, from the offsets given there: no
    /// group membership, no rebalances. For followers that must be positioned before anything they wait for is
    /// sent (a subscription starts reading only after the group assigned it partitions, which takes a while).
    public static func assigned(configuration: KafkaConsumerConfiguration, logger: Logger) throws -> KafkaConsumer {
        try KafkaConsumer(configuration: configuration, subscribe: false, logger: logger)
    }

    private init(configuration: KafkaConsumerConfiguration, subscribe: Bool, logger: Logger) throws {
        for topic in configuration.topics { try TopicName.validate(topic) }
        var logger = logger
        logger[metadataKey: "kafka.group"] = "\(configuration.groupID)"
        self.client = try RDKafkaClient(
            kind: .consumer,
            properties: configuration.properties,
            logger: logger,
            rebalance: subscribe
        )
        self.configuration = configuration
        self.logger = logger
        self.serial = BlockingCalls(label: "spectask.kafka.consumer.\(configuration.groupID)", serial: true)
        self.concurrent = BlockingCalls(label: "spectask.kafka.consumer.commits", serial: false)
        rd_kafka_poll_set_consumer(client.handle)
        guard subscribe else { return }
        let subscription = TopicPartitionList.make(
            configuration.topics.map { KafkaTopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) }
        )
        defer { rd_kafka_topic_partition_list_destroy(subscription) }
        let code = rd_kafka_subscribe(client.handle, subscription)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.librdkafka(code, "subscribing to \(configuration.topics.joined(separator: ", "))")
        }
    }

    /// Reads exactly these partitions from these offsets (for a consumer made with ``assigned(configuration:logger:)``).
    public func assign(_ offsets: [KafkaTopicPartitionOffset]) throws {
        try TopicPartitionList.with(offsets) { list in
            let code = rd_kafka_assign(client.handle, list)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.librdkafka(code, "assigning \(offsets)") }
        }
    }

    // MARK: - Polling

    /// Waits up to `timeout` for messages and returns at most `maxMessages` of them, with any rebalance
    /// notifications that happened meanwhile. Returns `[]` when nothing arrived.
    /// - Throws: `KafkaError.clientClosed` after `close()`; fatal client errors.
    public func poll(
        maxMessages: Int = 500,
        timeout: Duration = .milliseconds(100)
    ) async throws -> [KafkaConsumerEvent] {
        let client = self.client
        let logger = self.logger
        let timeoutMs = Int32(timeout.milliseconds)
        return try await serial.run { [closed] in
            guard !closed.isSet else { throw KafkaError.closed("polling") }
            var messages: [KafkaConsumerMessage] = []
            var events: [KafkaConsumerEvent] = []
            // The first call waits; the rest only take what is already fetched. Each call serves callbacks
            // (rebalances) too, so their notifications are collected in between, in order.
            while messages.count < maxMessages {
                let next = rd_kafka_consumer_poll(client.handle, messages.isEmpty && events.isEmpty ? timeoutMs : 0)
                let rebalances = client.context.rebalanceEvents.withLock { pending in
                    defer { pending.removeAll() }
                    return pending
                }
                if !rebalances.isEmpty {
                    // Messages fetched before a revocation but not yet handed out belong to the next owner now:
                    // it will read them from the last committed offset, so handing them out here would process
                    // them twice.
                    let revoked = Set(
                        rebalances.flatMap { event -> [KafkaTopicPartition] in
                            if case .partitionsRevoked(let partitions) = event { return partitions }
                            return []
                        }
                    )
                    messages.removeAll { revoked.contains($0.topicPartition) }
                    if !messages.isEmpty { events.append(.messages(messages)) }
                    messages = []
                    events += rebalances
                }
                guard let next else { break }
                defer { rd_kafka_message_destroy(next) }
                if next.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    let error = KafkaError.librdkafka(
                        next.pointee.err,
                        "consuming",
                        detail: KafkaConsumer.errorText(next)
                    )
                    if error.isFatal { throw error }
                    logger.warning("\(error.message)")
                    continue
                }
                messages.append(KafkaConsumer.message(from: next))
            }
            if !messages.isEmpty { events.append(.messages(messages)) }
            if let fatal = client.fatalError() { throw fatal }
            return events
        }
    }

    /// Everything this member receives, batch by batch, until it is closed (then the sequence ends).
    public func events(maxMessages: Int = 500) -> Events {
        Events(consumer: self, maxMessages: maxMessages)
    }

    public struct Events: AsyncSequence, Sendable {
        public typealias Element = KafkaConsumerEvent
        let consumer: KafkaConsumer
        let maxMessages: Int

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            let maxMessages: Int
            var buffered: [KafkaConsumerEvent] = []

            public mutating func next() async throws -> KafkaConsumerEvent? {
                while buffered.isEmpty {
                    if Task.isCancelled || consumer.isClosed { return nil }
                    do {
                        buffered = try await consumer.poll(maxMessages: maxMessages)
                    } catch let error as KafkaError where error.code == .clientClosed {
                        return nil
                    }
                }
                return buffered.removeFirst()
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: consumer, maxMessages: maxMessages)
        }
    }

    // MARK: - Offsets

    /// Commits these offsets (each the *next* offset to read) synchronously.
    /// - Throws: `KafkaError`, for example when the partition was revoked meanwhile.
    public func commit(_ offsets: [KafkaTopicPartitionOffset]) async throws {
        guard !offsets.isEmpty else { return }
        let client = self.client
        try await concurrent.run {
            try TopicPartitionList.with(offsets) { list in
                let code = rd_kafka_commit(client.handle, list, 0)
                if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError.librdkafka(code, "committing offsets \(offsets)")
                }
                if let error = TopicPartitionList.firstError(in: list, "committing an offset") { throw error }
            }
        }
    }

    /// Sends the offsets to the group coordinator without waiting for its answer, which is dropped: for a caller
    /// whose offsets live elsewhere (the worker keeps them in PostgreSQL), a lost commit only means that some messages
    /// are read again and skipped.
    public func commitWithoutWaiting(_ offsets: [KafkaTopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        try TopicPartitionList.with(offsets) { list in
            let code = rd_kafka_commit(client.handle, list, 1)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.librdkafka(code, "committing offsets \(offsets)")
            }
        }
    }

    /// Commits everything up to and including these messages, per partition.
    public func commit(_ messages: [KafkaConsumerMessage]) async throws {
        var next: [KafkaTopicPartition: Int64] = [:]
        for message in messages {
            next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
        }
        try await commit(next.sorted { $0.key < $1.key }.map { KafkaTopicPartitionOffset($0.key, offset: $0.value) })
    }

    /// The group's committed offsets for these partitions (`nil` offset when none is committed).
    public func committed(
        _ partitions: [KafkaTopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [KafkaTopicPartition: Int64?] {
        let client = self.client
        return try await concurrent.run {
            try TopicPartitionList.with(
                partitions.map { KafkaTopicPartitionOffset($0, offset: Int64(RD_KAFKA_OFFSET_INVALID)) }
            ) { list in
                let code = rd_kafka_committed(client.handle, list, Int32(timeout.milliseconds))
                if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.librdkafka(code, "reading committed offsets") }
                var result: [KafkaTopicPartition: Int64?] = [:]
                for entry in TopicPartitionList.offsets(in: list) {
                    result[entry.topicPartition] = entry.offset >= 0 ? entry.offset : nil
                }
                return result
            }
        }
    }

    // MARK: - Flow control

    /// The partitions this member owns right now.
    public func assignment() throws -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let code = rd_kafka_assignment(client.handle, &list)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw KafkaError.librdkafka(code, "reading the assignment")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return TopicPartitionList.topicPartitions(in: list).sorted()
    }

    /// Stops fetching from these partitions until `resume`; the assignment is kept.
    public func pause(_ partitions: [KafkaTopicPartition]) throws {
        try TopicPartitionList.with(partitions.map { KafkaTopicPartitionOffset($0, offset: 0) }) { list in
            let code = rd_kafka_pause_partitions(client.handle, list)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.librdkafka(code, "pausing \(partitions)") }
            if let error = TopicPartitionList.firstError(in: list, "pausing") { throw error }
        }
    }

    public func resume(_ partitions: [KafkaTopicPartition]) throws {
        try TopicPartitionList.with(partitions.map { KafkaTopicPartitionOffset($0, offset: 0) }) { list in
            let code = rd_kafka_resume_partitions(client.handle, list)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.librdkafka(code, "resuming \(partitions)") }
            if let error = TopicPartitionList.firstError(in: list, "resuming") { throw error }
        }
    }

    /// Moves the fetch position of assigned partitions; the next poll returns messages from there.
    public func seek(_ offsets: [KafkaTopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        let client = self.client
        try await serial.run {
            try TopicPartitionList.with(offsets) { list in
                if let error = rd_kafka_seek_partitions(client.handle, list, Int32(timeout.milliseconds)) {
                    throw KafkaError.consuming(error, "seeking to \(offsets)")
                }
                if let error = TopicPartitionList.firstError(in: list, "seeking") { throw error }
            }
        }
    }

    /// Messages not yet read, per assigned partition: the high watermark seen in fetch responses minus the position.
    /// Partitions with no fetch yet (unknown watermark or position) are left out.
    ///
    /// The watermark comes from librdkafka's cache of fetch responses, not a ListOffsets query: some brokers
    /// (Tansu) answer that query with the base offset of the last batch instead of the log end.
    public func lag() throws -> [KafkaTopicPartition: Int64] {
        let partitions = try assignment()
        guard !partitions.isEmpty else { return [:] }
        return try TopicPartitionList.with(
            partitions.map { KafkaTopicPartitionOffset($0, offset: Int64(RD_KAFKA_OFFSET_INVALID)) }
        ) { list in
            let code = rd_kafka_position(client.handle, list)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.librdkafka(code, "reading positions") }
            var lag: [KafkaTopicPartition: Int64] = [:]
            for entry in TopicPartitionList.offsets(in: list) {
                var low: Int64 = -1
                var high: Int64 = -1
                let watermarks = rd_kafka_get_watermark_offsets(
                    client.handle,
                    entry.topicPartition.topic,
                    entry.topicPartition.partition,
                    &low,
                    &high
                )
                guard watermarks == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0, entry.offset >= 0 else { continue }
                lag[entry.topicPartition] = max(0, high - entry.offset)
            }
            return lag
        }
    }

    /// The high watermarks carried by the latest fetch responses (no request is made); a partition not fetched yet
    /// is absent. Unlike a ListOffsets query, these are right on every broker seen so far (see ``lag()``).
    public func fetchedHighWatermarks(_ partitions: [KafkaTopicPartition]) -> [KafkaTopicPartition: Int64] {
        var result: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions {
            var low: Int64 = -1
            var high: Int64 = -1
            let code = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 { result[partition] = high }
        }
        return result
    }

    /// Asks the brokers for the high watermark (end offset) of these partitions.
    ///
    /// Some brokers (Tansu) answer with the base offset of the last batch, which is at or before the real end:
    /// good for "start reading from about now", not for computing lag (see `lag()`).
    public func queryHighWatermarks(
        _ partitions: [KafkaTopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [KafkaTopicPartition: Int64] {
        let client = self.client
        return try await concurrent.run {
            var result: [KafkaTopicPartition: Int64] = [:]
            for partition in partitions {
                var low: Int64 = -1
                var high: Int64 = -1
                let code = rd_kafka_query_watermark_offsets(
                    client.handle,
                    partition.topic,
                    partition.partition,
                    &low,
                    &high,
                    Int32(timeout.milliseconds)
                )
                if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError.librdkafka(code, "querying the watermarks of \(partition)")
                }
                result[partition] = high
            }
            return result
        }
    }

    // MARK: - Lifecycle

    public var isClosed: Bool { closed.isSet }

    /// Leaves the group cleanly (partitions are handed over at once, not after the session timeout).
    /// Idempotent.
    public func close() async {
        let client = self.client
        let logger = self.logger
        _ = try? await serial.run { [closed] in
            guard !closed.isSet else { return }
            let code = rd_kafka_consumer_close(client.handle)
            closed.set()
            client.context.rebalanceEvents.withLock { $0.removeAll() }
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("closing the consumer: \(String(cString: rd_kafka_err2str(code)))")
            } else {
                logger.debug("consumer closed")
            }
        }
    }

    /// Runs until graceful shutdown or cancellation, then closes: the application's poll loop ends with it.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    // MARK: - Helpers

    private static func errorText(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> String? {
        guard let payload = message.pointee.payload, message.pointee.len > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: payload, count: message.pointee.len), as: UTF8.self)
    }

    private static func message(from raw: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaConsumerMessage {
        let m = raw.pointee
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        var headers: [KafkaHeader] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(raw, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        key: name.map { String(cString: $0) } ?? "",
                        value: valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                    )
                )
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(raw, &timestampType)
        return KafkaConsumerMessage(
            topic: m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
            partition: m.partition,
            offset: m.offset,
            key: key,
            value: value,
            headers: headers,
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }
}
