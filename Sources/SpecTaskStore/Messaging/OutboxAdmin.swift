import Foundation
import Logging
import PostgresNIO

/// Operator access to the outbox and its dead letters (see ``OutboxStore``): how much waits to be published, what
/// the broker refused for good, and moving a dead letter back into the outbox once what refused it has changed.
public struct OutboxAdmin: Sendable {
    /// The outbox rows waiting for one topic.
    public struct TopicBacklog: Sendable, Hashable, Codable {
        public var topic: String
        public var rows: Int
        /// Seconds since the oldest of them was written, by the database's clock.
        public var oldestAgeSeconds: Double
    }

    /// The outbox and the dead letters at one moment.
    public struct Status: Sendable, Hashable, Codable {
        /// Outbox rows waiting to be published, all topics together.
        public var rows: Int
        /// Seconds since the oldest waiting row was written; `nil` when nothing waits.
        public var oldestAgeSeconds: Double?
        /// Per topic, by name.
        public var topics: [TopicBacklog]
        /// Messages the broker refused for good, kept until `SPECTASK_DEAD_LETTER_RETENTION` passes.
        public var deadLetters: Int
        /// Seconds since the oldest dead letter was set aside; `nil` when there is none.
        public var oldestDeadLetterAgeSeconds: Double?
    }

    /// A dead letter with the times it was written to the outbox and set aside.
    public struct DeadLetterRow: Sendable, Hashable {
        public var letter: DeadLetter
        public var writtenAt: Date
        public var deadAt: Date
    }

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Whether the database has the `outbox` and `dead_letters` tables (it is migrated).
    public func tablesExist(client: PostgresClient) async throws -> Bool {
        var exists = false
        for try await value in try await client.query(
            "SELECT to_regclass('outbox') IS NOT NULL AND to_regclass('dead_letters') IS NOT NULL",
            logger: logger
        ).decode(Bool.self) {
            exists = value
        }
        return exists
    }

    /// How many rows wait per topic and how old the oldest are, and how many dead letters there are.
    public func status(client: PostgresClient) async throws -> Status {
        var topics: [TopicBacklog] = []
        for try await (topic, rows, age) in try await client.query(
            """
            SELECT topic, count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM outbox
            GROUP BY topic ORDER BY topic
            """,
            logger: logger
        ).decode((String, Int, Double).self) {
            topics.append(TopicBacklog(topic: topic, rows: rows, oldestAgeSeconds: max(0, age)))
        }
        var deadLetters = 0
        var oldestDeadLetter: Double?
        for try await (count, age) in try await client.query(
            "SELECT count(*), EXTRACT(EPOCH FROM now() - min(dead_at))::float8 FROM dead_letters",
            logger: logger
        ).decode((Int, Double?).self) {
            deadLetters = count
            oldestDeadLetter = age.map { max(0, $0) }
        }
        return Status(
            rows: topics.reduce(0) { $0 + $1.rows },
            oldestAgeSeconds: topics.map(\.oldestAgeSeconds).max(),
            topics: topics,
            deadLetters: deadLetters,
            oldestDeadLetterAgeSeconds: oldestDeadLetter
        )
    }

    /// Up to `limit` dead letters, oldest first, and how many there are in all.
    public func deadLetters(limit: Int, client: PostgresClient) async throws -> (rows: [DeadLetterRow], total: Int) {
        var rows: [DeadLetterRow] = []
        for try await (id, topic, key, size, code, reason, writtenAt, deadAt) in try await client.query(
            """
            SELECT id, topic, message_key, length(payload), error_code, reason, written_at, dead_at FROM dead_letters
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        ).decode((Int64, String, String?, Int, String, String, Date, Date).self) {
            rows.append(
                DeadLetterRow(
                    letter: DeadLetter(id: id, topic: topic, key: key, size: size, code: code, reason: reason),
                    writtenAt: writtenAt,
                    deadAt: deadAt
                )
            )
        }
        var total = rows.count
        for try await count in try await client.query("SELECT count(*) FROM dead_letters", logger: logger).decode(
            Int.self
        ) {
            total = count
        }
        return (rows, total)
    }

    /// One dead letter, or `nil` when there is none with this id.
    public func deadLetter(id: Int64, client: PostgresClient) async throws -> DeadLetterRow? {
        var found: DeadLetterRow?
        for try await (topic, key, size, code, reason, writtenAt, deadAt) in try await client.query(
            """
            SELECT topic, message_key, length(payload), error_code, reason, written_at, dead_at FROM dead_letters
            WHERE id = \(id)
            """,
            logger: logger
        ).decode((String, String?, Int, String, String, Date, Date).self) {
            found = DeadLetterRow(
                letter: DeadLetter(id: id, topic: topic, key: key, size: size, code: code, reason: reason),
                writtenAt: writtenAt,
                deadAt: deadAt
            )
        }
        return found
    }

    /// Moves a dead letter back into the outbox, in one transaction; the relays publish it as they publish any
    /// row (and set it aside again if the broker still refuses it).
    ///
    /// The row keeps its id, so it is the same number in `outbox` as it was in `dead_letters`, and it goes out
    /// before the later rows of its shard. Its shard is its key's: the messages its spec task wrote after it went
    /// on without it, so it is out of their order whichever shard it takes.
    ///
    /// - Returns: The dead letter as it was, or `nil` when there is none with this id (nothing changes).
    public func redriveDeadLetter(id: Int64, client: PostgresClient) async throws -> DeadLetter? {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            var found: DeadLetter?
            for try await (topic, key, size, code, reason) in try await connection.query(
                """
                SELECT topic, message_key, length(payload), error_code, reason FROM dead_letters
                WHERE id = \(id) FOR UPDATE
                """,
                logger: logger
            ).decode((String, String?, Int, String, String).self) {
                found = DeadLetter(id: id, topic: topic, key: key, size: size, code: code, reason: reason)
            }
            guard let found else { return nil }
            try await connection.query(
                """
                WITH moved AS (DELETE FROM dead_letters WHERE id = \(id) RETURNING id, topic, message_key, payload)
                INSERT INTO outbox (id, topic, message_key, payload, shard)
                SELECT id, topic, message_key, payload, \(OutboxShards.shard(of: found.key)) FROM moved
                """,
                logger: logger
            )
            return found
        }
    }
}
