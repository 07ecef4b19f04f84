import Foundation
import PostgresNIO
import SpecTaskStore
import TestSupport
import Testing

/// `spectask offsets reset`, run as the binary against a database of its own.
@Suite("spectask offsets reset")
struct OffsetsCommandTests {
    /// Runs the binary with stdin at /dev/null (so never a terminal) and `POSTGRES_URL` of `database`.
    static func spectask(
        _ arguments: [String],
        database: DatabaseConfiguration
    ) async throws -> (status: Int32, output: String) {
        let run = try await ChildProcess.run(
            try WorkerProcessTests.binary,
            arguments: arguments,
            environment: ["POSTGRES_URL": Scenario.postgresURL(database)],
            mergingErrors: true
        )
        return (run.status, run.stdout)
    }

    struct Row: Hashable, CustomStringConvertible {
        var group: String
        var topic: String
        var partition: Int32
        var nextOffset: Int64
        var generation: Int64
        var description: String { "\(group) \(topic)[\(partition)] next \(nextOffset) generation \(generation)" }
    }

    /// Two groups, two systems (topic prefixes `blue.` and `green.`), several partitions, all well past 0.
    static let seeded: [Row] = [
        Row(group: "workers", topic: "blue.spectask.commands", partition: 0, nextOffset: 120, generation: 3),
        Row(group: "workers", topic: "blue.spectask.commands", partition: 1, nextOffset: 75, generation: 1),
        Row(group: "workers", topic: "blue.zed.events", partition: 0, nextOffset: 900, generation: 2),
        Row(group: "workers", topic: "green.spectask.commands", partition: 0, nextOffset: 44, generation: 7),
        Row(group: "others", topic: "blue.spectask.commands", partition: 0, nextOffset: 10, generation: 1),
        Row(group: "others", topic: "green.zed.events", partition: 2, nextOffset: 5, generation: 4),
    ]

    static func withSeededDatabase(
        _ body: @escaping @Sendable (PostgresClient, DatabaseConfiguration) async throws -> Void
    ) async throws {
        try await TestEnvironment.withFreshDatabase { client, database in
            try await MigrationRunner(
                client: client,
                migrations: try Migration.bundled(),
                logger: TestEnvironment.logger
            )
            .run()
            for row in seeded {
                try await client.query(
                    """
                    INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, owner_generation, owner_id)
                    VALUES (\(row.group), \(row.topic), \(row.partition), \(row.nextOffset), \(row.generation), 'w1')
                    """,
                    logger: TestEnvironment.logger
                )
            }
            try await body(client, database)
        }
    }

    static func rows(_ client: PostgresClient) async throws -> Set<Row> {
        var rows: Set<Row> = []
        for try await (group, topic, partition, next, generation) in try await client.query(
            "SELECT consumer_group, topic, partition, next_offset, owner_generation FROM consumer_offsets",
            logger: TestEnvironment.logger
        ).decode((String, String, Int32, Int64, Int64).self) {
            rows.insert(Row(group: group, topic: topic, partition: partition, nextOffset: next, generation: generation))
        }
        return rows
    }

    /// The seeded rows, with those matching `matches` reset (next offset 0, generation + 1).
    static func expected(after matches: (Row) -> Bool) -> Set<Row> {
        Set(
            seeded.map { row in
                guard matches(row) else { return row }
                var reset = row
                reset.nextOffset = 0
                reset.generation += 1
                return reset
            }
        )
    }

    @Test("--group and --topic-prefix reset only the matching partitions, bumping their generations")
    func resetsOnlyMatchingRows() async throws {
        try await Self.withSeededDatabase { client, database in
            let first = try await Self.spectask(
                ["offsets", "reset", "--group", "workers", "--topic-prefix", "blue.", "--to-beginning", "--yes"],
                database: database
            )
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.contains("Reset 3 partition(s) to the beginning"), "\(first.output)")
            #expect(first.output.contains("workers  blue.spectask.commands  2 partition(s), next offsets were 75…120"))
            #expect(first.output.contains("workers  blue.zed.events  1 partition(s), next offsets were 900…900"))
            let afterFirst = try await Self.rows(client)
            #expect(afterFirst == Self.expected { $0.group == "workers" && $0.topic.hasPrefix("blue.") })

            // A prefix alone: every group's green topics.
            let second = try await Self.spectask(
                ["offsets", "reset", "--topic-prefix", "green.", "--yes"],
                database: database
            )
            #expect(second.status == 0, "\(second.output)")
            #expect(second.output.contains("Reset 2 partition(s)"), "\(second.output)")
            #expect(
                try await Self.rows(client)
                    == Self.expected {
                        ($0.group == "workers" && $0.topic.hasPrefix("blue.")) || $0.topic.hasPrefix("green.")
                    }
            )

