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

    /// Locks the rows of these spec tasks (`FOR UPDATE`, in id order so two batches never deadlock) and loads them.
    /// Ids without a row are absent from the result.
    public func lockAndLoad(_ ids: [String], on connection: PostgresConnection) async throws -> [String: StoredSpecTask]
    {
        guard !ids.isEmpty else { return [:] }
        let sorted = Array(Set(ids)).sorted()
        var tasks: [String: (SpecTask, Int64)] = [:]
        let rows = try await connection.query(
            "SELECT id, doc::text, next_sequence FROM spec_tasks WHERE id = ANY(\(sorted)) ORDER BY id FOR UPDATE",
            logger: logger
        )
        for try await (id, doc, next) in rows.decode((String, String, Int64).self) {
            tasks[id] = (try DocumentCoding.decode(SpecTask.self, from: doc), next)
        }
        return try await loadChildren(of: tasks, on: connection)
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
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                return try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            // What callers act on is why: the database error, or the body's own.
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Loads without locking; the tables are read one after another, each at its own moment (see `loadSnapshot`).
    public func load(_ ids: [String], on connection: PostgresConnection) async throws -> [String: StoredSpecTask] {
        guard !ids.isEmpty else { return [:] }
        var tasks: [String: (SpecTask, Int64)] = [:]
        let rows = try await connection.query(
            "SELECT id, doc::text, next_sequence FROM spec_tasks WHERE id = ANY(\(ids))",
            logger: logger
        )
        for try await (id, doc, next) in rows.decode((String, String, Int64).self) {
            tasks[id] = (try DocumentCoding.decode(SpecTask.self, from: doc), next)
        }
        return try await loadChildren(of: tasks, on: connection)
    }

    private func loadChildren(
        of tasks: [String: (SpecTask, Int64)],
        on connection: PostgresConnection
    ) async throws -> [String: StoredSpecTask] {
        var result: [String: StoredSpecTask] = [:]
        for (id, (task, next)) in tasks {
            result[id] = StoredSpecTask(state: SpecTaskState(task: task), nextSequence: next)
        }
        let ids = Array(tasks.keys)
        guard !ids.isEmpty else { return result }

        for try await (taskID, doc) in try await connection.query(
            "SELECT spec_task_id, doc::text FROM implementation_tasks WHERE spec_task_id = ANY(\(ids)) ORDER BY spec_task_id, task_index",
            logger: logger
        ).decode((String, String).self) {
            result[taskID]?.state.implementationTasks.append(
                try DocumentCoding.decode(ImplementationTask.self, from: doc)
            )
        }
        for try await (taskID, doc) in try await connection.query(
            "SELECT spec_task_id, doc::text FROM work_sessions WHERE spec_task_id = ANY(\(ids)) ORDER BY spec_task_id, position",
            logger: logger
        ).decode((String, String).self) {
            result[taskID]?.state.workSessions.append(try DocumentCoding.decode(WorkSession.self, from: doc))
        }
        // Threads in the order they were created, which is their sessions' order (every session is created with
        // its thread): the decision function sees the same state after a reload as in memory.
        for try await (taskID, doc, progress) in try await connection.query(
            """
            SELECT t.spec_task_id, t.doc::text, t.progress FROM zed_threads t
            LEFT JOIN work_sessions s ON s.id = t.work_session_id
            WHERE t.spec_task_id = ANY(\(ids)) ORDER BY t.spec_task_id, s.position NULLS LAST, t.id
            """,
            logger: logger
        ).decode((String, String, Int?).self) {
            let thread = try DocumentCoding.decode(ZedThread.self, from: doc)
            result[taskID]?.state.zedThreads.append(thread)
            if let progress { result[taskID]?.state.threadProgress[thread.id] = progress }
        }
        for try await (taskID, doc) in try await connection.query(
            "SELECT spec_task_id, doc::text FROM zed_instances WHERE spec_task_id = ANY(\(ids))",
            logger: logger
        ).decode((String, String).self) {
            result[taskID]?.state.zedInstance = try DocumentCoding.decode(ZedInstance.self, from: doc)
        }
        for try await (taskID, key, value, updatedAt) in try await connection.query(
            "SELECT spec_task_id, key, value, updated_at FROM shared_context WHERE spec_task_id = ANY(\(ids)) ORDER BY spec_task_id, key",
            logger: logger
        ).decode((String, String, String, Date).self) {
            result[taskID]?.state.sharedContext.append(
                SharedContextEntry(specTaskID: taskID, key: key, value: value, updatedAt: updatedAt)
            )
        }
        return result
    }

    /// Which spec task each of these ids belongs to, for ids that exist: `"work_session:<id>"`,
    /// `"zed_thread:<id>"`, `"zed_instance:<id>"` → spec task id. Ids are global, while the decision function only
    /// sees one spec task, so the worker checks new client-chosen ids here.
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

    /// Writes what changed between `previous` (nil for a new task) and `stored`.
    public func save(
        _ stored: StoredSpecTask,
        previous: StoredSpecTask?,
        on connection: PostgresConnection
    ) async throws {
        let state = stored.state
        let old = previous?.state
        let task = state.task
        if old?.task != task || previous?.nextSequence != stored.nextSequence {
            try await connection.query(
                """
                INSERT INTO spec_tasks (id, status, archived, next_sequence, doc, created_at, updated_at)
                VALUES (\(task.id), \(task.status.rawValue), \(task.archived), \(stored.nextSequence),
                        \(try DocumentCoding.encode(task))::jsonb, \(task.createdAt), \(task.updatedAt))
                ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, archived = EXCLUDED.archived,
                    next_sequence = EXCLUDED.next_sequence, doc = EXCLUDED.doc, updated_at = EXCLUDED.updated_at
                """,
                logger: logger
            )
        }

        let oldImplementationTasks = Dictionary(
            uniqueKeysWithValues: (old?.implementationTasks ?? []).map { ($0.index, $0) }
        )
        for item in state.implementationTasks where oldImplementationTasks[item.index] != item {
            try await connection.query(
                """
                INSERT INTO implementation_tasks (spec_task_id, task_index, status, doc)
                VALUES (\(task.id), \(item.index), \(item.status.rawValue), \(try DocumentCoding.encode(item))::jsonb)
                ON CONFLICT (spec_task_id, task_index) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc
                """,
                logger: logger
            )
        }

        let oldSessions = Dictionary(uniqueKeysWithValues: (old?.workSessions ?? []).map { ($0.id, $0) })
        for (position, session) in state.workSessions.enumerated() where oldSessions[session.id] != session {
            try await connection.query(
                """
                INSERT INTO work_sessions (id, spec_task_id, position, status, implementation_task_index, parent_work_session_id, doc)
                VALUES (\(session.id), \(task.id), \(position), \(session.status.rawValue), \(session.implementationTaskIndex),
                        \(session.parentWorkSessionID), \(try DocumentCoding.encode(session))::jsonb)
                ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc
                WHERE work_sessions.spec_task_id = EXCLUDED.spec_task_id
                """,
                logger: logger
            )
        }

        let oldThreads = Dictionary(uniqueKeysWithValues: (old?.zedThreads ?? []).map { ($0.id, $0) })
        for thread in state.zedThreads
        where oldThreads[thread.id] != thread || old?.threadProgress[thread.id] != state.threadProgress[thread.id] {
            try await connection.query(
                """
                INSERT INTO zed_threads (id, work_session_id, spec_task_id, status, progress, doc)
                VALUES (\(thread.id), \(thread.workSessionID), \(task.id), \(thread.status.rawValue),
                        \(state.threadProgress[thread.id]), \(try DocumentCoding.encode(thread))::jsonb)
                ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, progress = EXCLUDED.progress, doc = EXCLUDED.doc
                WHERE zed_threads.spec_task_id = EXCLUDED.spec_task_id
                """,
                logger: logger
            )
        }

        if let instance = state.zedInstance, instance != old?.zedInstance {
            try await connection.query(
                """
                INSERT INTO zed_instances (id, spec_task_id, status, last_heartbeat_at, doc)
                VALUES (\(instance.id), \(task.id), \(instance.status.rawValue), \(instance.lastHeartbeatAt),
                        \(try DocumentCoding.encode(instance))::jsonb)
                ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, last_heartbeat_at = EXCLUDED.last_heartbeat_at, doc = EXCLUDED.doc
                WHERE zed_instances.spec_task_id = EXCLUDED.spec_task_id
                """,
                logger: logger
            )
        }

        let oldContext = Dictionary(uniqueKeysWithValues: (old?.sharedContext ?? []).map { ($0.key, $0) })
        let newContext = Dictionary(uniqueKeysWithValues: state.sharedContext.map { ($0.key, $0) })
        for entry in state.sharedContext where oldContext[entry.key] != entry {
            try await connection.query(
                """
                INSERT INTO shared_context (spec_task_id, key, value, updated_at)
                VALUES (\(task.id), \(entry.key), \(entry.value), \(entry.updatedAt))
                ON CONFLICT (spec_task_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
                """,
                logger: logger
            )
        }
        let removed = oldContext.keys.filter { newContext[$0] == nil }
        if !removed.isEmpty {
            try await connection.query(
                "DELETE FROM shared_context WHERE spec_task_id = \(task.id) AND key = ANY(\(Array(removed)))",
                logger: logger
            )
        }
    }
}
