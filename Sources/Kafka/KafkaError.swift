import CRdKafka

/// An error from the Kafka layer: what went wrong, to what, and whether trying again can help.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case configuration
            case invalidArgument
            case clientClosed
            case librdkafka(Int32)
        }

        let base: Base

        /// A configuration property was rejected by librdkafka or by this layer.
        public static let configuration = Code(base: .configuration)
        /// An argument can never succeed (for example an illegal topic name).
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The client was closed; nothing more can be done with it.
        public static let clientClosed = Code(base: .clientClosed)
        /// An error code reported by librdkafka or the broker (`rd_kafka_resp_err_t`).
        public static func librdkafka(_ raw: Int32) -> Code { Code(base: .librdkafka(raw)) }

        /// The librdkafka error code, if this error came from librdkafka.
        public var librdkafkaCode: Int32? {
            if case .librdkafka(let raw) = base { return raw }
            return nil
        }

        public var description: String {
            switch base {
            case .configuration: "configuration"
            case .invalidArgument: "invalidArgument"
            case .clientClosed: "clientClosed"
            case .librdkafka(let raw): String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: raw)))
            }
        }
    }

    public var code: Code
    /// A sentence saying what happened, to what, and what to do.
    public var message: String
    /// Trying the same operation again later may succeed (broker unreachable, leader moving, queue full...).
    public var isRetriable: Bool
    /// The client can not recover; it must be recreated.
    public var isFatal: Bool

    public init(code: Code, message: String, isRetriable: Bool = false, isFatal: Bool = false) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    public var description: String { "KafkaError(\(code)): \(message)" }

    /// Sending the same record again can never succeed: it is too large, its topic name is illegal, or this client
    /// may not write to its topic. A relay sets such a record aside instead of retrying it forever.
    public var isPermanentForRecord: Bool {
        if code == .invalidArgument { return true }
        guard let raw = code.librdkafkaCode else { return false }
        return Self.permanentRecordCodes.contains(raw)
    }
}

// MARK: - Mapping librdkafka errors

extension KafkaError {
    /// Error codes where the same request can succeed later without any change by the application.
    static let retriableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__WAIT_COORD,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__PARTITION_EOF,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Error codes that refuse one record for good (see ``isPermanentForRecord``).
    static let permanentRecordCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR__INVALID_ARG,
        RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Error codes after which the client instance is unusable.
    static let fatalCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
        RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR__AUTHENTICATION,
        RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Maps a librdkafka response code to an error, with the operation it interrupted as context.
    /// - Parameters:
    ///   - code: the `rd_kafka_resp_err_t` reported by librdkafka.
    ///   - context: what was being done, e.g. `"delivering to topic spectask.commands"`.
    static func librdkafka(_ code: rd_kafka_resp_err_t, _ context: String, detail: String? = nil) -> KafkaError {
        let text = detail ?? String(cString: rd_kafka_err2str(code))
        return KafkaError(
            code: .librdkafka(code.rawValue),
            message: "\(context) failed: \(text) (\(String(cString: rd_kafka_err2name(code))))",
            isRetriable: retriableCodes.contains(code.rawValue),
            isFatal: fatalCodes.contains(code.rawValue)
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` (and destroys it), keeping librdkafka's own retriable/fatal flags.
    static func consuming(_ error: OpaquePointer, _ context: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        var mapped = librdkafka(code, context, detail: String(cString: rd_kafka_error_string(error)))
        mapped.isRetriable = mapped.isRetriable || rd_kafka_error_is_retriable(error) != 0
        mapped.isFatal = mapped.isFatal || rd_kafka_error_is_fatal(error) != 0
        return mapped
    }

    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: .clientClosed, message: "\(what): the Kafka client is closed")
    }
}
