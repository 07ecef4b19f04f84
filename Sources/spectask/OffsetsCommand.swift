import ArgumentParser
import Foundation
import SpecTaskStore
import SpecTaskWorker

struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Manage the Kafka positions the workers store in PostgreSQL (table consumer_offsets).",
        subcommands: [Reset.self]
    )

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move stored positions back to the beginning of their partitions.",
            discussion: """
                The workers keep the next offset of every partition in PostgreSQL, next to the effects, and skip \
                what lies below it. After the broker lost its topics (a new local broker: `scripts/services \
                fresh-broker` does this for you), the new topics start at offset 0 again, and stored positions \
                would make the workers skip the new messages as applied. This sets them back to 0 and bumps each \
                partition's owner generation, so a worker still holding one is fenced and claims it again. \
                Commands applied before are still recognised by their ids (the inbox) and not applied twice.
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        @Option(
            help: ArgumentHelp("Only this consumer group. Default: every group.", valueName: "id")
        )
        var group: String?

        @Option(
            help: ArgumentHelp(
                "Only topics whose name starts with this prefix. Default: every topic.",
                discussion: "SPECTASK_TOPIC_PREFIX is not used here: say which prefix to reset.",
                valueName: "prefix"
            )
        )
        var topicPrefix: String?

        @Flag(
            help: ArgumentHelp(
                "Set the next offset to 0, the beginning of each partition (the default, and for now the only mode)."
            )
        )
        var toBeginning = false

        @OptionGroup var confirmation: Confirmation

        func validate() throws {
            if let group {
                do {
                    _ = try ServiceEnvironment.groupID(group)
                } catch let error as ConfigurationError {
                    throw ValidationError("--group: \(error.message)")
                }
            }
            if let topicPrefix {
                guard !topicPrefix.isEmpty else {
                    throw ValidationError("--topic-prefix is empty; leave it out to reset every topic")
                }
                do {
                    _ = try ServiceEnvironment.topicPrefix(topicPrefix)
                } catch let error as ConfigurationError {
                    throw ValidationError("--topic-prefix: \(error.message)")
                }
            }
        }

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.offsets")
            let database = try connection.database()
            let selection = ConsumerOffsetAdmin.Selection(group: group, topicPrefix: topicPrefix)
            let scope = "group \(group ?? "(all)"), topics \(topicPrefix.map { "\($0)*" } ?? "(all)")"
            let confirmed = confirmation.yes
            let outcome: Outcome = try await withPostgres(database, logger: logger) { client in
                let admin = ConsumerOffsetAdmin(logger: logger)
                guard try await admin.tableExists(client: client) else { return .notMigrated }
                if !confirmed {
                    let positions = try await admin.positions(selection, client: client)
                    guard !positions.isEmpty else { return .reset([]) }
                    try Self.confirm(positions, scope: scope)
                }
                return .reset(try await admin.resetToBeginning(selection, client: client))
            }
            switch outcome {
            case .notMigrated:
                print("Nothing to reset: \(database) has no consumer_offsets table (not migrated yet).")
            case .reset(let resets) where resets.isEmpty:
                print("Nothing to reset: no stored positions match (\(scope)).")
            case .reset(let resets):
                print(
                    "Reset \(resets.count) partition(s) to the beginning (next offset 0) and bumped their owner "
                        + "generations (\(scope)):"
                )
                for line in Self.summary(resets.map(\.before)) { print("  \(line)") }
            }
        }

        enum Outcome: Sendable {
            case notMigrated
            case reset([ConsumerOffsetAdmin.Reset])
        }

        /// One line per group and topic: how many partitions, and where they were.
        static func summary(_ positions: [ConsumerOffsetAdmin.Position]) -> [String] {
            var lines: [String] = []
            var index = positions.startIndex
            while index < positions.endIndex {
                let first = positions[index]
                let end =
                    positions[index...].firstIndex { $0.group != first.group || $0.topic != first.topic }
                    ?? positions.endIndex
                let offsets = positions[index..<end].map(\.nextOffset)
                lines.append(
                    "\(first.group)  \(first.topic)  \(end - index) partition(s), next offsets were "
                        + "\(offsets.min()!)…\(offsets.max()!)"
                )
                index = end
            }
            return lines
        }

        /// Asks on the terminal; throws unless the answer is yes (or when there is no terminal to ask on).
        static func confirm(_ positions: [ConsumerOffsetAdmin.Position], scope: String) throws {
            try Confirmation.ask(
                to: "the reset of \(positions.count) partition(s) (\(scope))",
                question: "Reset \(positions.count) partition(s)?",
                declined: "Nothing reset."
            ) {
                print("These stored positions would go back to offset 0 (their owner generations go up):")
                for line in summary(positions) { print("  \(line)") }
                print("Workers still running on these topics would apply their messages again from the beginning.")
            }
        }
    }
}
