import Logging
import PostgresNIO

/// The ids of input messages already handled, so a message sent twice (a producer retry, a client resending)
/// is applied once.
public struct InboxStore: Sendable {
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

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Records ids as handled, in the caller's transaction, and returns those that were not handled before.
    ///
    /// Rows are inserted in id order; a transaction inserting an id another open transaction holds waits for it,
    /// then gets nothing back for that id when the other one committed.
    public func claim(_ entries: [Entry], on connection: PostgresConnection) async throws -> Set<String> {
        guard !entries.isEmpty else { return [] }
        let sorted = entries.sorted { $0.messageID < $1.messageID }
        var claimed: Set<String> = []
        let rows = try await connection.query(
            """
            INSERT INTO inbox (message_id, topic, partition, kafka_offset)
            SELECT * FROM unnest(\(sorted.map(\.messageID))::text[], \(sorted.map(\.topic))::text[],
                                 \(sorted.map { Int32($0.partition) })::int4[], \(sorted.map(\.offset))::int8[])
                AS entry (message_id, topic, partition, kafka_offset)
            ORDER BY message_id
            ON CONFLICT (message_id) DO NOTHING
            RETURNING message_id
            """,
            logger: logger
        )
        for try await id in rows.decode(String.self) { claimed.insert(id) }
        return claimed
    }
}
