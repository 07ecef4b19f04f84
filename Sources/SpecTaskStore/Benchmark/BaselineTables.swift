import Logging
import PostgresNIO

/// The scratch tables of `spectask bench --baseline`: the simplest PostgreSQL-backed worker, as a yardstick for
/// spectask's rate. One transaction per message: lock the task's row (inserting it first when missing), update it,
/// append an event, commit.
///
/// The tables are named after the run (`bench_baseline_<run>` and `bench_baseline_events_<run>`), so runs side by
/// side never meet, and are dropped when the run ends.
public struct BaselineTables: Sendable {
    let rows: String
    let events: String
    let logger: Logger

    /// - Parameter run: The run's id: lowercase letters, digits and `_` only, at most 32 characters (it becomes
    ///   part of the table names).
    /// - Throws: ``InvalidRun`` for any other id.
    public init(run: String, logger: Logger) throws(InvalidRun) {
        guard !run.isEmpty, run.count <= 32, run.allSatisfy({ ("a"..."z").contains($0) || $0.isNumber || $0 == "_" }),
            run.allSatisfy(\.isASCII)
        else { throw InvalidRun(run: run) }
        // Checked above: splicing it into the table names is safe.
        self.rows = "bench_baseline_\(run)"
        self.events = "bench_baseline_events_\(run)"
        self.logger = logger
    }

    /// A run id that can not name tables.
    public struct InvalidRun: Error, CustomStringConvertible {
        public var run: String
        public var description: String {
            "a baseline run id is 1-32 lowercase letters, digits or '_', not \(String(reflecting: run))"
        }
    }

    public func create(on connection: PostgresConnection) async throws {
        try await connection.query(
            "CREATE TABLE \(unescaped: rows) (id text PRIMARY KEY, status text, n bigint)",
            logger: logger
        )
        try await connection.query(
            "CREATE TABLE \(unescaped: events) (id bigserial, task text, payload text)",
            logger: logger
        )
    }

    public func drop(on connection: PostgresConnection) async throws {
        try await connection.query("DROP TABLE IF EXISTS \(unescaped: rows), \(unescaped: events)", logger: logger)
    }

    /// One message in its own transaction: `task`'s row locked (inserted first when missing), its status set and
    /// its counter incremented, one event with `payload` appended.
    public func apply(task: String, status: String, payload: String, on connection: PostgresConnection) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            var exists = false
            for try await _ in try await connection.query(
                "SELECT status, n FROM \(unescaped: rows) WHERE id = \(task) FOR UPDATE",
                logger: logger
            ) {
                exists = true
            }
            if !exists {
                try await connection.query(
                    "INSERT INTO \(unescaped: rows) (id, status, n) VALUES (\(task), 'new', 0)",
                    logger: logger
                )
            }
            try await connection.query(
                "UPDATE \(unescaped: rows) SET status = \(status), n = n + 1 WHERE id = \(task)",
                logger: logger
            )
            try await connection.query(
                "INSERT INTO \(unescaped: events) (task, payload) VALUES (\(task), \(payload))",
                logger: logger
            )
        }
    }

    /// One task's row and how many events it has.
    public struct TaskRow: Sendable, Hashable {
        public var status: String
        /// Messages applied to it.
        public var count: Int64
        public var events: Int
    }

    /// The state of `task` (for tests), or `nil` when no message named it.
    public func read(task: String, on connection: PostgresConnection) async throws -> TaskRow? {
        var found: (String, Int64)?
        for try await row in try await connection.query(
            "SELECT status, n FROM \(unescaped: rows) WHERE id = \(task)",
            logger: logger
        ).decode((String, Int64).self) {
            found = row
        }
        guard let (status, count) = found else { return nil }
        var appended = 0
        for try await value in try await connection.query(
            "SELECT count(*) FROM \(unescaped: events) WHERE task = \(task)",
            logger: logger
        ).decode(Int.self) {
            appended = value
        }
        return TaskRow(status: status, count: count, events: appended)
    }
}
