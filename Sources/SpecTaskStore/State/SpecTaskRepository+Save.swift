import Foundation
import Logging
import PostgresNIO
import SpecTaskDomain

extension SpecTaskRepository {
    /// Writes what changed between each `previous` (nil for a new task) and `stored`, for any number of spec tasks,
    /// in one statement: the changed rows of each table go to PostgreSQL as one JSON array (`jsonb_to_recordset`),
    /// so a batch costs one round trip whatever its size.
    ///
    /// Each task appears at most once (the caller saves a batch's final state of each task).
    public func save(
        _ changes: [(stored: StoredSpecTask, previous: StoredSpecTask?)],
        on connection: PostgresConnection
    ) async throws {
        var statement = WriteStatement()
        try Self.addSave(changes, to: &statement)
        try await statement.run(on: connection, logger: logger)
    }

    /// Adds the writes of `save` to `statement`: a part per table with changed rows, each fed its own JSON array.
    static func addSave(
        _ changes: [(stored: StoredSpecTask, previous: StoredSpecTask?)],
        to statement: inout WriteStatement
    ) throws {
        var rows = ChangedRows()
        for change in changes { rows.collect(change.stored, previous: change.previous) }
        try statement.add(
            rows.specTasks,
            """
            INSERT INTO spec_tasks (id, status, archived, next_sequence, doc, created_at, updated_at)
            SELECT id, status, archived, next_sequence, doc, created_at, updated_at FROM jsonb_to_recordset($N::jsonb)
                AS r(id text, status text, archived boolean, next_sequence bigint, doc jsonb,
                     created_at timestamptz, updated_at timestamptz)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, archived = EXCLUDED.archived,
                next_sequence = EXCLUDED.next_sequence, doc = EXCLUDED.doc, updated_at = EXCLUDED.updated_at
            """
        )
        try statement.add(
            rows.implementationTasks,
            """
            INSERT INTO implementation_tasks (spec_task_id, task_index, status, doc)
            SELECT spec_task_id, task_index, status, doc FROM jsonb_to_recordset($N::jsonb)
                AS r(spec_task_id text, task_index integer, status text, doc jsonb)
            ON CONFLICT (spec_task_id, task_index) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc
            """
        )
        try statement.add(
            rows.workSessions,
            """
            INSERT INTO work_sessions (id, spec_task_id, position, status, implementation_task_index,
                parent_work_session_id, doc)
            SELECT id, spec_task_id, position, status, implementation_task_index, parent_work_session_id, doc
            FROM jsonb_to_recordset($N::jsonb)
                AS r(id text, spec_task_id text, position integer, status text, implementation_task_index integer,
                     parent_work_session_id text, doc jsonb)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc
            WHERE work_sessions.spec_task_id = EXCLUDED.spec_task_id
            """
        )
        try statement.add(
            rows.zedThreads,
            """
            INSERT INTO zed_threads (id, work_session_id, spec_task_id, status, progress, doc)
            SELECT id, work_session_id, spec_task_id, status, progress, doc FROM jsonb_to_recordset($N::jsonb)
                AS r(id text, work_session_id text, spec_task_id text, status text, progress integer, doc jsonb)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, progress = EXCLUDED.progress, doc = EXCLUDED.doc
            WHERE zed_threads.spec_task_id = EXCLUDED.spec_task_id
            """
        )
        try statement.add(
            rows.zedInstances,
            """
            INSERT INTO zed_instances (id, spec_task_id, status, last_heartbeat_at, created_at, doc)
            SELECT id, spec_task_id, status, last_heartbeat_at, created_at, doc FROM jsonb_to_recordset($N::jsonb)
                AS r(id text, spec_task_id text, status text, last_heartbeat_at timestamptz, created_at timestamptz,
                     doc jsonb)
            ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, last_heartbeat_at = EXCLUDED.last_heartbeat_at,
                doc = EXCLUDED.doc, replaced_at = NULL
            WHERE zed_instances.spec_task_id = EXCLUDED.spec_task_id
            """
        )
        // The instance a new one replaced keeps its row (its id is never used again); the one-per-task check is
        // deferred to commit, so the order of the two writes in this statement does not matter. The instance in the
        // state is the spec task's: written, it is not replaced (were its id one replaced earlier, it is back).
        try statement.add(
            rows.replacedInstances,
            """
            UPDATE zed_instances z SET replaced_at = r.replaced_at
            FROM jsonb_to_recordset($N::jsonb) AS r(id text, spec_task_id text, replaced_at timestamptz)
            WHERE z.id = r.id AND z.spec_task_id = r.spec_task_id AND z.replaced_at IS NULL
            """
        )
        try statement.add(
            rows.sharedContext,
            """
            INSERT INTO shared_context (spec_task_id, key, value, updated_at)
            SELECT spec_task_id, key, value, updated_at FROM jsonb_to_recordset($N::jsonb)
                AS r(spec_task_id text, key text, value text, updated_at timestamptz)
            ON CONFLICT (spec_task_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            """
        )
        try statement.add(
            rows.removedContext,
            """
            DELETE FROM shared_context c USING jsonb_to_recordset($N::jsonb) AS r(spec_task_id text, key text)
            WHERE c.spec_task_id = r.spec_task_id AND c.key = r.key
            """
        )
    }

