import Foundation
import Logging
import PostgresNIO
import SpecTaskDomain

/// A spec task's state as stored, with the number its next status event gets.
public struct StoredSpecTask: Sendable, Hashable {
    public var state: SpecTaskState
    /// The sequence number of the next `spectask.status` event of this task (gap-free, from 1).
    public var nextSequence: Int64

    public init(state: SpecTaskState, nextSequence: Int64 = 1) {
        self.state = state
        self.nextSequence = nextSequence
    }
}

/// Reads and writes spec task states. Write methods run inside the caller's transaction.
public struct SpecTaskRepository: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The second half of the advisory lock key of a spec task id (`hashtextextended(id, seed)`).
    static let subjectLockSeed = 7

    /// Takes the advisory lock of one subject if nobody holds it. - Returns: whether it was taken.
    public func tryLockSubject(_ id: String, on connection: PostgresConnection) async throws -> Bool {
        var locked = false
        for try await value in try await connection.query(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(\(id), \(Self.subjectLockSeed)))",
            logger: logger
        ).decode(Bool.self) {
            locked = value
        }
        return locked
    }

    /// Records, per spec task, the `zed.events` partition its instance's events arrive on (for the heartbeat
    /// sweepers), in one statement; rows that already say so are not written.
    public func recordEventsPartitions(
        _ partitions: [String: Int32],
        topic: String,
        on connection: PostgresConnection
    ) async throws {
        guard !partitions.isEmpty else { return }
        let tasks = partitions.keys.sorted()
        try await connection.query(
            """
            UPDATE zed_instances z SET events_topic = \(topic), events_partition = p.partition
            FROM unnest(\(tasks)::text[], \(tasks.map { partitions[$0]! })::int[]) AS p(task, partition)
            WHERE z.spec_task_id = p.task AND z.replaced_at IS NULL
              AND (z.events_topic IS DISTINCT FROM \(topic) OR z.events_partition IS DISTINCT FROM p.partition)
            """,
            logger: logger
        )
    }

    /// Records the `zed.events` topic of the instances just created for these spec tasks: their runners will
    /// answer there, and only the sweepers of this system may time them out. The partition is copied from an
    /// instance the new one replaced (a spec task's events are keyed by its id, so they keep their partition);
    /// otherwise it is known once the runner first reports.
    public func recordEventsTopic(
        ofNewInstancesOf specTaskIDs: [String],
        topic: String,
        on connection: PostgresConnection
    ) async throws {
        guard !specTaskIDs.isEmpty else { return }
        try await connection.query(
            """
            UPDATE zed_instances z SET events_topic = \(topic), events_partition = (
                SELECT o.events_partition FROM zed_instances o
                WHERE o.spec_task_id = z.spec_task_id AND o.replaced_at IS NOT NULL AND o.events_topic = \(topic)
                ORDER BY o.replaced_at DESC LIMIT 1
            )
            WHERE z.spec_task_id = ANY(\(specTaskIDs.sorted())) AND z.replaced_at IS NULL AND z.events_topic IS NULL
            """,
            logger: logger
        )
    }

    /// The spec task a work session belongs to, or `nil` when there is no such session.
    public func specTaskID(ofWorkSession id: String, on connection: PostgresConnection) async throws -> String? {
        for try await taskID in try await connection.query(
            "SELECT spec_task_id FROM work_sessions WHERE id = \(id)",
            logger: logger
        ).decode(String.self) {
            return taskID
        }
        return nil
    }

    /// Answers when PostgreSQL answers a trivial query: the readiness probe.
    public func ping(client: PostgresClient) async throws {
        let logger = self.logger
        _ = try await client.withLiveConnection { try await $0.query("SELECT 1", logger: logger) }
    }

    /// Spec tasks whose Zed instance, fed from `partitions` of `eventsTopic`, has been silent past a timeout: ready
    /// with no heartbeat since `readyBefore`, disconnected with none since `disconnectedBefore`, or pending (never
    /// reported) since it was created before `pendingBefore`; most silent first.
    ///
    /// A pending instance whose runner never reported has no partition yet: it is found by every sweeper of
    /// `eventsTopic` that has read its own partitions to the end.
    public func tasksWithSilentInstances(
        eventsTopic: String,
        partitions: [Int32],
        pendingBefore: Date,
        readyBefore: Date,
        disconnectedBefore: Date,
        limit: Int,
        client: PostgresClient
    ) async throws -> [String] {
        let logger = self.logger
        return try await client.withLiveConnection { connection in
            let rows = try await connection.query(
                """
                (SELECT spec_task_id, last_heartbeat_at AS silent_since FROM zed_instances
                WHERE events_topic = \(eventsTopic) AND events_partition = ANY(\(partitions)) AND replaced_at IS NULL
                  AND ((status = 'ready' AND last_heartbeat_at < \(readyBefore))
                    OR (status = 'disconnected' AND last_heartbeat_at < \(disconnectedBefore))))
                UNION ALL
                (SELECT spec_task_id, created_at FROM zed_instances
                WHERE status = 'pending' AND replaced_at IS NULL AND created_at < \(pendingBefore)
                  AND events_topic = \(eventsTopic)
                  AND (events_partition IS NULL OR events_partition = ANY(\(partitions))))
                ORDER BY silent_since LIMIT \(limit)
                """,
                logger: logger
            )
            var tasks: [String] = []
            for try await (id, _) in rows.decode((String, Date).self) { tasks.append(id) }
            return tasks
        }
    }

    /// Locks the rows of these spec tasks (`FOR UPDATE`, in id order so two batches never deadlock) and loads them
    /// with their children, in one statement. Ids without a row are absent from the result.
    ///
    /// The children are read on the statement's snapshot, taken before the row locks: the caller holds the tasks'
    /// advisory locks (``lockSubjects(_:on:)`` or ``tryLockSubject(_:on:)``, in a statement before this one), and
    /// every writer of a spec task does, so nothing can change them meanwhile.
    public func lockAndLoad(_ ids: [String], on connection: PostgresConnection) async throws -> [String: StoredSpecTask]
    {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.rows(LockAndLoadSpecTasks(ids: Array(Set(ids)).sorted()), logger: logger)
        return try Self.assemble(rows)
    }

    /// Loads without locking, from one snapshot: a `REPEATABLE READ, READ ONLY` transaction, so a change
    /// committed between the reads of two tables (a sweeper disconnecting an instance and its threads) is seen
    /// whole or not at all. What the read API, `spectask show` and the tests use.
    public func loadSnapshot(_ ids: [String], client: PostgresClient) async throws -> [String: StoredSpecTask] {
        try await readSnapshot(client) { try await load(ids, on: $0) }
    }

    /// Runs `body` in a `REPEATABLE READ, READ ONLY` transaction: every query in it sees the same snapshot.
    public func readSnapshot<T: Sendable>(
        _ client: PostgresClient,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await body(connection)
        }
    }

    /// Loads without locking, in one statement.
    public func load(_ ids: [String], on connection: PostgresConnection) async throws -> [String: StoredSpecTask] {
        guard !ids.isEmpty else { return [:] }
        return try Self.assemble(try await connection.rows(LoadSpecTasks(ids: Array(Set(ids))), logger: logger))
    }

    /// The spec tasks in the rows of ``SpecTaskLoading``, children in the order each table's are kept in.
    private static func assemble(_ rows: [SpecTaskLoading.Row]) throws -> [String: StoredSpecTask] {
        var result: [String: StoredSpecTask] = [:]
        for (kind, taskID, doc, progress, key, value, updatedAt, nextSequence) in rows {
            switch kind {
            case 0:
                let document = try DocumentCoding.decode(SpecTaskDocument.self, from: doc ?? "")
                result[taskID] = StoredSpecTask(
                    state: SpecTaskState(task: document.task, pathClaims: document.pathClaims),
                    nextSequence: nextSequence ?? 1
                )
            case 1:
                result[taskID]?.state.implementationTasks.append(
                    try DocumentCoding.decode(ImplementationTask.self, from: doc ?? "")
                )
            case 2:
                result[taskID]?.state.workSessions.append(try DocumentCoding.decode(WorkSession.self, from: doc ?? ""))
            case 3:
                // Threads in the order they were created, which is their sessions' order (every session is created
                // with its thread): the decision function sees the same state after a reload as in memory.
                let thread = try DocumentCoding.decode(ZedThread.self, from: doc ?? "")
                result[taskID]?.state.zedThreads.append(thread)
                if let progress { result[taskID]?.state.threadProgress[thread.id] = progress }
            case 4:
                result[taskID]?.state.zedInstance = try DocumentCoding.decode(ZedInstance.self, from: doc ?? "")
            default:
                if let key, let value, let updatedAt {
                    result[taskID]?.state.sharedContext.append(
                        SharedContextEntry(specTaskID: taskID, key: key, value: value, updatedAt: updatedAt)
                    )
                }
            }
        }
        return result
    }

    /// Which spec task each of these ids belongs to, for ids that exist: `"work_session:<id>"`,
    /// `"zed_thread:<id>"`, `"zed_instance:<id>"` → spec task id (also of replaced instances: their ids are never
    /// used again). Ids are global, while the decision function only sees one spec task, so the worker checks new
    /// client-chosen ids here.
    public func owners(
        workSessionIDs: [String],
        zedThreadIDs: [String],
        zedInstanceIDs: [String],
        on connection: PostgresConnection
    ) async throws -> [String: String] {
        guard !(workSessionIDs.isEmpty && zedThreadIDs.isEmpty && zedInstanceIDs.isEmpty) else { return [:] }
        var owners: [String: String] = [:]
        let rows = try await connection.query(
            """
            SELECT 'work_session:' || id, spec_task_id FROM work_sessions WHERE id = ANY(\(workSessionIDs))
            UNION ALL SELECT 'zed_thread:' || id, spec_task_id FROM zed_threads WHERE id = ANY(\(zedThreadIDs))
            UNION ALL SELECT 'zed_instance:' || id, spec_task_id FROM zed_instances WHERE id = ANY(\(zedInstanceIDs))
            """,
            logger: logger
        )
        for try await (key, task) in rows.decode((String, String).self) { owners[key] = task }
        return owners
    }
}

