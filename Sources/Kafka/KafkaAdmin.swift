import CRdKafka
import Logging

/// A topic to create.
public struct KafkaTopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    /// `-1` lets the broker use its default.
    public var replicationFactor: Int32
    /// Topic configs such as `cleanup.policy` or `retention.ms`.
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What the broker knows of a topic.
public struct KafkaTopicMetadata: Sendable, Hashable {
    public var name: String
    public var partitions: Int32

    public init(name: String, partitions: Int32) {
        self.name = name
        self.partitions = partitions
    }
}

/// Creates and describes topics.
public final class KafkaAdmin: Sendable {
    /// What happened to one topic of a `createTopics` call.
    public enum CreationOutcome: Sendable, Hashable {
        case created
        case alreadyExisted
    }

    private let client: RDKafkaClient
    private let blocking = BlockingCalls(label: "spectask.kafka.admin", serial: false)

    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        var properties = configuration.properties
        properties.merge(configuration.additionalProperties) { $1 }
        client = try RDKafkaClient(kind: .producer, properties: properties, logger: logger)
    }

    /// Creates the topics that do not exist yet; existing ones are left as they are.
    /// - Returns: per topic name, whether it was created now or existed already.
    /// - Throws: `KafkaError` naming the first topic that could not be created, and why.
    public func createTopics(
        _ topics: [KafkaTopicSpecification],
        timeout: Duration = .seconds(30)
    ) async throws -> [String: CreationOutcome] {
        for topic in topics { try TopicName.validate(topic.name) }
        let client = self.client
        return try await blocking.run {
            var errstr = [CChar](repeating: 0, count: 512)
            var newTopics: [OpaquePointer?] = []
            defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
            for topic in topics {
                guard
                    let newTopic = rd_kafka_NewTopic_new(
                        topic.name,
                        topic.partitions,
                        topic.replicationFactor,
                        &errstr,
                        errstr.count
                    )
                else {
                    throw KafkaError(
                        code: .invalidArgument,
                        message: "topic \(topic.name): \(String(nulTerminated: errstr))"
                    )
                }
                newTopics.append(newTopic)
                for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                    let code = rd_kafka_NewTopic_set_config(newTopic, key, value)
                    if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                        throw KafkaError.librdkafka(code, "setting \(key)=\(value) on topic \(topic.name)")
                    }
                }
            }
            let queue = rd_kafka_queue_new(client.handle)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            rd_kafka_AdminOptions_set_request_timeout(options, Int32(timeout.milliseconds), &errstr, errstr.count)
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(client.handle, buffer.baseAddress, buffer.count, options, queue)
            }
            guard let event = rd_kafka_queue_poll(queue, Int32(timeout.milliseconds) + 1000) else {
                throw KafkaError(
                    code: .librdkafka(RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue),
                    message: "creating topics timed out after \(timeout); is the broker reachable?",
                    isRetriable: true
                )
            }
            defer { rd_kafka_event_destroy(event) }
            let eventError = rd_kafka_event_error(event)
            if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.librdkafka(
                    eventError,
                    "creating topics",
                    detail: rd_kafka_event_error_string(event).map { String(cString: $0) }
                )
            }
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            var outcomes: [String: CreationOutcome] = [:]
            for index in 0..<count {
                guard let result = results?[index] else { continue }
                let name = String(cString: rd_kafka_topic_result_name(result))
                switch rd_kafka_topic_result_error(result) {
                case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes[name] = .created
                case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcomes[name] = .alreadyExisted
                case let code:
                    throw KafkaError.librdkafka(
                        code,
                        "creating topic \(name)",
                        detail: rd_kafka_topic_result_error_string(result).map { String(cString: $0) }
                    )
                }
            }
            return outcomes
        }
    }

    /// The topics the cluster has, sorted by name.
    public func listTopics(timeout: Duration = .seconds(10)) async throws -> [KafkaTopicMetadata] {
        let client = self.client
        return try await blocking.run {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let code = rd_kafka_metadata(client.handle, 1, nil, &metadata, Int32(timeout.milliseconds))
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError.librdkafka(code, "reading cluster metadata")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
            return topics.filter { $0.err == RD_KAFKA_RESP_ERR_NO_ERROR }
                .map { KafkaTopicMetadata(name: String(cString: $0.topic), partitions: $0.partition_cnt) }
                .sorted { $0.name < $1.name }
        }
    }

    /// One topic, or `nil` when the cluster does not have it.
    public func describeTopic(_ name: String, timeout: Duration = .seconds(10)) async throws -> KafkaTopicMetadata? {
        try await listTopics(timeout: timeout).first { $0.name == name }
    }
}
