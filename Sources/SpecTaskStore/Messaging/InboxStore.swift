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

    /// Which of these ids were handled before.
    public func seen(_ ids: [String], on connection: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        var seen: Set<String> = []
        for try await id in try await connection.query(
            "SELECT message_id FROM inbox WHERE message_id = ANY(\(ids))",
            logger: logger
        )
        .decode(String.self) {
            seen.insert(id)
        }
        return seen
    }

    /// Records ids as handled, in the caller's transaction.
    public func record(_ entries: [Entry], on connection: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO inbox (message_id, topic, partition, kafka_offset)
            SELECT * FROM unnest(\(entries.map(\.messageID))::text[], \(entries.map(\.topic))::text[],
                                 \(entries.map { Int32($0.partition) })::int4[], \(entries.map(\.offset))::int8[])
            ON CONFLICT (message_id) DO NOTHING
            """,
            logger: logger
        )
    }
}
