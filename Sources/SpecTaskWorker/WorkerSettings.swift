import SpecTaskDomain

/// What a worker does, beyond where the services are.
public struct WorkerSettings: Sendable, Hashable {
    /// The consumer group all workers share; Kafka splits the input partitions among them.
    public var groupID: String
    /// Prepended to every topic name, to run several independent systems (or test runs) on one cluster.
    public var topicPrefix: String {
        didSet { inputTopics = Self.inputTopics(prefix: topicPrefix) }
    }
    /// Topics the worker consumes: commands and Zed events.
    public private(set) var inputTopics: [String]
    /// The secret runner tokens are derived from (HMAC per Zed instance); the same on every worker.
    public var runnerSecret: String
    /// Most messages handled in one batch.
    public var maxBatchSize: Int
    /// Admin HTTP listener (health, readiness).
    public var adminHost: String
    public var adminPort: Int
    /// A ready Zed instance with no heartbeat for this long becomes disconnected (its active threads too).
    public var heartbeatTimeout: Duration
    /// A disconnected instance with no heartbeat for this long (since the last one) fails, with its sessions.
    public var heartbeatFailAfter: Duration
    /// A pending instance (created, its runner has not reported it ready) this old fails, with its sessions.
    public var instanceReadyTimeout: Duration
    /// How often each worker looks for instances that went quiet.
    public var sweepInterval: Duration
    /// A database call of the ingest loop (a claim, a batch) that takes longer is abandoned and retried.
    public var databaseTimeout: Duration
    /// How long the ids of applied inputs stay in the inbox. Longer than the input topics keep messages, so a
    /// message delivered again (or resent by its producer) while Kafka still has it is recognised.
    public var inboxRetention: Duration
    /// How long coordination messages between threads stay in the coordination log.
    public var coordinationRetention: Duration
    /// How long outbox messages the broker refused stay in `dead_letters`.
    public var deadLetterRetention: Duration
    /// How often each worker prunes what is past its retention (one worker at a time per table).
    public var pruneInterval: Duration
    /// How `start_planning` plans when the command does not say (`SPECTASK_PLANNING_IN_ZED`,
    /// `SPECTASK_PLANNING_AGENT_CONFIG`): outside Zed unless set. The same on every worker.
    public var planning = PlanningDefaults()

    public init(
        groupID: String = "spectask-worker",
        topicPrefix: String = "",
        runnerSecret: String = WorkerSettings.developmentRunnerSecret,
        maxBatchSize: Int = 500,
        adminHost: String = "127.0.0.1",
        adminPort: Int = 8081,
        heartbeatTimeout: Duration = .seconds(15),
        heartbeatFailAfter: Duration = .seconds(60),
        instanceReadyTimeout: Duration = .seconds(120),
        sweepInterval: Duration = .seconds(1),
        databaseTimeout: Duration = .seconds(10),
        inboxRetention: Duration = WorkerSettings.defaultInboxRetention,
        coordinationRetention: Duration = .seconds(30 * 86_400),
        deadLetterRetention: Duration = .seconds(30 * 86_400),
        pruneInterval: Duration = .seconds(60)
    ) {
        self.groupID = groupID
        self.topicPrefix = topicPrefix
        self.runnerSecret = runnerSecret
        self.inputTopics = Self.inputTopics(prefix: topicPrefix)
        self.maxBatchSize = maxBatchSize
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.heartbeatTimeout = heartbeatTimeout
        self.heartbeatFailAfter = heartbeatFailAfter
        self.instanceReadyTimeout = instanceReadyTimeout
        self.sweepInterval = sweepInterval
        self.databaseTimeout = databaseTimeout
        self.inboxRetention = inboxRetention
        self.coordinationRetention = coordinationRetention
        self.deadLetterRetention = deadLetterRetention
        self.pruneInterval = pruneInterval
    }

    /// How long the input topics keep messages (`retention.ms` of `topics/spectask.commands.topic.json` and
    /// `topics/zed.events.topic.json`: 7 days; a test keeps the two in step).
    public static let inputTopicRetention: Duration = .seconds(7 * 86_400)

    /// The input topics' retention and a day more, so an id outlives every copy of its message in Kafka.
    public static let defaultInboxRetention: Duration = inputTopicRetention + .seconds(86_400)

    /// Used when `SPECTASK_RUNNER_SECRET` is not set; fine on a laptop, never in production (the worker warns).
    public static let developmentRunnerSecret = "spectask-development-secret"

    public var topics: WorkerTopics { WorkerTopics(prefix: topicPrefix) }

    /// When the sweeper times out a Zed instance.
    public var instanceTimeouts: ZedInstanceTimeouts {
        ZedInstanceTimeouts(ready: instanceReadyTimeout, heartbeat: heartbeatTimeout, failAfter: heartbeatFailAfter)
    }

    static func inputTopics(prefix: String) -> [String] {
        [prefix + TopicNames.commands, prefix + TopicNames.zedEvents]
    }
}