/// Spec tasks and their children in one statement, a row each: the spec task (kind 0) first, then the rows of the
/// five child tables (kinds 1 to 5), tagged with their table, in the order each table's are kept in. The first
/// round trip of a load used to read the tasks and a second one the children; each was about a millisecond.
enum SpecTaskLoading {
    typealias Row = (Int32, String, String?, Int?, String?, String?, Date?, Int64?)

    static func sql(locking: Bool) -> String {
        """
        WITH tasks AS (
            SELECT id, doc, next_sequence FROM spec_tasks WHERE id = ANY($1::text[])\(locking ? " ORDER BY id FOR UPDATE" : "")
        )
        SELECT 0 AS kind, id AS spec_task_id, doc::text, NULL::int AS progress, NULL::text AS key, NULL::text AS value,
            NULL::timestamptz AS updated_at, next_sequence, NULL::int AS o1, NULL::text AS o2
        FROM tasks
        UNION ALL
        SELECT 1, spec_task_id, doc::text, NULL, NULL, NULL, NULL, NULL, task_index, NULL
        FROM implementation_tasks WHERE spec_task_id = ANY($1::text[])
        UNION ALL
        SELECT 2, spec_task_id, doc::text, NULL, NULL, NULL, NULL, NULL, position, NULL
        FROM work_sessions WHERE spec_task_id = ANY($1::text[])
        UNION ALL
        SELECT 3, t.spec_task_id, t.doc::text, t.progress, NULL, NULL, NULL, NULL, s.position, t.id
        FROM zed_threads t LEFT JOIN work_sessions s ON s.id = t.work_session_id
        WHERE t.spec_task_id = ANY($1::text[])
        UNION ALL
        SELECT 4, spec_task_id, doc::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM zed_instances WHERE spec_task_id = ANY($1::text[]) AND replaced_at IS NULL
        UNION ALL
        SELECT 5, spec_task_id, NULL, NULL, key, value, updated_at, NULL, NULL, key
        FROM shared_context WHERE spec_task_id = ANY($1::text[])
        ORDER BY kind, spec_task_id, o1 NULLS LAST, o2
        """
    }
}

/// `SpecTaskRepository.lockAndLoad`'s statement (prepared: see PreparedStatement.swift).
struct LockAndLoadSpecTasks: PostgresPreparedStatement {
    static let name = "spectask_lock_and_load_spec_tasks"
    static let sql = SpecTaskLoading.sql(locking: true)
    typealias Row = SpecTaskLoading.Row

    /// Sorted, without duplicates.
    var ids: [String]

    func makeBindings() -> PostgresBindings { PostgresBindings(ids) }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// `SpecTaskRepository.load`'s statement (prepared: see PreparedStatement.swift).
struct LoadSpecTasks: PostgresPreparedStatement {
    static let name = "spectask_load_spec_tasks"
    static let sql = SpecTaskLoading.sql(locking: false)
    typealias Row = SpecTaskLoading.Row

    var ids: [String]

    func makeBindings() -> PostgresBindings { PostgresBindings(ids) }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
