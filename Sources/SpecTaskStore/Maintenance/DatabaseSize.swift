import Logging
import PostgresNIO

/// How much the database holds: what benchmarks print next to their figures, since a transaction's cost may grow
/// with the tables it touches.
public struct DatabaseSize: Sendable, Hashable {
    public var specTasks: Int
    public var workSessions: Int
    /// Ids of handled inputs (the inbox keeps them for the retention period).
    public var inboxIDs: Int

    /// Counts the rows (exact counts: a few milliseconds per hundred thousand rows, fine before a benchmark).
    public static func read(client: PostgresClient, logger: Logger) async throws -> DatabaseSize {
        let rows = try await client.query(
            """
            SELECT (SELECT count(*) FROM spec_tasks), (SELECT count(*) FROM work_sessions),
                (SELECT count(*) FROM inbox)
            """,
            logger: logger
        )
        for try await (specTasks, workSessions, inbox) in rows.decode((Int, Int, Int).self) {
            return DatabaseSize(specTasks: specTasks, workSessions: workSessions, inboxIDs: inbox)
        }
        return DatabaseSize(specTasks: 0, workSessions: 0, inboxIDs: 0)
    }
}
