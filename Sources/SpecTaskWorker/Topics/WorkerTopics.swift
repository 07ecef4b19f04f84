/// The actual topic names one system uses: the public names with the deployment's prefix.
public struct WorkerTopics: Sendable, Hashable {
    public var commands: String
    public var zedEvents: String
    public var zedCommands: String
    public var status: String
    public var progress: String
    public var rejected: String

    public init(prefix: String = "") {
        commands = prefix + TopicNames.commands
        zedEvents = prefix + TopicNames.zedEvents
        zedCommands = prefix + TopicNames.zedCommands
        status = prefix + TopicNames.status
        progress = prefix + TopicNames.progress
        rejected = prefix + TopicNames.rejected
    }
}
