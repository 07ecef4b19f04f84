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
