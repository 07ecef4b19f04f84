import ArgumentParser
import Foundation
import SpecTaskWorker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker: consume commands and Zed events, apply them, publish status.",
        discussion:
            "Start as many as you like with the same --group-id: Kafka splits the input partitions among them. Stops cleanly on SIGTERM or Ctrl-C. A W3C traceparent on an input is carried onto every output it causes; SPECTASK_TRACING=log (with --log-level debug) also writes the worker's spans to the log."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    @Option(
        help: ArgumentHelp(
            "Consumer group shared by all workers.",
            discussion: "Env: SPECTASK_GROUP_ID.",
            valueName: "id"
        )
    )
    var groupID: String?

    @Option(
        help: ArgumentHelp(
            "Prefix of every topic name, to run separate systems on one cluster.",
            discussion: "Env: SPECTASK_TOPIC_PREFIX. Default: none.",
            valueName: "prefix"
        )
    )
    var topicPrefix: String?

    @Option(
        help: ArgumentHelp(
            "Admin HTTP address (GET /health, GET /ready).",
            discussion: "Env: SPECTASK_ADMIN_ADDRESS. Default: 127.0.0.1:8081; port 0 picks a free one.",
            valueName: "host:port"
        )
    )
    var admin: String?

    @Option(
        help: ArgumentHelp(
            "Most messages applied in one batch (1…10000).",
            discussion: "Env: SPECTASK_MAX_BATCH. Default: 500.",
            valueName: "n"
        )
    )
    var maxBatch: Int?

    func run() async throws {
        MallocArenas.limit(to: MallocArenas.workerLimit, environment: ProcessInfo.processInfo.environment)
        let logger = try logging.bootstrap(label: "spectask.worker")
        try WorkerTracing.bootstrap(ProcessInfo.processInfo.environment, logger: logger)
        let settings = try ServiceEnvironment.workerSettings(
            ProcessInfo.processInfo.environment,
            groupID: groupID,
            topicPrefix: topicPrefix,
            adminAddress: admin,
            maxBatchSize: maxBatch
        )
        let worker = Worker(
            kafka: try connection.kafka(),
            database: try connection.database(),
            settings: settings,
            logger: logger
        )
        try await worker.run()
    }
}
