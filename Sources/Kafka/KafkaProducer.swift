import CRdKafka
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Sends messages with idempotence on and awaits each delivery report.
///
/// Delivery reports are served by `run()`, so the producer must run (usually in a `ServiceGroup`) while
/// anything awaits `send`. On graceful shutdown it flushes what is still queued before returning.
public final class KafkaProducer: Service, Sendable {
    private let client: RDKafkaClient
    private let blocking = BlockingCalls(label: "spectask.kafka.producer", serial: false)
    private let logger: Logger

    /// - Throws: `KafkaError` with code `.configuration` when a property is rejected.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        self.client = try RDKafkaClient(kind: .producer, properties: configuration.properties, logger: logger)
        self.logger = logger
    }

    /// Sends one message and waits until the broker has acknowledged it.
    /// - Returns: where the message was written.
    /// - Throws: `KafkaError`: `.invalidArgument` for an illegal topic name (at once, nothing is sent),
    ///   otherwise the delivery failure (retriable ones after librdkafka's own retries are used up).
    @discardableResult
    public func send(_ record: KafkaProducerRecord) async throws -> KafkaDeliveryReport {
        try TopicName.validate(record.topic)
        while true {
            do {
                return try await withCheckedThrowingContinuation { continuation in
                    let box = Unmanaged.passRetained(DeliveryBox(continuation))
                    if let error = produce(record, opaque: box.toOpaque()) {
                        box.release()
                        continuation.resume(throwing: error)
                    }
                }
            } catch let error as KafkaError where error.code == .librdkafka(RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue) {
                // The local queue is full: wait for deliveries to drain it instead of failing the caller.
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Sends many messages and waits for all of them; reports come back in the input's order.
    ///
    /// The messages are handed to librdkafka in order, in one go, so messages to the same partition are written
    /// in this order (idempotence keeps it through retries).
    /// - Throws: the first delivery failure (after all deliveries finished), or `.invalidArgument` for an illegal
    ///   topic name before anything is sent.
    public func send(_ records: [KafkaProducerRecord]) async throws -> [KafkaDeliveryReport] {
        for record in records { try TopicName.validate(record.topic) }
        return try await sendEach(records).map { try $0.get() }
    }

    /// Sends every record, then waits for every delivery report; never throws, so one record the broker refuses
    /// does not hide what happened to the others.
    ///
    /// - Returns: One result per record, in the order given: its delivery report, or why it was not delivered
    ///   (``KafkaError/isPermanentForRecord`` says whether sending the same record again can ever succeed).
    public func sendEach(_ records: [KafkaProducerRecord]) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        guard !records.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = BatchDelivery(count: records.count, continuation: continuation)
            for (index, record) in records.enumerated() {
                do {
                    try TopicName.validate(record.topic)
                } catch {
                    batch.complete(index, .failure(error))
                    continue
                }
                while true {
                    let item = Unmanaged.passRetained(BatchDelivery.Item(batch: batch, index: index))
                    guard let error = produce(record, opaque: item.toOpaque(), isBatch: true) else { break }
                    item.release()
                    if error.code == .librdkafka(RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue) {
                        // The poll thread is draining the queue; wait a moment rather than fail the batch.
                        usleep(2_000)
                        continue
                    }
                    batch.complete(index, .failure(error))
                    break
                }
            }
        }
    }

    public func flush(timeout: Duration = .seconds(10)) async throws {
        let client = self.client
        let code = try await blocking.run { rd_kafka_flush(client.handle, Int32(timeout.milliseconds)) }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.librdkafka(
                code,
                "flushing the producer (\(rd_kafka_outq_len(client.handle)) messages still queued)"
            )
        }
    }

    /// Serves delivery reports until cancelled or until graceful shutdown, then flushes.
    public func run() async throws {
        let client = self.client
        await cancelWhenGracefulShutdown {
            await runBlockingLoop(label: "spectask.kafka.producer.poll") {
                _ = rd_kafka_poll(client.handle, 100)
            }
        }
        // Deliveries still in flight need reports served while flushing; rd_kafka_flush polls by itself.
        try await flush()
        logger.debug("producer flushed and stopped")
    }

    // MARK: - Producing

    private func produce(
        _ record: KafkaProducerRecord,
        opaque: UnsafeMutableRawPointer,
        isBatch: Bool = false
    ) -> KafkaError? {
        let headers = rd_kafka_headers_new(record.headers.count)!
        for header in record.headers {
            if let value = header.value {
                value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
            } else {
                rd_kafka_header_add(headers, header.key, -1, nil, 0)
            }
        }
        let error: OpaquePointer? = record.topic.withCString { topic in
            withOptionalBytes(record.key) { key in
                record.value.withUnsafeBytes { value in
                    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 7)
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topic
                    fields[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    fields[1].u.i32 = record.partition ?? RD_KAFKA_PARTITION_UA
                    fields[2].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[2].u.mem = .init(
                        ptr: UnsafeMutableRawPointer(mutating: value.baseAddress),
                        size: value.count
                    )
                    fields[3].vtype = RD_KAFKA_VTYPE_KEY
                    fields[3].u.mem = .init(
                        ptr: UnsafeMutableRawPointer(mutating: key?.baseAddress),
                        size: key?.count ?? 0
                    )
                    fields[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[4].u.i = RD_KAFKA_MSG_F_COPY
                    fields[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    fields[5].u.ptr = DeliveryOpaque.tag(opaque, isBatch: isBatch)
                    fields[6].vtype = RD_KAFKA_VTYPE_HEADERS
                    fields[6].u.headers = headers
                    return rd_kafka_produceva(client.handle, &fields, fields.count)
                }
            }
        }
        guard let error else { return nil }  // librdkafka owns the headers now
        rd_kafka_headers_destroy(headers)
        return KafkaError.consuming(error, "sending a message to topic \(record.topic)")
    }
}

private func withOptionalBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// Kafka's rules for topic names, checked before anything is sent so a typo fails at once with a clear error.
public enum TopicName {
    /// - Throws: `KafkaError.invalidArgument` saying which rule the name breaks.
    public static func validate(_ name: String) throws {
        // Byte by byte: this runs for every record produced, and Unicode property lookups showed in profiles.
        let legal = name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
        let problem: String? =
            if name.isEmpty { "it is empty" } else if name == "." || name == ".." {
                "'.' and '..' are reserved"
            } else if name.utf8.count > 249 { "it is longer than 249 characters" } else if !legal {
                "only ASCII letters, digits, '.', '_' and '-' are allowed"
            } else { nil }
        if let problem {
            throw KafkaError(code: .invalidArgument, message: "'\(name)' is not a valid Kafka topic name: \(problem)")
        }
    }
}
