/// A message read from a partition.
public struct KafkaConsumerMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch, as set by the producer or the broker; `nil` when absent.
    public var timestampMilliseconds: Int64?

    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The offset to commit once this message is finished: the next one to read.
    public var nextOffset: KafkaTopicPartitionOffset { KafkaTopicPartitionOffset(topicPartition, offset: offset + 1) }

    /// The first header with this key.
    public func header(_ key: String) -> [UInt8]? {
        headers.first { $0.key == key }?.value ?? nil
    }
}

/// What a poll hands to the application, in the order it happened.
public enum KafkaConsumerEvent: Sendable, Hashable {
    /// Partitions this member now owns.
    case partitionsAssigned([KafkaTopicPartition])
    /// Partitions this member no longer owns: whatever it has not committed for them will be read by another member.
    case partitionsRevoked([KafkaTopicPartition])
    /// Messages, in offset order per partition.
    case messages([KafkaConsumerMessage])
}
