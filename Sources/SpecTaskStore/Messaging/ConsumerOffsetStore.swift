import Logging
import PostgresNIO

/// Kafka positions kept in PostgreSQL next to the effects, with an owner generation per partition that fences
/// workers which lost the partition (zombies).
///
/// A worker *claims* a partition when Kafka assigns it: the generation goes up and the worker remembers it.
/// Every batch *advances* the offset in its own transaction only if the generation is still the worker's;
/// otherwise the transaction fails and nothing of the batch is applied.
public struct ConsumerOffsetStore: Sendable {
    public struct Claim: Sendable, Hashable {
        public var generation: Int64
        /// The first offset not applied yet.
        public var nextOffset: Int64
    }

    /// The partition belongs to another worker now; the batch must be dropped.
    public struct Fenced: Error, Sendable, Hashable, CustomStringConvertible {
        public var topic: String
        public var partition: Int32
        public var generation: Int64

        public init(topic: String, partition: Int32, generation: Int64) {
            self.topic = topic
            self.partition = partition
            self.generation = generation
        }

        public var description: String {
            "partition \(topic)[\(partition)] was claimed by another worker (this worker's generation \(generation) is stale); its batch is dropped"
        }
    }

    let logger: Logger
    public let group: String

    public init(group: String, logger: Logger) {
        self.group = group
        self.logger = logger
    }

    /// Takes ownership of a partition for `owner`: bumps its generation and returns where to continue.
    public func claim(topic: String, partition: Int32, owner: String, client: PostgresClient) async throws -> Claim {
        let (group, logger) = (self.group, self.logger)
        return try await client.withLiveConnection { connection in
            let rows = try await connection.query(
                """
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, owner_generation, owner_id)
                VALUES (\(group), \(topic), \(partition), 0, 1, \(owner))
                ON CONFLICT (consumer_group, topic, partition) DO UPDATE
                    SET owner_generation = consumer_offsets.owner_generation + 1, owner_id = EXCLUDED.owner_id,
                        updated_at = now()
                RETURNING owner_generation, next_offset
                """,
                logger: logger
            )
            for try await (generation, next) in rows.decode((Int64, Int64).self) {
                return Claim(generation: generation, nextOffset: next)
            }
            preconditionFailure("INSERT … RETURNING returned no row")
        }
    }

    /// Locks the partition's row, checks the generation and returns the first offset not applied yet.
    /// - Throws: `Fenced` when another worker claimed the partition since.
    public func lock(
        topic: String,
        partition: Int32,
        generation: Int64,
        on connection: PostgresConnection
    ) async throws -> Int64 {
        let rows = try await connection.query(
            """
            SELECT next_offset, owner_generation FROM consumer_offsets
            WHERE consumer_group = \(group) AND topic = \(topic) AND partition = \(partition) FOR UPDATE
            """,
            logger: logger
        )
        for try await (next, current) in rows.decode((Int64, Int64).self) {
            guard current == generation else {
                throw Fenced(topic: topic, partition: partition, generation: generation)
            }
            return next
        }
        throw Fenced(topic: topic, partition: partition, generation: generation)
    }

    /// Locks the offset rows of `generations`' partitions (in a stable order) and checks that each is still owned
    /// with that generation; one statement for any number of partitions.
    /// - Returns: Each partition's next offset to apply, and its epoch (how many times it was reset).
    /// - Throws: ``Fenced`` for the first partition another worker claimed since (or that was never claimed).
    public func lock(
        _ generations: [(topic: String, partition: Int32, generation: Int64)],
        on connection: PostgresConnection
    ) async throws -> [String: [Int32: (nextOffset: Int64, epoch: Int32)]] {
        guard !generations.isEmpty else { return [:] }
        let rows = try await connection.rows(
            LockOffsets(
                group: group,
                topics: generations.map(\.topic),
                partitions: generations.map(\.partition)
            ),
            logger: logger
        )
        var found: [String: [Int32: (next: Int64, generation: Int64, epoch: Int32)]] = [:]
        for (topic, partition, next, generation, epoch) in rows {
            found[topic, default: [:]][partition] = (next, generation, epoch)
        }
        var positions: [String: [Int32: (nextOffset: Int64, epoch: Int32)]] = [:]
        for wanted in generations {
            guard let row = found[wanted.topic]?[wanted.partition], row.generation == wanted.generation else {
                throw Fenced(topic: wanted.topic, partition: wanted.partition, generation: wanted.generation)
            }
            positions[wanted.topic, default: [:]][wanted.partition] = (row.next, row.epoch)
        }
        return positions
    }

    /// Adds to `statement` the update that moves the next offsets of `group`'s partitions forward (never back), in the
    /// caller's transaction after `lock` (nothing when there are no offsets, unless it keeps empty parts).
    static func addAdvance(
        _ offsets: [(topic: String, partition: Int32, nextOffset: Int64)],
        group: String,
        to statement: inout WriteStatement
    ) {
        guard statement.includes(offsets) else { return }
        let consumerGroup = statement.bind(group)
        let topics = statement.bind(offsets.map(\.topic))
        let partitions = statement.bind(offsets.map(\.partition))
        let nextOffsets = statement.bind(offsets.map(\.nextOffset))
        statement.add(
            """
            UPDATE consumer_offsets o SET next_offset = GREATEST(o.next_offset, p.next), updated_at = now()
            FROM unnest(\(topics)::text[], \(partitions)::int[], \(nextOffsets)::bigint[]) AS p(topic, partition, next)
            WHERE o.consumer_group = \(consumerGroup) AND o.topic = p.topic AND o.partition = p.partition
            """
        )
    }
}

/// `ConsumerOffsetStore.lock`'s statement (prepared: see PreparedStatement.swift).
struct LockOffsets: PostgresPreparedStatement {
    static let name = "spectask_lock_offsets"
    static let sql = """
        SELECT o.topic, o.partition, o.next_offset, o.owner_generation, o.epoch FROM consumer_offsets o
        JOIN unnest($2::text[], $3::int[]) AS p(topic, partition) ON o.topic = p.topic AND o.partition = p.partition
        WHERE o.consumer_group = $1
        ORDER BY o.topic, o.partition
        FOR UPDATE OF o
        """
    typealias Row = (String, Int32, Int64, Int64, Int32)

    var group: String
    var topics: [String]
    var partitions: [Int32]

    func makeBindings() -> PostgresBindings { PostgresBindings(group, topics, partitions) }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