    /// Writes what changed between `previous` (nil for a new task) and `stored`.
    public func save(
        _ stored: StoredSpecTask,
        previous: StoredSpecTask?,
        on connection: PostgresConnection
    ) async throws {
        try await save([(stored, previous)], on: connection)
    }
}

/// The rows a set of changed spec tasks writes, one array per table.
private struct ChangedRows {
    var specTasks: [SpecTaskRow] = []
    var implementationTasks: [ImplementationTaskRow] = []
    var workSessions: [WorkSessionRow] = []
    var zedThreads: [ZedThreadRow] = []
    var zedInstances: [ZedInstanceRow] = []
    var replacedInstances: [ReplacedInstanceRow] = []
    var sharedContext: [SharedContextRow] = []
    var removedContext: [RemovedContextRow] = []

    mutating func collect(_ stored: StoredSpecTask, previous: StoredSpecTask?) {
        let state = stored.state
        let old = previous?.state
        let task = state.task
        if old?.task != task || old?.pathClaims != state.pathClaims || previous?.nextSequence != stored.nextSequence {
            specTasks.append(
                SpecTaskRow(
                    id: task.id,
                    status: task.status.rawValue,
                    archived: task.archived,
                    nextSequence: stored.nextSequence,
                    doc: SpecTaskDocument(task: task, pathClaims: state.pathClaims),
                    createdAt: task.createdAt,
                    updatedAt: task.updatedAt
                )
            )
        }
        let oldImplementationTasks = Dictionary(
            uniqueKeysWithValues: (old?.implementationTasks ?? []).map { ($0.index, $0) }
        )
        for item in state.implementationTasks where oldImplementationTasks[item.index] != item {
            implementationTasks.append(
                ImplementationTaskRow(
                    specTaskID: task.id,
                    taskIndex: item.index,
                    status: item.status.rawValue,
                    doc: item
                )
            )
        }
        let oldSessions = Dictionary(uniqueKeysWithValues: (old?.workSessions ?? []).map { ($0.id, $0) })
        for (position, session) in state.workSessions.enumerated() where oldSessions[session.id] != session {
            workSessions.append(
                WorkSessionRow(
                    id: session.id,
                    specTaskID: task.id,
                    position: position,
                    status: session.status.rawValue,
                    implementationTaskIndex: session.implementationTaskIndex,
                    parentWorkSessionID: session.parentWorkSessionID,
                    doc: session
                )
            )
        }
        let oldThreads = Dictionary(uniqueKeysWithValues: (old?.zedThreads ?? []).map { ($0.id, $0) })
        for thread in state.zedThreads
        where oldThreads[thread.id] != thread || old?.threadProgress[thread.id] != state.threadProgress[thread.id] {
            zedThreads.append(
                ZedThreadRow(
                    id: thread.id,
                    workSessionID: thread.workSessionID,
                    specTaskID: task.id,
                    status: thread.status.rawValue,
                    progress: state.threadProgress[thread.id],
                    doc: thread
                )
            )
        }
        if let instance = state.zedInstance, instance != old?.zedInstance {
            zedInstances.append(
                ZedInstanceRow(
                    id: instance.id,
                    specTaskID: task.id,
                    status: instance.status.rawValue,
                    lastHeartbeatAt: instance.lastHeartbeatAt,
                    createdAt: instance.createdAt,
                    doc: instance
                )
            )
        }
        if let replaced = old?.zedInstance, let instance = state.zedInstance, replaced.id != instance.id {
            replacedInstances.append(
                ReplacedInstanceRow(
                    id: replaced.id,
                    specTaskID: task.id,
                    replacedAt: instance.createdAt ?? task.updatedAt
                )
            )
        }
        let oldContext = Dictionary(uniqueKeysWithValues: (old?.sharedContext ?? []).map { ($0.key, $0) })
        let newContext = Set(state.sharedContext.map(\.key))
        for entry in state.sharedContext where oldContext[entry.key] != entry {
            sharedContext.append(
                SharedContextRow(specTaskID: task.id, key: entry.key, value: entry.value, updatedAt: entry.updatedAt)
            )
        }
        for key in oldContext.keys.sorted() where !newContext.contains(key) {
            removedContext.append(RemovedContextRow(specTaskID: task.id, key: key))
        }
    }
}

