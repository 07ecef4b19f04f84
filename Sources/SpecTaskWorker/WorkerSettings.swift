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
    /// How often each worker looks for instances that went quiet.
    public var sweepInterval: Duration
    /// A database call of the ingest loop (a claim, a batch) that takes longer is abandoned and retried.
    public var databaseTimeout: Duration

    public init(
        groupID: String = "spectask-worker",
        topicPrefix: String = "",
        runnerSecret: String = WorkerSettings.developmentRunnerSecret,
        maxBatchSize: Int = 500,
        adminHost: String = "127.0.0.1",
        adminPort: Int = 8081,
        heartbeatTimeout: Duration = .seconds(15),
        heartbeatFailAfter: Duration = .seconds(60),
        sweepInterval: Duration = .seconds(1),
        databaseTimeout: Duration = .seconds(30)
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
        self.sweepInterval = sweepInterval
        self.databaseTimeout = databaseTimeout
    }

    /// Used when `SPECTASK_RUNNER_SECRET` is not set; fine on a laptop, never in production (the worker warns).
    public static let developmentRunnerSecret = "spectask-development-secret"

    public var topics: WorkerTopics { WorkerTopics(prefix: topicPrefix) }

    static func inputTopics(prefix: String) -> [String] {
        [prefix + TopicNames.commands, prefix + TopicNames.zedEvents]
    }
}
