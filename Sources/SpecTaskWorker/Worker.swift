import Foundation
import Kafka
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskStore

/// Wires one worker process: PostgreSQL client, Kafka consumer and producer, ingest, admin HTTP,
/// all in one `ServiceGroup` that shuts down gracefully on SIGTERM and SIGINT.
public struct Worker {
    public var kafka: KafkaConfiguration
    public var database: DatabaseConfiguration
    public var settings: WorkerSettings
    public var logger: Logger

    public init(kafka: KafkaConfiguration, database: DatabaseConfiguration, settings: WorkerSettings, logger: Logger) {
        self.kafka = kafka
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    /// Runs until a shutdown signal; returns after every service stopped.
    public func run() async throws {
        let postgres = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
        let consumer = try KafkaConsumer(
            // A short rebalance timeout (max.poll.interval.ms): brokers like Tansu hold every join for that long,
            // and the ingest loop polls at least every few seconds even while it retries a failed batch.
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: settings.groupID,
                topics: settings.inputTopics,
                maxPollInterval: .seconds(10)
            ),
            logger: logger
        )
        // No linger: the relay hands over whole batches at once, and librdkafka still batches what queues up while a
        // request is under way. At 200 commands/s, 1 ms of linger (here and in the bench's producer) cost 2-3 ms of
        // p50; saturated throughput was the same without it.
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: kafka, linger: .zero),
            logger: logger
        )
        let workerID =
            "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        if settings.runnerSecret == WorkerSettings.developmentRunnerSecret {
            logger.warning(
                "SPECTASK_RUNNER_SECRET is not set: runner tokens use the development secret; set it in production"
            )
        }
        let applier = BatchApplier(
            client: postgres,
            topics: settings.topics,
            group: settings.groupID,
            runnerTokens: RunnerTokens(secret: settings.runnerSecret),
            planning: settings.planning,
            logger: logger
        )
        let metrics = WorkerMetrics()
        let health = WorkerHealth()
        let sweepScope = SweepScope()
        // The ingest rings it after each commit, so the relay publishes at once what was just written.
        let doorbell = RelayDoorbell()
        let ingest = IngestService(
            consumer: consumer,
            applier: applier,
            settings: settings,
            workerID: workerID,
            metrics: metrics,
            sweepScope: sweepScope,
            doorbell: doorbell,
            health: health,
            logger: logger
        )
        let relay = OutboxRelay(
            client: postgres,
            producer: producer,
            doorbell: doorbell,
            metrics: metrics,
            logger: logger
        )
        let sweeper = HeartbeatSweeper(
            client: postgres,
            settings: settings,
            runnerTokens: RunnerTokens(secret: settings.runnerSecret),
            scope: sweepScope,
            metrics: metrics,
            doorbell: doorbell,
            logger: logger
        )
        // Keeps inbox, coordination_log and dead_letters bounded (one worker per table at a time).
        let retention = RetentionService(client: postgres, settings: settings, logger: logger)
        if settings.inboxRetention < WorkerSettings.inputTopicRetention {
            logger.warning(
                "SPECTASK_INBOX_RETENTION is shorter than the input topics keep messages: an input delivered again after \(ServiceEnvironment.describe(settings.inboxRetention)) would be applied again",
                metadata: ["topic.retention": "\(ServiceEnvironment.describe(WorkerSettings.inputTopicRetention))"]
            )
        }
        let admin = AdminServer.makeApplication(
            host: settings.adminHost,
            port: settings.adminPort,
            postgres: postgres,
            metrics: metrics,
            health: health,
            logger: logger
        )

        // Order matters for shutdown: services stop in reverse, so ingest stops before the clients it uses.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: postgres),
                    .init(service: producer),
                    .init(service: relay),
                    .init(service: sweeper),
                    .init(service: retention),
                    .init(service: consumer),
                    .init(service: ingest, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: admin),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info(
            "worker starting",
            metadata: [
                "kafka.bootstrap": "\(kafka.bootstrapServers.joined(separator: ","))",
                "kafka.group": "\(settings.groupID)",
                "postgres": "\(database)",
                "admin": "http://\(settings.adminHost):\(settings.adminPort)",
            ]
        )
        try await group.run()
        logger.info("worker stopped")
    }
}
