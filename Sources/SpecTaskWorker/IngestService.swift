import Kafka
import Logging
import ServiceLifecycle

/// Reads the input topics batch by batch.
///
/// The multi-session manager that applies commands and Zed events is not built yet: this service joins the
/// group, reports assignments and batches, and commits nothing, so every message stays for the manager.
public struct IngestService: Service {
    let consumer: KafkaConsumer
    let settings: WorkerSettings
    let logger: Logger

    /// How long to wait for partitions before saying so in the log.
    static let assignmentWarningDelay = Duration.seconds(30)

    public init(consumer: KafkaConsumer, settings: WorkerSettings, logger: Logger) {
        self.consumer = consumer
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        logger.info("joining the consumer group", metadata: ["kafka.topics": "\(settings.inputTopics)"])
        var owned: Set<KafkaTopicPartition> = []
        var waitingSince = ContinuousClock.now
        var warned = false
        // Graceful shutdown is checked between batches: a batch being handled is finished first.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let events: [KafkaConsumerEvent]
            do {
                events = try await consumer.poll(maxMessages: settings.maxBatchSize, timeout: .milliseconds(100))
            } catch let error as KafkaError where error.code == .clientClosed {
                break
            }
            for event in events {
                switch event {
                case .partitionsAssigned(let partitions):
                    owned.formUnion(partitions)
                    logger.info("owning partitions", metadata: ["kafka.partitions": "\(partitions.sorted())"])
                case .partitionsRevoked(let partitions):
                    owned.subtract(partitions)
                    logger.info("released partitions", metadata: ["kafka.partitions": "\(partitions.sorted())"])
                    if owned.isEmpty {
                        waitingSince = .now
                        warned = false
                    }
                case .messages(let batch):
                    logger.info(
                        "received a batch (not applied: the multi-session manager is not built yet)",
                        metadata: ["kafka.messages": "\(batch.count)"]
                    )
                }
            }
            if owned.isEmpty, !warned, ContinuousClock.now - waitingSince > Self.assignmentWarningDelay {
                warned = true
                logger.warning(
                    """
                    no partitions assigned yet; other workers may own them all, or the group is stuck rebalancing \
                    (seen with Tansu: restart the broker or use a fresh --group-id)
                    """,
                    metadata: ["kafka.group": "\(settings.groupID)", "waited": "\(Self.assignmentWarningDelay)"]
                )
            }
        }
        logger.info("ingest stopped")
    }
}
