import Logging
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain

/// One message waiting to be published.
public struct OutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var topic: String
    public var key: String?
    public var payload: [UInt8]
    /// The outbox shard: every message of one spec task is in the same one (see ``OutboxShards``).
    public var shard: Int32
    /// The Kafka headers to publish with it; `nil` on a row written without them (before migration 0008, or moved
    /// back from `dead_letters`), whose headers the relay derives from the payload.
    public var headers: [MessageHeader]?

    /// - Parameter task: The spec task the message is about; its messages share a shard, so they leave in order.
    ///   Defaults to the key (the spec task id for status and progress events).
    public init(
        id: Int64 = 0,
        topic: String,
        key: String?,
        payload: [UInt8],
        task: String? = nil,
        headers: [MessageHeader]? = nil
    ) {
        self.init(
            id: id,
            topic: topic,
            key: key,
            payload: payload,
            shard: OutboxShards.shard(of: task ?? key),
            headers: headers
        )
    }

    public init(
        id: Int64,
        topic: String,
        key: String?,
        payload: [UInt8],
        shard: Int32,
        headers: [MessageHeader]? = nil
    ) {
        self.id = id
        self.topic = topic
        self.key = key
        self.payload = payload
        self.shard = shard
        self.headers = headers
    }
}

/// The outbox is split into a fixed number of shards by spec task id. A relay publishes a shard while holding its
/// lock, so one task's messages leave in order while many relays (one per worker) publish different shards at once.
public enum OutboxShards {
    public static let count: Int32 = 64

    /// Every shard, for a relay that looks for leftovers.
    public static var all: [Int32] { Array(0..<count) }

    /// A stable hash (FNV-1a) of the task id, so every process agrees on it; messages of no task go to shard 0.
    public static func shard(of task: String?) -> Int32 {
        guard let task else { return 0 }
        var hash: UInt32 = 2_166_136_261
        for byte in task.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(hash % UInt32(count))
    }
}

/// How the `headers` column holds a message's headers: a JSON array of `[key, value]` pairs, in order, values as text
/// (the worker's own headers are text; see ``KafkaBinding``), so `psql` shows them as they will be published.
///
/// Written and read for every output, on the hot path of every batch and every relay pass: a JSON array of
/// `[key, text]` pairs written by hand and read with the contract's strict parser, not through Foundation's
/// JSONEncoder/JSONDecoder and Codable, which took an eighth of a saturated worker's CPU here.
enum OutboxHeaders {
    static func encode(_ headers: [MessageHeader]) throws -> String {
        var text = "["
        for (index, header) in headers.enumerated() {
            if index > 0 { text += "," }
            text += "[" + OrderedJSON.quoted(header.key) + "," + OrderedJSON.quoted(header.text ?? "") + "]"
        }
        return text + "]"
    }

    /// The headers of a stored row; `nil` when the column does not hold such an array (the relay then derives them).
    static func decode(_ text: String) -> [MessageHeader]? {
        guard case .success(.array(let pairs)) = JSONValue.parse(text) else { return nil }
        var headers: [MessageHeader] = []
        headers.reserveCapacity(pairs.count)
        for pair in pairs {
            guard case .array(let members) = pair, members.count == 2, case .string(let key) = members[0],
                case .string(let value) = members[1]
            else { return nil }
            headers.append(MessageHeader(key: key, text: value))
        }
        return headers
    }
}

/// What became of one outbox message handed to a relay's publisher.
public enum OutboxDelivery: Sendable, Hashable {
    /// The broker acknowledged it: it leaves the outbox.
    case delivered
    /// The broker refused it for good (too large, illegal topic, not authorised): it moves to `dead_letters`.
    case refused(code: String, reason: String)
    /// A failure that may pass (broker unreachable, timeout): it stays and is published again later.
    case failed(reason: String)
}

/// One relay pass over some shards.
public struct OutboxRelayPass: Sendable, Hashable {
    /// The shards this pass held; the others were being published by another relay.
    public var lockedShards: Set<Int32> = []
    public var delivered = 0
    /// Messages moved to `dead_letters`, with why.
    public var deadLettered: [DeadLetter] = []
    /// Messages left in the outbox after a failure that may pass.
    public var failed = 0
    /// The first of those failures.
    public var firstFailure: String?
    /// The pass took as many messages as it was allowed: more may be waiting.
    public var full = false

    public init() {}
}

