import ArgumentParser
import Foundation
import Kafka
import SpecTaskWorker

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create and list the Kafka topics of the system.",
        subcommands: [Apply.self, List.self]
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the topics defined by the *.topic.json files (existing topics are left as they are)."
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        @Option(
            help: ArgumentHelp(
                "Folder with the topic definitions.",
                discussion: "Env: SPECTASK_TOPICS_DIR. Default: ./topics.",
                valueName: "dir"
            )
        )
        var topicsDir: String?

        @OptionGroup var topicOptions: TopicOptions

        @Option(
            help: ArgumentHelp(
                "Replication factor for new topics (1 for a single local broker, 3 in production).",
                valueName: "n"
            )
        )
        var replicationFactor: Int32?

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.topics")
            let directory = topicsDir ?? ProcessInfo.processInfo.environment["SPECTASK_TOPICS_DIR"] ?? "topics"
            let prefix = try topicOptions.prefix()
            let definitions = try TopicCatalog.load(from: URL(fileURLWithPath: directory)).map { $0.prefixed(prefix) }
            let admin = try KafkaAdmin(configuration: try connection.kafka(), logger: logger)
            let outcomes = try await admin.createTopics(
                definitions.map { $0.specification(replicationFactor: replicationFactor) }
            )
            let existing = Dictionary(
                uniqueKeysWithValues: try await admin.listTopics().map { ($0.name, $0.partitions) }
            )
            for definition in definitions {
                let outcome = outcomes[definition.name] == .created ? "created" : "exists"
                var line =
                    "\(outcome.padding(toLength: 8, withPad: " ", startingAt: 0)) \(definition.name) (\(definition.partitions) partitions)"
                if let partitions = existing[definition.name], partitions != definition.partitions {
                    line += "  warning: the broker has \(partitions) partitions"
                }
                print(line)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the topics the broker has.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.topics")
            let admin = try KafkaAdmin(configuration: try connection.kafka(), logger: logger)
            for topic in try await admin.listTopics() {
                print("\(topic.name)\t\(topic.partitions) partitions")
            }
        }
    }
}
