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
        return Set(
            try await connection.rows(
                ClaimInboxIDs(
                    ids: sorted.map(\.messageID),
                    topics: sorted.map(\.topic),
                    partitions: sorted.map(\.partition),
                    offsets: sorted.map(\.offset)
                ),
                logger: logger
            )
        )
    }
}

/// `InboxStore.claim`'s statement (prepared: see PreparedStatement.swift).
struct ClaimInboxIDs: PostgresPreparedStatement {
    static let name = "spectask_claim_inbox_ids"
    static let sql = """
        INSERT INTO inbox (message_id, topic, partition, kafka_offset)
        SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int8[])
            AS entry (message_id, topic, partition, kafka_offset)
        ORDER BY message_id
        ON CONFLICT (message_id) DO NOTHING
        RETURNING message_id
        """
    typealias Row = String

    var ids: [String]
    var topics: [String]
    var partitions: [Int32]
    var offsets: [Int64]

    func makeBindings() -> PostgresBindings { PostgresBindings(ids, topics, partitions, offsets) }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
}