            // A group alone: all of its topics (already reset ones go up a generation again).
            let third = try await Self.spectask(["offsets", "reset", "--group", "others", "-y"], database: database)
            #expect(third.status == 0, "\(third.output)")
            #expect(third.output.contains("Reset 2 partition(s)"), "\(third.output)")
            let afterThird = try await Self.rows(client)
            let greenOthers = try #require(afterThird.first { $0.group == "others" && $0.topic == "green.zed.events" })
            #expect(greenOthers.nextOffset == 0 && greenOthers.generation == 6, "\(greenOthers)")

            // Nothing matches: said so, exit 0, nothing changes.
            let none = try await Self.spectask(
                ["offsets", "reset", "--group", "nobody", "--yes"],
                database: database
            )
            #expect(none.status == 0, "\(none.output)")
            #expect(none.output.contains("Nothing to reset: no stored positions match"), "\(none.output)")
            #expect(try await Self.rows(client) == afterThird)
        }
    }

    @Test("no flags: every group and topic, as scripts/services does after a new broker")
    func resetsEverything() async throws {
        try await Self.withSeededDatabase { client, database in
            let result = try await Self.spectask(["offsets", "reset", "--yes"], database: database)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("Reset 6 partition(s)"), "\(result.output)")
            #expect(result.output.contains("group (all), topics (all)"), "\(result.output)")
            #expect(try await Self.rows(client) == Self.expected { _ in true })
        }
    }

    @Test("without --yes and without a terminal to ask on, nothing is reset")
    func refusesWithoutConfirmation() async throws {
        try await Self.withSeededDatabase { client, database in
            let result = try await Self.spectask(["offsets", "reset", "--group", "workers"], database: database)
            #expect(result.status != 0)
            #expect(result.output.contains("stdin is not a terminal"), "\(result.output)")
            #expect(result.output.contains("pass --yes"), "\(result.output)")
            #expect(try await Self.rows(client) == Set(Self.seeded))
        }
    }

    @Test("a database that is not migrated yet has nothing to reset")
    func notMigrated() async throws {
        try await TestEnvironment.withFreshDatabase { _, database in
            let result = try await Self.spectask(["offsets", "reset", "--yes"], database: database)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("has no consumer_offsets table"), "\(result.output)")
        }
    }

    @Test("bad flag values fail with a clear message and a non-zero status, changing nothing")
    func badFlags() async throws {
        try await Self.withSeededDatabase { client, database in
            let cases: [(arguments: [String], expected: String)] = [
                (["--group", "", "--yes"], "--group: the group id '' must be non-empty ASCII without spaces"),
                (["--group", "two words", "--yes"], "must be non-empty ASCII without spaces"),
                (["--topic-prefix", "bad prefix!", "--yes"], "--topic-prefix: the topic prefix 'bad prefix!'"),
                (["--topic-prefix", "", "--yes"], "--topic-prefix is empty; leave it out to reset every topic"),
                (["--to-end", "--yes"], "Unknown option '--to-end'"),
                (["--group"], "Missing value for '--group <id>'"),
                (["--yes", "extra"], "Unexpected argument 'extra'"),
                (["--yes", "--postgres", "mysql://x@y/z"], "is not a PostgreSQL URL"),
            ]
            for (arguments, expected) in cases {
                let result = try await Self.spectask(["offsets", "reset"] + arguments, database: database)
                #expect(result.status != 0, "\(arguments) exited 0:\n\(result.output)")
                #expect(result.output.contains(expected), "\(arguments): expected '\(expected)' in:\n\(result.output)")
            }
            #expect(try await Self.rows(client) == Set(Self.seeded))
        }
    }

    @Test("--help names the mode and the confirmation")
    func help() async throws {
        try await TestEnvironment.withFreshDatabase { _, database in
            let top = try await Self.spectask(["--help"], database: database)
            #expect(top.output.contains("  offsets "), "\(top.output)")
            let reset = try await Self.spectask(["offsets", "reset", "--help"], database: database)
            #expect(reset.status == 0)
            let help = reset.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for text in ["--group <id>", "--topic-prefix <prefix>", "--to-beginning", "the only mode", "--yes"] {
                #expect(help.contains(text), "\(text) missing from:\n\(reset.output)")
            }
        }
    }
}