// The rows as JSON objects whose keys are the columns; `nil` leaves a column NULL.

private struct SpecTaskRow: Encodable {
    var id: String
    var status: String
    var archived: Bool
    var nextSequence: Int64
    var doc: SpecTaskDocument
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, status, archived, doc
        case nextSequence = "next_sequence"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

private struct ImplementationTaskRow: Encodable {
    var specTaskID: String
    var taskIndex: Int
    var status: String
    var doc: ImplementationTask

    enum CodingKeys: String, CodingKey {
        case status, doc
        case specTaskID = "spec_task_id"
        case taskIndex = "task_index"
    }
}

private struct WorkSessionRow: Encodable {
    var id: String
    var specTaskID: String
    var position: Int
    var status: String
    var implementationTaskIndex: Int?
    var parentWorkSessionID: String?
    var doc: WorkSession

    enum CodingKeys: String, CodingKey {
        case id, position, status, doc
        case specTaskID = "spec_task_id"
        case implementationTaskIndex = "implementation_task_index"
        case parentWorkSessionID = "parent_work_session_id"
    }
}

private struct ZedThreadRow: Encodable {
    var id: String
    var workSessionID: String
    var specTaskID: String
    var status: String
    var progress: Int?
    var doc: ZedThread

    enum CodingKeys: String, CodingKey {
        case id, status, progress, doc
        case workSessionID = "work_session_id"
        case specTaskID = "spec_task_id"
    }
}

private struct ZedInstanceRow: Encodable {
    var id: String
    var specTaskID: String
    var status: String
    var lastHeartbeatAt: Date?
    var createdAt: Date?
    var doc: ZedInstance

    enum CodingKeys: String, CodingKey {
        case id, status, doc
        case specTaskID = "spec_task_id"
        case lastHeartbeatAt = "last_heartbeat_at"
        case createdAt = "created_at"
    }
}

private struct ReplacedInstanceRow: Encodable {
    var id: String
    var specTaskID: String
    var replacedAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case specTaskID = "spec_task_id"
        case replacedAt = "replaced_at"
    }
}

private struct SharedContextRow: Encodable {
    var specTaskID: String
    var key: String
    var value: String
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case key, value
        case specTaskID = "spec_task_id"
        case updatedAt = "updated_at"
    }
}

private struct RemovedContextRow: Encodable {
    var specTaskID: String
    var key: String

    enum CodingKeys: String, CodingKey {
        case key
        case specTaskID = "spec_task_id"
    }
}
