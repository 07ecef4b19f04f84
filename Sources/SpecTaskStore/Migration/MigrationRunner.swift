import Logging
import PostgresNIO

/// Applies numbered migrations in order, each in its own transaction, recorded in `schema_migrations`.
///
/// Runners serialise on a PostgreSQL advisory lock, so any number of workers can start at once: the first applies,
/// the others wait and then find nothing to do.
public struct MigrationRunner: Sendable {
    /// What a run did.
    public struct Report: Sendable, Hashable {
        public var applied: [Int]
        public var alreadyApplied: [Int]
    }

    /// Arbitrary, fixed: the advisory lock key every runner of this schema agrees on ("spectask" in ASCII).
    static let lockKey: Int64 = 0x7370_6563_7461_736B

    private let client: PostgresClient
    private let migrations: [Migration]
    private let logger: Logger

    public init(client: PostgresClient, migrations: [Migration], logger: Logger) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies what is missing.
    /// - Throws: `MigrationError` when a recorded migration changed or is unknown, or when one fails;
    ///   PostgreSQL errors when the database is unreachable.
    @discardableResult
    public func run() async throws -> Report {
        let migrations = try Migration.ordered(self.migrations)
        return try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let report = try await apply(migrations, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return report
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> Report {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
        var recorded: [Int: (name: String, checksum: String)] = [:]
        for try await (version, name, checksum) in try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            logger: logger
        ).decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }

        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, entry) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw MigrationError(
                    code: .unknownAppliedMigration,
                    message: "the database has migration \(version) (\(entry.name)) which this build does not know; "
                        + "it was migrated by a newer version of spectask"
                )
            }
            if migration.checksum != entry.checksum {
                throw MigrationError(
                    code: .checksumMismatch,
                    message: "migration \(version) (\(migration.name)) changed after it was applied "
                        + "(recorded checksum \(entry.checksum.prefix(12))…, file \(migration.checksum.prefix(12))…); "
                        + "never edit an applied migration, add a new one"
                )
            }
        }

        var applied: [Int] = []
        for migration in migrations where recorded[migration.version] == nil {
            logger.info(
                "applying migration",
                metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"]
            )
            do {
                try await connection.query("BEGIN", logger: logger)
                for statement in SQLStatementSplitter.split(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger
                )
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError(
                    code: .failed,
                    message:
                        "migration \(migration.version) (\(migration.name)) failed and was rolled back: \(String(reflecting: error))"
                )
            }
            applied.append(migration.version)
        }
        return Report(applied: applied, alreadyApplied: recorded.keys.sorted())
    }
}
