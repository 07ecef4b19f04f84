import Logging
import PostgresNIO

/// One message waiting to be published.
public struct OutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var topic: String
    public var key: String?
    public var payload: [UInt8]

    public init(id: Int64 = 0, topic: String, key: String?, payload: [UInt8]) {
        self.id = id
        self.topic = topic
        self.key = key
        self.payload = payload
    }
}

/// The outbox: written in the effects' transaction, read and emptied by the relay.
public struct OutboxStore: Sendable {
    /// Arbitrary, fixed: one relay publishes at a time, so messages of one task leave in order.
    static let relayLockKey: Int64 = 0x7370_6563_6F75_7462

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Appends messages in the caller's transaction; they are published in this order.
    public func append(_ messages: [OutboxMessage], on connection: PostgresConnection) async throws {
        guard !messages.isEmpty else { return }
        let topics = messages.map(\.topic)
        let keys = messages.map { $0.key ?? "" }
        let hasKey = messages.map { $0.key != nil }
        let payloads = messages.map { ByteBuffer(bytes: $0.payload) }
        try await connection.query(
            """
            INSERT INTO outbox (topic, message_key, payload)
            SELECT t, CASE WHEN h THEN k END, p FROM unnest(\(topics)::text[], \(keys)::text[], \(hasKey)::bool[], \(payloads)::bytea[])
                WITH ORDINALITY AS m(t, k, h, p, n) ORDER BY n
            """,
            logger: logger
        )
    }

    /// In one transaction: takes the relay lock (or returns `false` at once when another relay holds it), reads up to
    /// `limit` messages in order, hands them to `publish`, and deletes them when `publish` returns.
    /// When `publish` throws, nothing is deleted and the messages are published again later.
    /// - Returns: how many messages were published, or `nil` when another relay is at work.
    public func relay(
        limit: Int,
        client: PostgresClient,
        publish: @Sendable ([OutboxMessage]) async throws -> Void
    ) async throws -> Int? {
        try await client.withTransaction(logger: logger) { connection in
            let locked = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(Self.relayLockKey))",
                logger: logger
            )
            .decode(Bool.self).reduce(into: [Bool]()) { $0.append($1) }
            guard locked.first == true else { return nil }
            var messages: [OutboxMessage] = []
            for try await (id, topic, key, payload) in try await connection.query(
                "SELECT id, topic, message_key, payload FROM outbox ORDER BY id LIMIT \(limit)",
                logger: logger
            ).decode((Int64, String, String?, ByteBuffer).self) {
                messages.append(OutboxMessage(id: id, topic: topic, key: key, payload: Array(buffer: payload)))
            }
            guard !messages.isEmpty else { return 0 }
            try await publish(messages)
            try await connection.query("DELETE FROM outbox WHERE id = ANY(\(messages.map(\.id)))", logger: logger)
            return messages.count
        }
    }
}
