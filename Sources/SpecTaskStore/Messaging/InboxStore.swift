/// The ids of input messages already handled, so a message sent twice (a producer retry, a client resending)
/// is applied once. ``BatchIntake`` claims them, in every batch's first statement.
public enum InboxStore {
    /// An input whose id a batch claims, and where it was read.
    public struct Entry: Sendable, Hashable {
        public var messageID: String
        public var topic: String
        public var partition: Int32
        public var offset: Int64

        public init(messageID: String, topic: String, partition: Int32, offset: Int64) {
            self.messageID = messageID
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }
}
