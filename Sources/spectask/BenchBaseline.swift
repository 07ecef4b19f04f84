import Foundation
import Logging
import PostgresNIO
import SpecTaskStore

/// The simplest PostgreSQL-backed worker, as a yardstick for spectask's rate: one transaction per message
/// (lock the task's row, update it, append an event, commit) on one connection, no Kafka (``BaselineTables``).
enum BenchBaseline {
    struct Result {
        var messages: Int
        var elapsed: Duration
        var rate: Double { Double(messages) / max(elapsed.seconds, 1e-9) }
    }

    /// Runs `tasks × 8` messages through scratch tables named after `id`, then drops them.
    static func run(database: DatabaseConfiguration, tasks: Int, id: String, logger: Logger) async throws -> Result {
        let tables = try BaselineTables(run: id, logger: logger)
        let messages = tasks * BenchDriver.steps
        return try await withPostgres(database, logger: logger) { client in
            try await client.withConnection { connection in
                try await tables.create(on: connection)
                do {
                    let elapsed = try await ContinuousClock().measure {
                        for message in 0..<messages {
                            let step = message % BenchDriver.steps
                            try await tables.apply(
                                task: "task-\(message / BenchDriver.steps)",
                                status: "step-\(step)",
                                payload: #"{"step":\#(step)}"#,
                                on: connection
                            )
                        }
                    }
                    try await tables.drop(on: connection)
                    return Result(messages: messages, elapsed: elapsed)
                } catch {
                    // Best effort: the error that stopped the run is the one to report.
                    try? await tables.drop(on: connection)
                    throw error
                }
            }
        }
    }
}
