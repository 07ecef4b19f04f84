import ArgumentParser
import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create and list the Kafka topics of the system.",
        subcommands: [Apply.self, List.self, AsyncAPI.self, Schemas.self]
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

    struct AsyncAPI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "asyncapi",
            abstract: "Print the AsyncAPI 3.0 document of the topics (topics/asyncapi.yaml is this command's output).",
            discussion: """
                Generated from the topic definitions (*.topic.json), the message types the code knows and the JSON \
                Schemas under <topics dir>/schemas, which the messages reference by $ref. --output writes it to a \
                file; --check exits 1 when that file is not what would be written (for CI).
                """
        )

        @Option(help: ArgumentHelp("Folder with the topic definitions and schemas/.", valueName: "dir"))
        var topicsDir = "topics"

        @Option(help: ArgumentHelp("Write the document to this file instead of printing it.", valueName: "path"))
        var output: String?

        @Flag(help: "Compare with --output's file instead of writing it; exit 1 when they differ.")
        var check = false

        func validate() throws {
            if check, output == nil { throw ValidationError("--check needs --output, the file to compare with") }
        }

        func run() throws {
            let text = try AsyncAPIDocument.make(
                topicsDirectory: URL(fileURLWithPath: topicsDir),
                version: VersionCommand.spectaskVersion
            ).text
            guard let output else {
                print(text, terminator: "")
                return
            }
            if check {
                let current = try? String(contentsOfFile: output, encoding: .utf8)
                guard current == text else {
                    throw CLIError(
                        "\(output) is not up to date; regenerate it with: spectask topics asyncapi --output \(output)"
                    )
                }
                print("\(output) is up to date")
                return
            }
            try text.write(toFile: output, atomically: true, encoding: .utf8)
            print("wrote \(output)")
        }
    }

    struct Schemas: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write the JSON Schemas of the input messages (commands, Zed events) from the code's field tables.",
            discussion: """
                Writes <schemas dir>/spectask.command.*.schema.json and zed.event.*.schema.json from the field tables \
                the decoder enforces (common.schema.json and the output schemas are written by hand). --check \
                writes nothing and exits 1 when a file is not what would be written (for CI).
                """
        )

        @Option(help: ArgumentHelp("Folder of the schema files.", valueName: "dir"))
        var schemasDir = "topics/schemas"

        @Flag(help: "Compare instead of writing; exit 1 when a file differs.")
        var check = false

        func run() throws {
            var stale: [String] = []
            for (fileName, text) in InputSchemas.files() {
                let path = schemasDir + "/" + fileName
                let current = try? String(contentsOfFile: path, encoding: .utf8)
                guard current != text else { continue }
                stale.append(fileName)
                if !check { try text.write(toFile: path, atomically: true, encoding: .utf8) }
            }
            if check, !stale.isEmpty {
                throw CLIError(
                    "not up to date in \(schemasDir): \(stale.joined(separator: ", ")); regenerate them with: "
                        + "spectask topics schemas --schemas-dir \(schemasDir)"
                )
            }
            print(stale.isEmpty ? "\(schemasDir): every input schema is up to date" : "wrote \(stale.count) files")
        }
    }
}
