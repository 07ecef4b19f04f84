import CRdKafka
import Foundation
import Logging
import Synchronization

/// Owns one `rd_kafka_t` handle and the context its C callbacks reach through the opaque pointer.
///
/// librdkafka handles are thread-safe; the only mutable Swift state is in `ClientContext`, behind a lock.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind {
        case producer, consumer

        var rdType: rd_kafka_type_t { self == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER }
    }

    let handle: OpaquePointer
    let context: ClientContext
    private let contextPointer: Unmanaged<ClientContext>

    /// Creates the handle.
    /// - Throws: `KafkaError.configuration` naming the rejected property.
    init(kind: Kind, properties: [String: String], logger: Logger, rebalance: Bool = false) throws {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(
                    code: .configuration,
                    message: "Kafka property \(key)=\(key.contains("password") ? "***" : value) was rejected: "
                        + String(nulTerminated: errstr)
                )
            }
        }
        let context = ClientContext(logger: logger)
        let pointer = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, pointer.toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        if kind == .producer { rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback) }
        if rebalance { rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback) }

        // rd_kafka_new takes ownership of conf on success only.
        guard let handle = rd_kafka_new(kind.rdType, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            pointer.release()
            throw KafkaError(
                code: .configuration,
                message: "creating the Kafka client failed: \(String(nulTerminated: errstr))"
            )
        }
        self.handle = handle
        self.context = context
        self.contextPointer = pointer
    }

    deinit {
        rd_kafka_destroy(handle)
        contextPointer.release()
    }

    /// The fatal error librdkafka recorded, if any.
    func fatalError() -> KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var error = KafkaError.librdkafka(code, "the Kafka client", detail: String(nulTerminated: errstr))
        error.isFatal = true
        return error
    }
}

/// Mutable state shared with librdkafka's callbacks.
final class ClientContext: Sendable {
    let logger: Logger
    /// Rebalance notifications collected while the consumer polls, handed to the application after the poll.
    let rebalanceEvents = Mutex<[KafkaConsumerEvent]>([])
    /// The most recent error librdkafka reported through its error callback (broker down, authentication...).
    let lastError = Mutex<KafkaError?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientContext? {
        opaque.map { Unmanaged<ClientContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

// MARK: - C callbacks

private func logCallback(
    _ rk: OpaquePointer?,
    _ level: Int32,
    _ facility: UnsafePointer<CChar>?,
    _ message: UnsafePointer<CChar>?
) {
    guard let rk, let context = ClientContext.from(rd_kafka_opaque(rk)) else { return }
    // syslog levels: 0 emerg ... 3 err, 4 warning, 5 notice, 6 info, 7 debug
    let swiftLevel: Logger.Level =
        switch level {
        case ...3: .error
        case 4: .warning
        case 5, 6: .info
        default: .debug
        }
    context.logger.log(
        level: swiftLevel,
        "\(message.map { String(cString: $0) } ?? "")",
        metadata: ["kafka.facility": "\(facility.map { String(cString: $0) } ?? "")"]
    )
}

private func errorCallback(
    _ rk: OpaquePointer?,
    _ err: Int32,
    _ reason: UnsafePointer<CChar>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let context = ClientContext.from(opaque) else { return }
    let code = rd_kafka_resp_err_t(rawValue: err)
    let error = KafkaError.librdkafka(code, "the Kafka client", detail: reason.map { String(cString: $0) })
    context.lastError.withLock { $0 = error }
    // Most of these are transient (a broker restarting); librdkafka reconnects by itself.
    context.logger.warning("\(error.message)", metadata: ["kafka.error": "\(error.code)"])
}

private func deliveryCallback(
    _ rk: OpaquePointer?,
    _ message: UnsafePointer<rd_kafka_message_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let tagged = message.pointee._private else { return }
    let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
    let result: Result<KafkaDeliveryReport, any Error> =
        message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR
        ? .success(
            KafkaDeliveryReport(topic: topic, partition: message.pointee.partition, offset: message.pointee.offset)
        )
        : .failure(KafkaError.librdkafka(message.pointee.err, "delivering a message to topic \(topic)"))
    let (pointer, isBatch) = DeliveryOpaque.untag(tagged)
    if isBatch {
        let item = Unmanaged<BatchDelivery.Item>.fromOpaque(pointer).takeRetainedValue()
        item.batch.complete(item.index, result)
    } else {
        Unmanaged<DeliveryBox>.fromOpaque(pointer).takeRetainedValue().continuation.resume(with: result)
    }
}

private func rebalanceCallback(
    _ rk: OpaquePointer?,
    _ err: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let context = ClientContext.from(opaque) else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    let list = partitions.map { TopicPartitionList.topicPartitions(in: $0) } ?? []
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) {
                context.logger.error("\(KafkaError.consuming(error, "assigning partitions").message)")
            }
        } else {
            rd_kafka_assign(rk, partitions)
        }
        context.logger.debug("partitions assigned", metadata: ["kafka.partitions": "\(list)"])
        context.rebalanceEvents.withLock { $0.append(.partitionsAssigned(list)) }
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, partitions) {
                context.logger.error("\(KafkaError.consuming(error, "revoking partitions").message)")
            }
        } else {
            rd_kafka_assign(rk, nil)
        }
        context.logger.debug("partitions revoked", metadata: ["kafka.partitions": "\(list)"])
        context.rebalanceEvents.withLock { $0.append(.partitionsRevoked(list)) }
    default:
        context.logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(err))); dropping the assignment")
        rd_kafka_assign(rk, nil)
        context.rebalanceEvents.withLock { $0.append(.partitionsRevoked(list)) }
    }
}

