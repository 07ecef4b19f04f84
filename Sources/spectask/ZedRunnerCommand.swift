import ArgumentParser
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

struct ZedRunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zed-runner",
        abstract: "Run the reference Zed runner: plays the Zed side of zed.commands / zed.events through the broker.",
        discussion: """
            A stand-in for real Zed runners, used by the demo and the tests. It opens the instances and threads the \
            worker asks for, sends a heartbeat per instance, and has each thread report a few activities (edits, \
            files, tests, tokens, cost) over a few seconds before it completes. Every event carries the runner token \
            the worker issued with the instance. It answers coordination requests, can ask for a helper session, \
            claims the paths each thread pretends to edit (its task's directory, and README.md for one step half \
            way) and waits while another thread holds them, and stops threads and instances when told. Stops \
            cleanly on SIGTERM or Ctrl-C.
            """
    )

    @Option(help: ArgumentHelp("Consumer group on zed.commands.", valueName: "group"))
    var groupID = "spectask-zed-runner"

    @Option(help: ArgumentHelp("Seconds between heartbeats of each instance.", valueName: "seconds"))
    var heartbeatInterval: Double = 1

    @Option(help: ArgumentHelp("Seconds between the activities of a thread.", valueName: "seconds"))
    var stepInterval: Double = 0.5

    @Option(help: ArgumentHelp("Activities per thread before it completes.", valueName: "n"))
    var steps = 6

    @Option(
        help: ArgumentHelp(
            "The thread of this implementation task asks for a helper session half way.",
            valueName: "index"
        )
    )
    var spawnHelperForTask: Int?

    @Flag(inversion: .prefixedNo, help: "Ask a sibling thread a question half way, and answer questions.")
    var coordinate = true

    @Flag(
        inversion: .prefixedNo,
        help: "Claim the paths each thread edits (zed.event.paths_claimed) and wait while another thread holds them."
    )
    var claimPaths = true

    @Option(help: ArgumentHelp("Tokens in per activity (tokens out are a third of it).", valueName: "n"))
    var tokensPerStep = 1_500

    @Option(help: ArgumentHelp("Cost per activity in millionths of a dollar.", valueName: "micros"))
    var costMicrosPerStep = 2_500

    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard heartbeatInterval.isFinite, (0.05...600).contains(heartbeatInterval) else {
            throw ValidationError("--heartbeat-interval must be between 0.05 and 600 seconds")
        }
        guard stepInterval.isFinite, (0...600).contains(stepInterval) else {
            throw ValidationError("--step-interval must be between 0 and 600 seconds")
        }
        guard (1...1000).contains(steps) else { throw ValidationError("--steps must be between 1 and 1000") }
        guard (0...1_000_000).contains(tokensPerStep), (0...1_000_000_000).contains(costMicrosPerStep) else {
            throw ValidationError("--tokens-per-step and --cost-micros-per-step must not be negative")
        }
        if let index = spawnHelperForTask, index < 1 {
            throw ValidationError("--spawn-helper-for-task must be an implementation task index (1 or more)")
        }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.zed-runner")
        let topics = WorkerTopics(prefix: try topicOptions.prefix())
        let kafka = try connection.kafka()
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: groupID,
                topics: [topics.zedCommands],
                sessionTimeout: .seconds(6),
                maxPollInterval: .seconds(10)
            ),
            logger: logger
        )
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(common: kafka), logger: logger)
        let runner = ReferenceZedRunner(
            producer: producer,
            topics: topics,
            settings: .init(
                heartbeatInterval: .milliseconds(Int64(heartbeatInterval * 1000)),
                stepInterval: .milliseconds(Int64(stepInterval * 1000)),
                steps: steps,
                spawnHelperForTask: spawnHelperForTask,
                coordinate: coordinate,
                tokensPerStep: tokensPerStep,
                costMicrosPerStep: costMicrosPerStep,
                claimPaths: claimPaths
            ),
            logger: logger
        )
        // Services stop in reverse order on SIGTERM or SIGINT: the consumer closes, which ends the commands loop
        // (its threads stop at their next step), then the heartbeats, and the producer last, once nothing is left
        // to send through it (a send queued after its flush would never get its delivery report).
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: producer),
                    .init(service: RunnerHeartbeats(runner: runner)),
                    .init(
                        service: RunnerCommands(
                            consumer: consumer,
                            runner: runner,
                            started: "reference Zed runner consuming \(topics.zedCommands) as group \(groupID)",
                            logger: logger
                        ),
                        successTerminationBehavior: .gracefullyShutdownGroup
                    ),
                    .init(service: consumer),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("reference Zed runner stopped")
    }
}

/// Sends the runner's heartbeats until graceful shutdown.
struct RunnerHeartbeats: Service {
    let runner: ReferenceZedRunner

    func run() async {
        await cancelWhenGracefulShutdown { await runner.heartbeatLoop() }
    }
}

/// Reads `zed.commands` and hands each command to the runner; every thread it starts runs as a child task of this
/// service, so nothing outlives it. Stops its threads when the consumer closes, and ends at its own turn in the
/// graceful shutdown.
struct RunnerCommands: Service {
    let consumer: KafkaConsumer
    let runner: ReferenceZedRunner
    /// Logged when it starts: the service group traps SIGTERM and SIGINT before it starts its services, so from
    /// this line on a signal means a graceful shutdown (tests wait for it before they send one).
    let started: String
    let logger: Logger

    func run() async throws {
        logger.info("\(started)")
        try await withThrowingDiscardingTaskGroup { group in
            for try await event in consumer.events() {
                guard case .messages(let messages) = event else { continue }
                for message in messages {
                    do {
                        let (_, command) = try EventDecoder.decodeZedCommand(message.value)
                        if let thread = await runner.handle(command) {
                            group.addTask { await runner.run(thread) }
                        }
                    } catch {
                        logger.warning("skipping a message on \(message.topic) that is not a Zed command: \(error)")
                    }
                }
                try? await consumer.commit(messages)
            }
            await runner.stopAllThreads()
        }
        // The consumer closed because the group is shutting down: its service comes after this one, so it is told
        // first. Returning before this service's own turn would count as finishing unexpectedly (exit 1).
        try? await gracefulShutdown()
    }
}
