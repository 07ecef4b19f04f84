import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SpecTaskStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations that are missing (safe to run from several processes at once)."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    @Option(
        help: ArgumentHelp("Read NNNN_name.sql files from this folder instead of the ones built in.", valueName: "dir")
    )
    var migrationsDir: String?

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.migrate")
        let database = try connection.database()
        let migrations =
            try migrationsDir.map { try Migration.load(from: URL(fileURLWithPath: $0)) } ?? Migration.bundled()
        let report = try await withPostgres(database, logger: logger) { client in
            try await MigrationRunner(client: client, migrations: migrations, logger: logger).run()
        }
        if report.applied.isEmpty {
            print("Database \(database) is up to date (\(report.alreadyApplied.count) migration(s) applied earlier).")
        } else {
            print("Applied migration(s) \(report.applied.map(String.init).joined(separator: ", ")) to \(database).")
        }
    }
}

/// Runs `body` with a running PostgreSQL client, then shuts the client down.
func withPostgres<T: Sendable>(
    _ configuration: DatabaseConfiguration,
    logger: Logger,
    _ body: @Sendable (PostgresClient) async throws -> T
) async throws -> T {
    let client = PostgresClient(configuration: try configuration.clientConfiguration(), backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        await Task.yield()  // let run() start before the first lease, or PostgresNIO warns
        return try await body(client)
    }
}