/// An outbox message the broker refused for good.
public struct DeadLetter: Sendable, Hashable {
    public var id: Int64
    public var topic: String
    public var key: String?
    public var size: Int
    public var code: String
    public var reason: String
}

/// The outbox: written in the effects' transaction, read and emptied by the relays.
public struct OutboxStore: Sendable {
    /// Arbitrary, fixed: the first half of each shard's advisory lock key (the second half is the shard number).
    static let relayLockClass: Int32 = 0x7370_6563

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Appends messages in the caller's transaction; they are published in this order.
    public func append(_ messages: [OutboxMessage], on connection: PostgresConnection) async throws {
        var statement = WriteStatement()
        try Self.addAppend(messages, to: &statement)
        try await statement.run(on: connection, logger: logger)
    }

    /// Adds the insert of `append` to `statement` (nothing when there are no messages, unless it keeps empty parts).
    static func addAppend(_ messages: [OutboxMessage], to statement: inout WriteStatement) throws {
        guard statement.includes(messages) else { return }
        let topics = statement.bind(messages.map(\.topic))
        let keys = statement.bind(messages.map { $0.key ?? "" })
        let hasKey = statement.bind(messages.map { $0.key != nil })
        let payloads = statement.bind(messages.map { ByteBuffer(bytes: $0.payload) })
        let shards = statement.bind(messages.map(\.shard))
        let headers = statement.bind(
            try messages.map { message in try message.headers.map(OutboxHeaders.encode) ?? "null" }
        )
        statement.add(
            """
            INSERT INTO outbox (topic, message_key, payload, shard, headers)
            SELECT t, CASE WHEN h THEN k END, p, s, NULLIF(hs::jsonb, 'null'::jsonb)
            FROM unnest(\(topics)::text[], \(keys)::text[], \(hasKey)::bool[], \(payloads)::bytea[], \(shards)::int[],
                \(headers)::text[]) WITH ORDINALITY AS m(t, k, h, p, s, hs, n)
            ORDER BY n
            """
        )
    }

    /// The shards that have messages waiting.
    ///
    /// Every outbox query is written so that its only reasonable plan walks the `(shard, id)` index: the outbox is a
    /// queue, so its statistics are usually those of an empty table (autovacuum last saw it drained) while thousands
    /// of rows and dead rows wait, and a plan that trusted them (a semi join rescanning the table for each shard, a
    /// delete scanning the whole index for its ids) took 200 ms per statement and most of the database's CPU.
    /// Here: from each shard found to the next one up, one index probe each (a loose index scan).
    public func waitingShards(client: PostgresClient) async throws -> Set<Int32> {
        let logger = self.logger
        return try await client.withLiveConnection { connection in
            var shards: Set<Int32> = []
            for try await shard in try await connection.query(
                """
                WITH RECURSIVE waiting(shard) AS (
                    (SELECT shard FROM outbox ORDER BY shard LIMIT 1)
                    UNION ALL
                    SELECT (SELECT o.shard FROM outbox o WHERE o.shard > w.shard ORDER BY o.shard LIMIT 1)
                    FROM waiting w WHERE w.shard IS NOT NULL
                )
                SELECT shard FROM waiting WHERE shard IS NOT NULL
                """,
                logger: logger
            ).decode(Int32.self) {
                shards.insert(shard)
            }
            return shards
        }
    }

