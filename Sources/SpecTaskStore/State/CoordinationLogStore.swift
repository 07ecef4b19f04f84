import Logging
import PostgresNIO
import SpecTaskDomain

/// The coordination log: every message between the threads of a spec task, oldest first.
public struct CoordinationLogStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Appends entries in the caller's transaction; an entry already there (same id: the same event applied
    /// again after a crash) is left as it is.
    public func append(_ entries: [CoordinationEntry], on connection: PostgresConnection) async throws {
        for entry in entries {
            let doc = try DocumentCoding.encode(entry)
            try await connection.query(
                """
                INSERT INTO coordination_log (id, spec_task_id, from_work_session_id, to_work_session_id, kind, doc)
                VALUES (\(entry.id), \(entry.specTaskID), \(entry.fromWorkSessionID), \(entry.toWorkSessionID),
                        \(entry.kind.rawValue), \(doc)::jsonb)
                ON CONFLICT (id) DO NOTHING
                """,
                logger: logger
            )
        }
    }

    /// The log of one spec task, oldest first; at most `limit` entries after the first `offset`.
    public func entries(
        of specTaskID: String,
        offset: Int = 0,
        limit: Int = 1000,
        client: PostgresClient
    ) async throws -> [CoordinationEntry] {
        let rows = try await client.query(
            """
            SELECT doc::text FROM coordination_log WHERE spec_task_id = \(specTaskID)
            ORDER BY position OFFSET \(offset) LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [CoordinationEntry] = []
        for try await doc in rows.decode(String.self) {
            entries.append(try DocumentCoding.decode(CoordinationEntry.self, from: doc))
        }
        return entries
    }
}