/// Carries a `send`'s continuation through librdkafka as the message's opaque pointer.
final class DeliveryBox {
    let continuation: CheckedContinuation<KafkaDeliveryReport, any Error>

    init(_ continuation: CheckedContinuation<KafkaDeliveryReport, any Error>) {
        self.continuation = continuation
    }
}

/// Collects the delivery reports of a batch and resumes its single continuation when the last one arrives.
final class BatchDelivery: @unchecked Sendable {
    /// One message of the batch, carried through librdkafka as the message's opaque pointer.
    final class Item {
        let batch: BatchDelivery
        let index: Int
        init(batch: BatchDelivery, index: Int) {
            self.batch = batch
            self.index = index
        }
    }

    private let lock = NSLock()
    private var results: [Result<KafkaDeliveryReport, KafkaError>?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
    }

    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, any Error>) {
        let mapped = result.mapError { error in
            error as? KafkaError ?? KafkaError(code: .invalidArgument, message: String(describing: error))
        }
        let finished: [Result<KafkaDeliveryReport, KafkaError>]? = lock.withLock {
            guard results[index] == nil else { return nil }
            results[index] = mapped
            remaining -= 1
            return remaining == 0 ? results.map { $0! } : nil
        }
        guard let finished else { return }
        continuation.resume(returning: finished)
    }
}

/// The low bit of a message's opaque pointer says whether it points at a `BatchDelivery.Item` or a `DeliveryBox`
/// (both are aligned objects, so the bit is free).
enum DeliveryOpaque {
    static func tag(_ pointer: UnsafeMutableRawPointer, isBatch: Bool) -> UnsafeMutableRawPointer {
        isBatch ? UnsafeMutableRawPointer(bitPattern: UInt(bitPattern: pointer) | 1)! : pointer
    }

    static func untag(_ pointer: UnsafeMutableRawPointer) -> (UnsafeMutableRawPointer, isBatch: Bool) {
        let bits = UInt(bitPattern: pointer)
        return (UnsafeMutableRawPointer(bitPattern: bits & ~1)!, bits & 1 == 1)
    }
}
