import Logging
import PostgresNIO

/// The first statement of every batch, one round trip where there were three (each about a millisecond of a light
/// batch): it locks the offset rows of the batch's partitions and reads where each stands (fencing: see
/// ``ConsumerOffsetStore``), claims in the inbox the ids of the inputs at or after each partition's next offset,
/// and takes the advisory lock of every spec task the batch names.
///
/// Everything is taken in the order the three statements took it, so two batches never deadlock: the offset rows in
/// partition order, then the inbox ids in id order (a transaction inserting an id another open transaction holds
/// waits for it, then gets nothing back for that id when the other one committed, so an id sent twice, even on two
/// partitions at once, is applied once), then the advisory locks in id order (they also cover a task that does not
/// exist yet, so two creates of one id never interleave). The statement that loads the spec tasks must come after
/// this one: its snapshot is then taken once the locks are held, so it sees what the transactions that held them
/// before committed (a task created meanwhile, say; `TaskLockTests`).
public struct BatchIntake: Sendable {
    /// Where a partition stands.
    public struct Position: Sendable, Hashable {
        /// The first offset not applied yet: messages below it were applied already.
        public var nextOffset: Int64
        /// How many times the partition's position was reset (see `spectask offsets reset`).
        public var epoch: Int32
    }

    public struct Result: Sendable {
        public var positions: [KafkaPartition: Position] = [:]
        /// The ids claimed now: the others were handled before (or are claimed by an input below its partition's next
        /// offset, which was handled before too).
        public var claimed: Set<String> = []
    }

    /// A partition of a topic, as the offsets table names it.
    public struct KafkaPartition: Sendable, Hashable, Comparable {
        public var topic: String
        public var partition: Int32

        public init(topic: String, partition: Int32) {
            self.topic = topic
            self.partition = partition
        }

        public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    }

    let group: String
    let logger: Logger

    public init(group: String, logger: Logger) {
        self.group = group
        self.logger = logger
    }

    /// Runs the intake of a batch in the caller's transaction.
    ///
    /// - Parameters:
    ///   - generations: The generation this worker claimed each of the batch's partitions with.
    ///   - inputs: Every input of the batch with an idempotency key, in offset order; of an id repeated at or after
    ///     its partition's next offset, the first occurrence is claimed.
    ///   - subjects: The spec tasks the batch's inputs name.
    /// - Throws: ``ConsumerOffsetStore/Fenced`` for the first partition another worker claimed since (or that was never
    ///   claimed): nothing of the batch may be applied, and the caller's transaction must roll back.
    public func run(
        generations: [KafkaPartition: Int64],
        inputs: [InboxStore.Entry],
        subjects: Set<String>,
        on connection: PostgresConnection
    ) async throws -> Result {
        let partitions = generations.keys.sorted()
        let rows = try await connection.rows(
            IntakeStatement(
                group: group,
                topics: partitions.map(\.topic),
                partitions: partitions.map(\.partition),
                ids: inputs.map(\.messageID),
                inputTopics: inputs.map(\.topic),
                inputPartitions: inputs.map(\.partition),
                inputOffsets: inputs.map(\.offset),
                subjects: subjects.sorted()
            ),
            logger: logger
        )
        var result = Result()
        var stored: [KafkaPartition: Int64] = [:]
        for (topic, partition, next, generation, epoch, claimed) in rows {
            if let claimed {
                result.claimed.insert(claimed)
            } else if let topic, let partition, let next, let generation, let epoch {
                let key = KafkaPartition(topic: topic, partition: partition)
                stored[key] = generation
                result.positions[key] = Position(nextOffset: next, epoch: epoch)
            }
        }
        for partition in partitions where stored[partition] != generations[partition] {
            throw ConsumerOffsetStore.Fenced(
                topic: partition.topic,
                partition: partition.partition,
                generation: generations[partition]!
            )
        }
        return result
    }
}

/// ``BatchIntake``'s statement (prepared: see PreparedStatement.swift). The branches of the final `UNION ALL` run in
/// order, and each CTE is evaluated when first read: the offset rows are locked, then the inbox claimed, then the
/// advisory locks taken.
struct IntakeStatement: PostgresPreparedStatement {
    static let name = "spectask_batch_intake"
    static let sql = """
        WITH positions AS (
            SELECT o.topic, o.partition, o.next_offset, o.owner_generation, o.epoch FROM consumer_offsets o
            JOIN unnest($2::text[], $3::int[]) AS p(topic, partition) ON o.topic = p.topic AND o.partition = p.partition
            WHERE o.consumer_group = $1
            ORDER BY o.topic, o.partition
            FOR UPDATE OF o
        ), claimed AS (
            INSERT INTO inbox (message_id, topic, partition, kafka_offset)
            SELECT message_id, topic, partition, kafka_offset FROM (
                SELECT DISTINCT ON (e.message_id) e.message_id, e.topic, e.partition, e.kafka_offset
                FROM unnest($4::text[], $5::text[], $6::int4[], $7::int8[]) WITH ORDINALITY
                    AS e(message_id, topic, partition, kafka_offset, n)
                JOIN positions p ON p.topic = e.topic AND p.partition = e.partition AND e.kafka_offset >= p.next_offset
                ORDER BY e.message_id, e.n
            ) AS first_occurrences
            ORDER BY message_id
            ON CONFLICT (message_id) DO NOTHING
            RETURNING message_id
        ), locked AS (
            SELECT count(pg_advisory_xact_lock(hashtextextended(id, \(SpecTaskRepository.subjectLockSeed))))
            FROM (SELECT id FROM unnest($8::text[]) AS id ORDER BY id) AS subjects
        )
        SELECT topic, partition, next_offset, owner_generation, epoch, NULL::text AS claimed FROM positions
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, message_id FROM claimed
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, NULL FROM locked
        """
    typealias Row = (String?, Int32?, Int64?, Int64?, Int32?, String?)

    var group: String
    var topics: [String]
    var partitions: [Int32]
    var ids: [String]
    var inputTopics: [String]
    var inputPartitions: [Int32]
    var inputOffsets: [Int64]
    /// Sorted, without duplicates.
    var subjects: [String]

    func makeBindings() -> PostgresBindings {
        PostgresBindings(group, topics, partitions, ids, inputTopics, inputPartitions, inputOffsets, subjects)
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
