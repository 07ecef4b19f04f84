/// What a worker does, beyond where the services are.
public struct WorkerSettings: Sendable, Hashable {
    /// The consumer group all workers share; Kafka splits the input partitions among them.
    public var groupID: String
    /// Prepended to every topic name, to run several independent systems (or test runs) on one cluster.
    public var topicPrefix: String {
        didSet { inputTopics = [TopicNames.commands, TopicNames.zedEvents].map { topicPrefix + $0 } }
    }
    /// Topics the worker consumes.
    public private(set) var inputTopics: [String]
    /// Most messages handled in one batch.
    public var maxBatchSize: Int
    /// Admin HTTP listener (health, readiness).
    public var adminHost: String
    public var adminPort: Int

    public init(
        groupID: String = "spectask-worker",
        topicPrefix: String = "",
        maxBatchSize: Int = 500,
        adminHost: String = "127.0.0.1",
        adminPort: Int = 8081
    ) {
        self.groupID = groupID
        self.topicPrefix = topicPrefix
        self.inputTopics = [TopicNames.commands, TopicNames.zedEvents].map { topicPrefix + $0 }
        self.maxBatchSize = maxBatchSize
        self.adminHost = adminHost
        self.adminPort = adminPort
    }
}
