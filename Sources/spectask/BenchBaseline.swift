import Foundation
import Logging
import PostgresNIO
import SpecTaskStore

/// The simplest PostgreSQL-backed worker, as a yardstick for spectask's rate: one transaction per message
/// (lock the task's row, update it, append an event, commit) on one connection, no Kafka.
enum BenchBaseline {
    struct Result {
        var messages: Int
        var elapsed: Duration
        var rate: Double { Double(messages) / max(elapsed.seconds, 1e-9) }
    }

    /// Runs `tasks × 8` messages through scratch tables named after `id`, then drops them.
    static func run(database: DatabaseConfiguration, tasks: Int, id: String, logger: Logger) async throws -> Result {
        // `id` is the run's lowercase hex, never user input, so splicing it into the table names is safe.
        let rows = "bench_baseline_\(id)"
        let events = "bench_baseline_events_\(id)"
        let messages = tasks * BenchDriver.steps
        return try await withPostgres(database, logger: logger) { client in
            try await client.withConnection { connection in
                try await connection.query(
                    "CREATE TABLE \(unescaped: rows) (id text PRIMARY KEY, status text, n bigint)",
                    logger: logger
                )
                try await connection.query(
                    "CREATE TABLE \(unescaped: events) (id bigserial, task text, payload text)",
                    logger: logger
                )
                func drop() async throws {
                    try await connection.query(
                        "DROP TABLE IF EXISTS \(unescaped: rows), \(unescaped: events)",
                        logger: logger
                    )
                }
                do {
                    let elapsed = try await ContinuousClock().measure {
                        for message in 0..<messages {
                            try await apply(message, rows: rows, events: events, connection: connection, logger: logger)
                        }
                    }
                    try await drop()
                    return Result(messages: messages, elapsed: elapsed)
                } catch {
                    try? await drop()  // best effort: the error that stopped the run is the one to report
                    throw error
                }
            }
        }
    }

    /// One message: the task's row locked (inserted first when missing), updated, one event appended, committed.
    private static func apply(
        _ message: Int,
        rows: String,
        events: String,
        connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let task = "task-\(message / BenchDriver.steps)"
        let step = message % BenchDriver.steps
        let status = "step-\(step)"
        let payload = #"{"step":\#(step)}"#
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
}
