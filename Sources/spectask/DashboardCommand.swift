import ArgumentParser
import Foundation
import Kafka
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskDashboard
import SpecTaskWorker

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the live dashboard: the board of spec tasks, each task's page, and the human approval gate.",
        discussion: """
            A downstream consumer of spectask.status and spectask.progress that reads the full state from \
            PostgreSQL and serves a web page (from the binary's resources, nothing fetched from elsewhere) with \
            live updates over Server-Sent Events. Start as many as you like: each reads the topics on its own. \
            Actions (approve specs, request changes, start or approve the implementation, cancel, set the \
            concurrency limit or the budget, retry a session) need SPECTASK_DASHBOARD_TOKEN: the page asks for it; \
            without the variable the dashboard is read-only. Binds 127.0.0.1 unless told otherwise. Stops cleanly \
            on SIGTERM or Ctrl-C.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The address to serve on.",
            discussion: "Env: SPECTASK_DASHBOARD_ADDRESS. Default: 127.0.0.1:8090; port 0 picks a free one.",
            valueName: "host:port"
        )
    )
    var address: String?

    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.dashboard")
        let env = ProcessInfo.processInfo.environment
        let (host, port) = try Self.parseAddress(address ?? env["SPECTASK_DASHBOARD_ADDRESS"] ?? "127.0.0.1:8090")
        let token = env["SPECTASK_DASHBOARD_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let token, token.utf8.count < 8 {
            throw ValidationError("SPECTASK_DASHBOARD_TOKEN must be at least 8 characters long")
        }
        let settings = DashboardServer.Settings(
            host: host,
            port: port,
            token: token,
            topics: WorkerTopics(prefix: try topicOptions.prefix())
        )
        let kafka = try connection.kafka()
        let database = try connection.database()
        let postgres = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(common: kafka), logger: logger)
        let feed = DashboardFeed(kafka: kafka, topics: settings.topics, logger: logger)
        let application = try DashboardServer.makeApplication(
            settings: settings,
            postgres: postgres,
            feed: feed,
            producer: producer,
            onServerRunning: { port in
                // One line a script can wait for: where the page is, and whether it can act.
                logger.info(
                    "dashboard listening on http://\(host):\(port)/ (\(token == nil ? "read-only: no SPECTASK_DASHBOARD_TOKEN" : "actions need the token"))"
                )
            },
            logger: logger
        )
        // Stopped in reverse: the feed first (it ends the pages' event streams), then the server, then the clients.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: postgres),
                    .init(service: producer),
                    .init(service: application),
                    .init(service: feed),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    static func parseAddress(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
            let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port)
        else {
            throw ValidationError("the dashboard address '\(address)' is not host:port with a port from 0 to 65535")
        }
        return (String(address[..<colon]), port)
    }
}