    /// In one transaction: takes the lock of each of `shards` that no other relay holds, reads up to `limit` of
    /// their messages in order, hands them to `publish`, and then deletes the delivered ones and moves the refused
    /// ones to `dead_letters`. Messages that failed otherwise stay, and are published again later. When `publish`
    /// throws, nothing changes.
    ///
    /// A constant number of statements, whatever the number of messages, prepared (see PreparedStatement.swift).
    ///
    /// The commit waits for the disk, although losing the delete would only publish the messages again: with
    /// `synchronous_commit = off` (tried), a crash of PostgreSQL republished whatever the last few hundred
    /// milliseconds of passes had published, and `DatabaseOutageTests` saw commands with two outcomes.
    public func relay(
        shards: Set<Int32>,
        limit: Int,
        client: PostgresClient,
        publish: @escaping @Sendable ([OutboxMessage]) async throws -> [OutboxDelivery]
    ) async throws -> OutboxRelayPass {
        guard !shards.isEmpty else { return OutboxRelayPass() }
        return try await client.transaction(logger: logger) { connection in
            var pass = OutboxRelayPass()
            pass.lockedShards = Set(
                try await connection.rows(
                    TryLockShards(shards: shards.sorted(), lockClass: Self.relayLockClass),
                    logger: logger
                )
            )
            guard !pass.lockedShards.isEmpty else { return pass }
            let locked = pass.lockedShards.sorted()
            let messages = try await connection.rows(ReadShards(shards: locked, limit: limit), logger: logger)
            pass.full = messages.count == limit
            guard !messages.isEmpty else { return pass }
            let deliveries = try await publish(messages)
            precondition(deliveries.count == messages.count, "one delivery per message")

            var delivered: [Int64] = []
            for (message, delivery) in zip(messages, deliveries) {
                switch delivery {
                case .delivered:
                    delivered.append(message.id)
                case .refused(let code, let reason):
                    pass.deadLettered.append(
                        DeadLetter(
                            id: message.id,
                            topic: message.topic,
                            key: message.key,
                            size: message.payload.count,
                            code: code,
                            reason: reason
                        )
                    )
                case .failed(let reason):
                    pass.failed += 1
                    pass.firstFailure = pass.firstFailure ?? reason
                }
            }
            pass.delivered = delivered.count
            if !delivered.isEmpty {
                _ = try await connection.rows(DeletePublished(shards: locked, ids: delivered), logger: logger)
            }
            if !pass.deadLettered.isEmpty {
                let ids = pass.deadLettered.map(\.id)
                let codes = pass.deadLettered.map(\.code)
                let reasons = pass.deadLettered.map(\.reason)
                try await connection.query(
                    """
                    WITH moved AS (
                        DELETE FROM outbox
                        WHERE shard = ANY(\(locked)::int[]) AND id = ANY(\(ids)::bigint[])
                        RETURNING *
                    )
                    INSERT INTO dead_letters (id, topic, message_key, payload, error_code, reason, written_at)
                    SELECT moved.id, moved.topic, moved.message_key, moved.payload, why.code, why.reason, moved.created_at
                    FROM moved JOIN unnest(\(ids)::bigint[], \(codes)::text[], \(reasons)::text[]) AS why(id, code, reason)
                        ON why.id = moved.id
                    """,
                    logger: logger
                )
            }
            return pass
        }
    }

    /// The dead letters, oldest first (for operators and tests).
    public func deadLetters(limit: Int = 100, client: PostgresClient) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for try await (id, topic, key, size, code, reason) in try await client.query(
            """
            SELECT id, topic, message_key, length(payload), error_code, reason FROM dead_letters
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        ).decode((Int64, String, String?, Int, String, String).self) {
            letters.append(DeadLetter(id: id, topic: topic, key: key, size: size, code: code, reason: reason))
        }
        return letters
    }
}

/// Takes the relay lock of each shard no other relay holds; returns those taken.
struct TryLockShards: PostgresPreparedStatement {
    static let name = "spectask_outbox_try_lock_shards"
    static let sql = "SELECT s FROM unnest($1::int[]) AS s WHERE pg_try_advisory_xact_lock($2, s)"
    typealias Row = Int32

    var shards: [Int32]
    var lockClass: Int32

    func makeBindings() -> PostgresBindings { PostgresBindings(shards, lockClass) }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int32.self) }
}

/// The first `limit` messages of some shards, in the order they were written.
struct ReadShards: PostgresPreparedStatement {
    static let name = "spectask_outbox_read_shards"
    static let sql = """
        SELECT id, topic, message_key, payload, shard, headers::text FROM outbox
        WHERE shard = ANY($1::int[]) ORDER BY id LIMIT $2
        """
    typealias Row = OutboxMessage

    var shards: [Int32]
    var limit: Int

    func makeBindings() -> PostgresBindings { PostgresBindings(shards, limit) }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (id, topic, key, payload, shard, headers) = try row.decode(
            (Int64, String, String?, ByteBuffer, Int32, String?).self
        )
        return OutboxMessage(
            id: id,
            topic: topic,
            key: key,
            payload: Array(buffer: payload),
            shard: shard,
            headers: headers.flatMap(OutboxHeaders.decode)
        )
    }
}

/// Deletes published messages. The shards too, so the (shard, id) index finds every row (see `waitingShards`).
struct DeletePublished: PostgresPreparedStatement {
    static let name = "spectask_outbox_delete_published"
    static let sql = "DELETE FROM outbox WHERE shard = ANY($1::int[]) AND id = ANY($2::bigint[])"
    typealias Row = ()

    var shards: [Int32]
    var ids: [Int64]

    func makeBindings() -> PostgresBindings { PostgresBindings(shards, ids) }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
