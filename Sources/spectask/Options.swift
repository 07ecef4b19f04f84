import ArgumentParser
import Foundation
import Kafka
import Logging
import SpecTaskStore
import SpecTaskWorker

/// Where Kafka and PostgreSQL are; each flag falls back to its environment variable, then to the local services.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("kafka"),
        help: ArgumentHelp(
            "Kafka bootstrap servers, host:port[,host:port…].",
            discussion: "Env: KAFKA_BOOTSTRAP_SERVERS. Default: \(ServiceEnvironment.defaultBootstrapServers).",
            valueName: "servers"
        )
    )
    var kafkaBootstrapServers: String?

    @Option(
        name: .customLong("postgres"),
        help: ArgumentHelp(
            "PostgreSQL URL, postgres://user:password@host:port/db?sslmode=….",
            discussion: "Env: POSTGRES_URL or POSTGRES_HOSTNAME/PORT/USER/PASSWORD/DB. Default: the local cluster.",
            valueName: "url"
        )
    )
    var postgresURL: String?

    func kafka() throws -> KafkaConfiguration {
        try ServiceEnvironment.kafka(ProcessInfo.processInfo.environment, bootstrapServers: kafkaBootstrapServers)
    }

    func database() throws -> DatabaseConfiguration {
        try ServiceEnvironment.database(ProcessInfo.processInfo.environment, url: postgresURL)
    }
}

struct LoggingOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(
        help: ArgumentHelp(
            "trace, debug, info, notice, warning, error or critical.",
            discussion: "Env: SPECTASK_LOG_LEVEL.",
            valueName: "level"
        )
    )
    var logLevel: Logger.Level?

    @Option(
        help: ArgumentHelp(
            "text for people, json (one object per line) for log collectors.",
            discussion: "Env: SPECTASK_LOG_FORMAT.",
            valueName: "format"
        )
    )
    var logFormat: Format?

    /// Sets up swift-log for the process and returns the root logger.
    func bootstrap(label: String) throws -> Logger {
        // Line-buffered stdout: followers like `watch` and `bench` print as they go, also into a pipe or a file.
        Terminal.lineBufferStandardOutput()
        let env = ProcessInfo.processInfo.environment
        let level =
            try logLevel ?? env["SPECTASK_LOG_LEVEL"].map { value in
                guard let level = Logger.Level(rawValue: value.lowercased()) else {
                    throw ConfigurationError(
                        "SPECTASK_LOG_LEVEL is '\(value)'; expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return level
            } ?? .info
        let format =
            try logFormat ?? env["SPECTASK_LOG_FORMAT"].map { value in
                guard let format = Format(rawValue: value.lowercased()) else {
                    throw ConfigurationError("SPECTASK_LOG_FORMAT is '\(value)'; expected text or json")
                }
                return format
            } ?? .text
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label, metadataProvider: WorkerTracing.logMetadata)
                case .json: JSONLogHandler(label: label, metadataProvider: WorkerTracing.logMetadata)
                }
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The topic prefix, for commands that talk to one system's topics.
struct TopicOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Prefix of every topic name, to run separate systems on one cluster.",
            discussion: "Env: SPECTASK_TOPIC_PREFIX. Default: none.",
            valueName: "prefix"
        )
    )
    var topicPrefix: String?

    /// The validated prefix: the flag, else `SPECTASK_TOPIC_PREFIX`, else none.
    func prefix() throws -> String {
        try ServiceEnvironment.topicPrefix(
            topicPrefix ?? ProcessInfo.processInfo.environment["SPECTASK_TOPIC_PREFIX"] ?? ""
        )
    }
}
