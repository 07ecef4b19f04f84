import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SpecTaskStore

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Look into the outbox the workers publish from, and its dead letters (in PostgreSQL).",
        discussion: """
            Outputs are written to the outbox table in the transaction that applies their input; every worker's relay \
            publishes them and deletes them once the broker acknowledged them, so a healthy outbox is empty or young. \
            A message the broker refuses for good (too large, illegal topic, not authorised) moves to the \
            dead_letters table with the reason, and what was behind it goes on. These commands read one database \
            (--postgres / POSTGRES_URL), whatever the topic prefix.
            """,
        subcommands: [Status.self, DeadLetters.self, RedriveDeadLetter.self]
    )

    /// Usage errors, for every subcommand's --help.
    static let usageExitCode =
        "64 for a usage error, found before anything is read (an unknown flag, a bad value; ArgumentParser's EX_USAGE)"

    /// Exit codes every subcommand shares, for their --help.
    static let exitCodes =
        "1 when the database could not be read or is not migrated (run spectask migrate); \(usageExitCode)"

    /// Runs `body` against the database once its outbox tables are known to exist.
    static func withOutbox<T: Sendable>(
        _ connection: ConnectionOptions,
        logger: Logger,
        _ body: @escaping @Sendable (OutboxAdmin, PostgresClient) async throws -> T
    ) async throws -> T {
        let database = try connection.database()
        return try await withPostgres(database, logger: logger) { client in
            let admin = OutboxAdmin(logger: logger)
            guard try await admin.tablesExist(client: client) else {
                throw CLIError("\(database) has no outbox table: it is not migrated yet (spectask migrate)")
            }
            return try await body(admin, client)
        }
    }

    /// `0.4 s`, `12.0 min`, `3.5 h`, `2.0 d`.
    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: String(format: "%.1f s", seconds)
        case ..<3_600: String(format: "%.1f min", seconds / 60)
        case ..<86_400: String(format: "%.1f h", seconds / 3_600)
        default: String(format: "%.1f d", seconds / 86_400)
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func jsonLine(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

// MARK: - status

extension OutboxCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How many outputs wait to be published, per topic, how old the oldest is, and the dead letters.",
            discussion: """
                --json prints one object: rows, oldestAgeSeconds (absent when nothing waits), topics (each with \
                topic, rows and oldestAgeSeconds), deadLetters and oldestDeadLetterAgeSeconds (absent when there is \
                none). Ages are by the database's clock.

                Exit status: 0 when it was read, whatever it says; \(OutboxCommand.exitCodes).
                """
        )

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.outbox")
            let status = try await OutboxCommand.withOutbox(connection, logger: logger) { admin, client in
                try await admin.status(client: client)
            }
            if json {
                print(try OutboxCommand.jsonLine(status))
                return
            }
            if let oldest = status.oldestAgeSeconds {
                print("outbox: \(status.rows) row(s) waiting, the oldest written \(OutboxCommand.age(oldest)) ago")
                let width = status.topics.map(\.topic.count).max() ?? 0
                for topic in status.topics {
                    print(
                        "  \(topic.topic.padding(toLength: width, withPad: " ", startingAt: 0))  \(topic.rows) row(s), "
                            + "oldest \(OutboxCommand.age(topic.oldestAgeSeconds))"
                    )
                }
            } else {
                print("outbox: empty")
            }
            if let oldest = status.oldestDeadLetterAgeSeconds {
                print(
                    "dead letters: \(status.deadLetters), the oldest set aside \(OutboxCommand.age(oldest)) ago "
                        + "(spectask outbox dead-letters lists them)"
                )
            } else {
                print("dead letters: none")
            }
        }
    }
}

// MARK: - dead-letters

extension OutboxCommand {
    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters",
            abstract: "List the outputs the broker refused for good, oldest first.",
            discussion: """
                A line: the id (for redrive-dead-letter), when it was set aside, the topic, the key, the size and \
                the broker's code and reason. --json prints one object per line (id, deadAt, writtenAt, topic, key, \
                size, code, reason). Dead letters are deleted after SPECTASK_DEAD_LETTER_RETENTION (30 days by \
                default). A summary goes to stderr.

                Exit status: 0 when they were read, even when there are none (then nothing is printed); \
                \(OutboxCommand.exitCodes).
                """
        )

        @Option(help: ArgumentHelp("Print at most the oldest N (1…100000).", valueName: "N"))
        var limit: Int = 100

        @Flag(help: "One JSON object per line instead of text.")
        var json = false

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard (1...100_000).contains(limit) else {
                throw ValidationError("--limit must be 1…100000, got \(limit)")
            }
        }

        struct Line: Encodable {
            var id: Int64
            var deadAt: Date
            var writtenAt: Date
            var topic: String
            var key: String?
            var size: Int
            var code: String
            var reason: String
        }

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.outbox")
            let limit = self.limit
            let (rows, total) = try await OutboxCommand.withOutbox(connection, logger: logger) { admin, client in
                try await admin.deadLetters(limit: limit, client: client)
            }
            for row in rows {
                let letter = row.letter
                if json {
                    print(
                        try OutboxCommand.jsonLine(
                            Line(
                                id: letter.id,
                                deadAt: row.deadAt,
                                writtenAt: row.writtenAt,
                                topic: letter.topic,
                                key: letter.key,
                                size: letter.size,
                                code: letter.code,
                                reason: letter.reason
                            )
                        )
                    )
                } else {
                    print(
                        [
                            "\(letter.id)", RejectedText.secondsTime(row.deadAt), letter.topic,
                            "key \(letter.key.map(RejectedText.printable) ?? "-")", "\(letter.size) B",
                            RejectedText.shortened(RejectedText.printable("\(letter.code): \(letter.reason)"), to: 120),
                        ].joined(separator: "  ")
                    )
                }
            }
            StandardError.print(
                "\(total) dead letter(s)" + (total > rows.count ? "; the oldest \(rows.count) shown (--limit)" : "")
            )
        }
    }
}
