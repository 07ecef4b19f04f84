import ArgumentParser
import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Validate a command, publish it to spectask.commands and wait for its outcome.",
        discussion: """
            The command's data comes from --set key=value flags (a value that parses as JSON is taken as JSON, \
            anything else as a string), --set-file key=path (the file's text), or --data (a JSON object, or - for stdin). \
            Examples:
              spectask send create --task auth-1 --set name="User authentication"
              spectask send submit_specs --task auth-1 --set requirements=R --set design=D --set-file implementationPlan=docs/examples/auth-plan.md
              spectask send update_work_session_status --task auth-1 --set workSessionID=ws-1 --set status=completed
            Commands: \(SpecTaskCommand.names.joined(separator: ", ")).
            """
    )

    @Argument(
        help: ArgumentHelp(
            "The command name (e.g. create) or its full type (spectask.command.create).",
            valueName: "command"
        )
    )
    var command: String

    @Option(help: ArgumentHelp("The spec task the command is for (the CloudEvent subject).", valueName: "id"))
    var task: String

    @Option(
        name: .customLong("set"),
        parsing: .singleValue,
        help: ArgumentHelp("A data member, key=value.", valueName: "key=value")
    )
    var members: [String] = []

    @Option(
        name: .customLong("set-file"),
        parsing: .singleValue,
        help: ArgumentHelp("A data member read from a file, key=path.", valueName: "key=path")
    )
    var fileMembers: [String] = []

    @Option(help: ArgumentHelp("The whole data object as JSON, or - to read it from stdin.", valueName: "json"))
    var data: String?

    @Option(help: ArgumentHelp("The command id (idempotency key). Default: a new UUID.", valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("Who sends it (CloudEvent extension actor).", valueName: "name"))
    var actor: String = ProcessInfo.processInfo.environment["USER"] ?? "spectask-cli"

    @Flag(inversion: .prefixedNo, help: "Wait for the outcome on spectask.status and print it.")
    var wait = true

    @Option(help: ArgumentHelp("How long to wait for the outcome, in seconds.", valueName: "seconds"))
    var timeout: Int = 30

    @OptionGroup var topicOptions: TopicOptions

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.send")
        let bytes = try buildMessage()
        // Validate exactly as the worker will: nothing invalid is published.
        let decoded = try CommandDecoder.decode(bytes, appliedAt: Date()).get()
        let prefix = try topicOptions.prefix()
        let topics = WorkerTopics(prefix: prefix)
        let kafka = try connection.kafka()

        // Follow the status topic before sending, so the outcome can not be missed.
        let follower =
            wait ? try await StatusFollower.start(kafka: kafka, topics: [topics.status], logger: logger) : nil

        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(common: kafka), logger: logger)
        let report = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            defer { group.cancelAll() }
            return try await producer.send(
                KafkaProducerRecord(
                    topic: topics.commands,
                    key: decoded.specTaskID,
                    value: String(decoding: bytes, as: UTF8.self)
                )
            )
        }
        print(
            "sent \(decoded.command.type) \(decoded.id) for \(decoded.specTaskID) (\(report.topic)[\(report.partition)]@\(report.offset))"
        )
        guard let follower else { return }
        let outcome = try await waitForOutcome(of: decoded.id, on: follower)
        await follower.close()
        switch outcome {
        case .commandApplied(let result):
            var line = "applied"
            if !result.created.workSessionIDs.isEmpty {
                line += "; work sessions: \(result.created.workSessionIDs.joined(separator: ", "))"
            }
            if let instance = result.created.zedInstanceID { line += "; Zed instance: \(instance)" }
            print(line)
        case .commandRejected(let result):
            print("rejected (\(result.code ?? "?")): \(result.reason ?? "")")
            throw ExitCode(2)
        default:
            break
        }
    }

    func buildMessage() throws -> [UInt8] {
        do {
            _ = try CommandMessage.name(command)
        } catch {
            throw ValidationError(error.description)
        }
        var object: [String: JSONValue] = [:]
        if let data {
            let text =
                data == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : data
            guard case .object(let parsed)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw ValidationError("--data must be a JSON object")
            }
            object = parsed
        }
        for member in members {
            let (key, value) = try split(member, flag: "--set")
            object[key] = (try? JSONDecoder().decode(JSONValue.self, from: Data(value.utf8))) ?? .string(value)
        }
        for member in fileMembers {
            let (key, path) = try split(member, flag: "--set-file")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read \(path) for --set-file \(key)")
            }
            object[key] = .string(text)
        }
        return try CommandMessage.build(
            command: command,
            task: task,
            data: object,
            id: id,
            actor: actor,
            source: "spectask-cli"
        )
    }

    private func split(_ member: String, flag: String) throws -> (String, String) {
        guard let equals = member.firstIndex(of: "="), equals != member.startIndex else {
            throw ValidationError("\(flag) expects key=value, got '\(member)'")
        }
        return (String(member[..<equals]), String(member[member.index(after: equals)...]))
    }

    private func waitForOutcome(of commandID: String, on follower: StatusFollower) async throws -> StatusEvent {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            for message in try await follower.next(onlyOutcomes: true) where message.event.correlationid == commandID {
                switch message.status {
                case .commandApplied?, .commandRejected?: return message.status!
                default: continue
                }
            }
        }
        await follower.close()
        print("no outcome within \(timeout) s: is a worker running? (scripts/services status)")
        throw ExitCode(3)
    }
}

extension InputRejection: LocalizedError {
    public var errorDescription: String? { "invalid command (\(code)): \(message)" }
}
