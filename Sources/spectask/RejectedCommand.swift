import ArgumentParser
import Foundation
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker

struct RejectedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rejected",
        abstract: "Look into spectask.rejected, the inputs the workers could not apply, and send one again.",
        discussion: """
            Every input a worker can not apply is published to spectask.rejected (with --topic-prefix: \
            <prefix>spectask.rejected) with its original bytes (the first 64 KiB of larger ones), their size and \
            SHA-256, where it was read, a code and a reason. These commands read that topic from its beginning to \
            its current end (the topic keeps records 30 days); they stop early, with a warning, when the broker \
            serves nothing new for 2 s. A record is selected by where its input was read, \
            <input-topic>:<partition>:<offset> (the topic with or without the prefix), or by the input's event id.
            """,
        subcommands: [List.self, Show.self, Redrive.self]
    )

    /// Usage errors, for every subcommand's --help.
    static let usageExitCode = """
        64 for a usage error, found before anything is read (an unknown flag, a bad value or selector; \
        ArgumentParser's EX_USAGE)
        """
}

/// What every `rejected` subcommand works on: this system's topics and a reader of its rejected topic.
struct RejectedSource {
    let prefix: String
    let topics: WorkerTopics
    let reader: RejectedReader

    init(topicOptions: TopicOptions, connection: ConnectionOptions, logger: Logger) throws {
        prefix = try topicOptions.prefix()
        topics = WorkerTopics(prefix: prefix)
        reader = RejectedReader(kafka: try connection.kafka(), topic: topics.rejected, logger: logger)
    }

    /// A bad prefix (the flag or SPECTASK_TOPIC_PREFIX) is a usage error, found before anything is read.
    static func validate(_ topicOptions: TopicOptions) throws {
        do {
            _ = try topicOptions.prefix()
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
    }

    /// Every record `selector` names, in the order they were rejected.
    func records(_ selector: RejectedSelector) async throws -> [RejectedReader.Entry] {
        var found: [RejectedReader.Entry] = []
        let prefix = self.prefix
        let summary = try await reader.scan { entry in
            if selector.matches(entry.record, prefix: prefix) { found.append(entry) }
        }
        if let warning = summary.warning { StandardError.print(warning) }
        return found.sorted(by: Self.inRejectionOrder)
    }

    /// What a redrive of `record` would send, or why not.
    func redrive(_ record: RejectedRecord, force: Bool) -> Result<RedriveMessage, RedriveRefusal> {
        record.redrive(commandsTopic: topics.commands, zedEventsTopic: topics.zedEvents, force: force)
    }

    /// The error for a selector that names no record.
    func notFound(_ selector: RejectedSelector) -> CLIError {
        var message = "no record on \(topics.rejected) is for \(selector)"
        if case .eventID(let id) = selector, id.contains(":") {
            message += " (to select by position: <input-topic>:<partition>:<offset>, with numbers)"
        }
        return CLIError(message + "; spectask rejected list shows what there is")
    }

    /// By rejection time, then by place on the rejected topic.
    static func inRejectionOrder(_ a: RejectedReader.Entry, _ b: RejectedReader.Entry) -> Bool {
        let (timeA, timeB) = (a.time ?? .distantPast, b.time ?? .distantPast)
        if timeA != timeB { return timeA < timeB }
        return (a.partition, a.offset) < (b.partition, b.offset)
    }
}
