import Kafka
import SpecTaskContract
import SpecTaskDomain

// The domain reads and writes headers as `MessageHeader` (it depends on no Kafka module); these convert at the edge.

extension KafkaHeader {
    public init(_ header: MessageHeader) {
        self.init(key: header.key, value: header.value)
    }
}

extension KafkaConsumerMessage {
    /// The headers, as the domain's decoder reads them.
    public var domainHeaders: [MessageHeader] {
        headers.map { MessageHeader(key: $0.key, value: $0.value) }
    }
}
