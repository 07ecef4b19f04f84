import Foundation
import PostgresNIO
import SpecTaskStore
import Testing

@Suite("Migrations against the real database")
struct MigrationTests {
    static let sample = [
        Migration(
            version: 1,
            name: "widgets",
            sql: "CREATE TABLE widgets (id integer PRIMARY KEY, name text NOT NULL);"
        ),
        Migration(
            version: 2,
            name: "widget_trigger",
            sql: """
                -- a function body with semicolons inside dollar quotes
                CREATE FUNCTION widget_name_upper() RETURNS trigger AS $$
                BEGIN NEW.name := upper(NEW.name); RETURN NEW; END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER widget_upper BEFORE INSERT ON widgets FOR EACH ROW EXECUTE FUNCTION widget_name_upper();
                INSERT INTO widgets VALUES (1, 'semi;colon');
                """
        ),
    ]

    static func versions(_ client: PostgresClient) async throws -> [Int] {
        var versions: [Int] = []
        for try await version in try await client.query(
            "SELECT version FROM schema_migrations ORDER BY version",
            logger: TestEnvironment.logger
        )
        .decode(Int.self) {
            versions.append(version)
        }
        return versions
    }

    @Test("the bundled migrations apply once; a second run is a no-op")
    func bundledApplyOnce() async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            let migrations = try Migration.bundled()
            #expect(!migrations.isEmpty)
            let runner = MigrationRunner(client: client, migrations: migrations, logger: TestEnvironment.logger)
            let first = try await runner.run()
            #expect(first.applied == migrations.map(\.version))
            #expect(first.alreadyApplied.isEmpty)
            let second = try await runner.run()
            #expect(second.applied.isEmpty)
            #expect(second.alreadyApplied == migrations.map(\.version))
            #expect(try await Self.versions(client) == migrations.map(\.version))
        }
    }

    @Test("multi-statement files with dollar-quoted bodies apply in order")
    func multiStatement() async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            try await MigrationRunner(client: client, migrations: Self.sample, logger: TestEnvironment.logger).run()
            var names: [String] = []
            for try await name in try await client.query("SELECT name FROM widgets", logger: TestEnvironment.logger)
                .decode(String.self)
            {
                names.append(name)
            }
            #expect(names == ["SEMI;COLON"])
        }
    }

    @Test("two runners at once apply each migration exactly once")
    func concurrentRunners() async throws {
        try await TestEnvironment.withFreshDatabase { client, configuration in
            // Two separate clients, as two worker processes would have.
            let reports = try await withThrowingTaskGroup(of: MigrationRunner.Report.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await TestEnvironment.withClient(configuration) { other in
                            try await MigrationRunner(
                                client: other,
                                migrations: Self.sample,
                                logger: TestEnvironment.logger
                            ).run()
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.flatMap(\.applied).sorted() == [1, 2])
            #expect(reports.contains { $0.applied == [1, 2] && $0.alreadyApplied.isEmpty })
            #expect(reports.contains { $0.applied.isEmpty && $0.alreadyApplied == [1, 2] })
            #expect(try await Self.versions(client) == [1, 2])
        }
    }

    @Test("a migration edited after it was applied is refused")
    func checksumMismatch() async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            try await MigrationRunner(
                client: client,
                migrations: Array(Self.sample.prefix(1)),
                logger: TestEnvironment.logger
            ).run()
            let edited = [Migration(version: 1, name: "widgets", sql: "CREATE TABLE widgets (id bigint PRIMARY KEY);")]
            let error = await #expect(throws: MigrationError.self) {
                try await MigrationRunner(client: client, migrations: edited, logger: TestEnvironment.logger).run()
            }
            #expect(error?.code == .checksumMismatch)
            #expect(error?.message.contains("migration 1 (widgets) changed after it was applied") == true)
        }
    }

    @Test("a database migrated by a newer build is refused")
    func unknownAppliedMigration() async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            try await MigrationRunner(client: client, migrations: Self.sample, logger: TestEnvironment.logger).run()
            let error = await #expect(throws: MigrationError.self) {
                try await MigrationRunner(
                    client: client,
                    migrations: Array(Self.sample.prefix(1)),
                    logger: TestEnvironment.logger
                ).run()
            }
            #expect(error?.code == .unknownAppliedMigration)
        }
    }

    @Test("a failing migration is rolled back and not recorded; earlier ones stay")
    func failureRollsBack() async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            let broken =
                Self.sample.prefix(1) + [
                    Migration(
                        version: 2,
                        name: "broken",
                        sql: "CREATE TABLE half (id integer); SELECT * FROM no_such_table;"
                    )
                ]
            let error = await #expect(throws: MigrationError.self) {
                try await MigrationRunner(client: client, migrations: Array(broken), logger: TestEnvironment.logger)
                    .run()
            }
            #expect(error?.code == .failed)
            #expect(error?.message.contains("migration 2 (broken) failed and was rolled back") == true)
            #expect(try await Self.versions(client) == [1])
            let halfExists = try await client.query(
                "SELECT to_regclass('half') IS NOT NULL",
                logger: TestEnvironment.logger
            )
            .decode(Bool.self).reduce(into: [Bool]()) { $0.append($1) }
            #expect(halfExists == [false])
        }
    }
}
