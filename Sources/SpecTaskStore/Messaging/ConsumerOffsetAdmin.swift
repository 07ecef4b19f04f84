import Logging
import PostgresNIO

/// Operator access to the Kafka positions the workers keep in `consumer_offsets` (see ``ConsumerOffsetStore``),
/// across consumer groups: what is stored, and moving it back to the beginning of the topics.
public struct ConsumerOffsetAdmin: Sendable {
    /// Which stored positions an operation covers.
    public struct Selection: Sendable, Hashable {
        /// One consumer group; `nil`: every group.
        public var group: String?
        /// Only topics whose name starts with this; `nil`: every topic.
        public var topicPrefix: String?

        public init(group: String? = nil, topicPrefix: String? = nil) {
            self.group = group
            self.topicPrefix = topicPrefix
        }
    }

    /// One partition's stored position.
    public struct Position: Sendable, Hashable {
        public var group: String
        public var topic: String
        public var partition: Int32
        /// The first offset not applied yet.
        public var nextOffset: Int64
        public var generation: Int64

        public init(group: String, topic: String, partition: Int32, nextOffset: Int64, generation: Int64) {
            self.group = group
            self.topic = topic
            self.partition = partition
            self.nextOffset = nextOffset
            self.generation = generation
        }
    }

    /// One partition moved back: where it was, and its position and generation now.
    public struct Reset: Sendable, Hashable {
        public var before: Position
        public var after: Position
    }

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Whether the database has the `consumer_offsets` table (it is migrated).
    public func tableExists(client: PostgresClient) async throws -> Bool {
        var exists = false
        for try await value in try await client.query(
            "SELECT to_regclass('consumer_offsets') IS NOT NULL",
            logger: logger
        ).decode(Bool.self) {
            exists = value
        }
        return exists
    }

    /// The stored positions `selection` covers, by group, topic and partition.
    public func positions(_ selection: Selection, client: PostgresClient) async throws -> [Position] {
        var positions: [Position] = []
        for try await (group, topic, partition, next, generation) in try await client.query(
            """
            SELECT consumer_group, topic, partition, next_offset, owner_generation FROM consumer_offsets
            WHERE (\(selection.group)::text IS NULL OR consumer_group = \(selection.group)::text)
              AND (\(selection.topicPrefix)::text IS NULL OR starts_with(topic, \(selection.topicPrefix)::text))
            ORDER BY consumer_group, topic, partition
            """,
            logger: logger
        ).decode((String, String, Int32, Int64, Int64).self) {
            positions.append(
                Position(group: group, topic: topic, partition: partition, nextOffset: next, generation: generation)
            )
        }
        return positions
    }

    /// Moves every position `selection` covers back to offset 0, the beginning of its partition, and bumps its
    /// owner generation, so a worker still holding the partition is fenced (its next batch fails and it claims
    /// the partition again, reading from the new position), and bumps its epoch, so the ids of the outputs of the
    /// messages read again never repeat those published before. One statement: all of them or none.
    ///
    /// - Returns: The partitions reset, by group, topic and partition.
    public func resetToBeginning(_ selection: Selection, client: PostgresClient) async throws -> [Reset] {
        var resets: [Reset] = []
        for try await (group, topic, partition, previous, previousGeneration, generation) in try await client.query(
            """
            UPDATE consumer_offsets o
            SET next_offset = 0, owner_generation = o.owner_generation + 1, epoch = o.epoch + 1, updated_at = now()
            FROM (
                SELECT consumer_group, topic, partition, next_offset, owner_generation FROM consumer_offsets
                WHERE (\(selection.group)::text IS NULL OR consumer_group = \(selection.group)::text)
                  AND (\(selection.topicPrefix)::text IS NULL OR starts_with(topic, \(selection.topicPrefix)::text))
                ORDER BY consumer_group, topic, partition
                FOR UPDATE
            ) AS before
            WHERE o.consumer_group = before.consumer_group AND o.topic = before.topic
              AND o.partition = before.partition
            RETURNING o.consumer_group, o.topic, o.partition, before.next_offset, before.owner_generation,
                      o.owner_generation
            """,
            logger: logger
        ).decode((String, String, Int32, Int64, Int64, Int64).self) {
            resets.append(
                Reset(
                    before: Position(
                        group: group,
                        topic: topic,
                        partition: partition,
                        nextOffset: previous,
                        generation: previousGeneration
                    ),
                    after: Position(
                        group: group,
                        topic: topic,
                        partition: partition,
                        nextOffset: 0,
                        generation: generation
                    )
                )
            )
        }
        return resets.sorted {
            ($0.after.group, $0.after.topic, $0.after.partition) < ($1.after.group, $1.after.topic, $1.after.partition)
        }
    }
}
