/// One partition of one topic.
public struct KafkaTopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A position in a partition. For commits it is the offset of the *next* message to read.
public struct KafkaTopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topicPartition: KafkaTopicPartition
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topicPartition = KafkaTopicPartition(topic: topic, partition: partition)
        self.offset = offset
    }

    public init(_ topicPartition: KafkaTopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    public var description: String { "\(topicPartition)@\(offset)" }

    /// The logical offset "the partition's first message" (librdkafka's `RD_KAFKA_OFFSET_BEGINNING`).
    public static let beginning: Int64 = -2
}
