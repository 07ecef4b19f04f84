import ArgumentParser
import Foundation
import Kafka
import SpecTaskDomain
import SpecTaskWorker

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Drive N spec tasks through the whole command lifecycle against the running system and measure it.",
        discussion: """
            Each task gets: create, start_planning, submit_specs (one-task plan), approve_specs, start_implementation, \
            update_zed_thread (active), update_work_session_status (completed), approve_implementation: 8 commands, each \
            sent when the previous one's outcome arrived. Tasks run concurrently. Prints commands/s and the \
            command→outcome latency (p50, p90, p99, max), with the settings used. Needs running workers (scripts/up).
            """
    )

    @Option(help: ArgumentHelp("How many spec tasks.", valueName: "n"))
    var tasks: Int = 200

    @Option(help: ArgumentHelp("Most tasks in flight at once.", valueName: "n"))
    var concurrency: Int = 100

    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout: Int = 300

    @OptionGroup var topicOptions: TopicOptions

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...100_000).contains(tasks) else { throw ValidationError("--tasks must be 1…100000") }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1…10000") }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.bench")
        let prefix = try topicOptions.prefix()
        let topics = WorkerTopics(prefix: prefix)
        let kafka = try connection.kafka()
        let follower = try await StatusFollower.start(kafka: kafka, topics: [topics.status], logger: logger)
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: kafka, linger: .milliseconds(2)),
            logger: logger
        )
        let run = "bench-\(UUID().uuidString.prefix(8).lowercased())"

        let result = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            defer { group.cancelAll() }
            var driver = BenchDriver(run: run, tasks: tasks)
            let clock = ContinuousClock()
            let started = clock.now
            let deadline = started + .seconds(timeout)
            var sentAt: [String: ContinuousClock.Instant] = [:]
            var latencies: [Duration] = []
            var rejected = 0
            var lastReport = started

            func send(_ commands: [(task: String, id: String, command: SpecTaskCommand)]) async throws {
                guard !commands.isEmpty else { return }
                let records = commands.map { item in
                    sentAt[item.id] = clock.now
                    return KafkaProducerRecord(
                        topic: topics.commands,
                        key: Array(item.task.utf8),
                        value: CommandEncoder.encode(
                            id: item.id,
                            specTaskID: item.task,
                            source: "spectask-bench",
                            command: item.command
                        )
                    )
                }
                _ = try await producer.send(records)
            }

            print(
                "bench: \(tasks) tasks × 8 commands, at most \(concurrency) tasks in flight, topics \(topics.commands) → \(topics.status)"
            )
            try await send(driver.start(upTo: concurrency))
            while !driver.isFinished {
                guard clock.now < deadline else {
                    throw CLIError(
                        "timed out after \(timeout) s with \(driver.completedTasks) of \(tasks) tasks finished; are workers running?"
                    )
                }
                var next: [(task: String, id: String, command: SpecTaskCommand)] = []
                for message in try await follower.next(timeout: .milliseconds(50)) {
                    guard let id = message.event.correlationid, let sent = sentAt.removeValue(forKey: id) else {
                        continue
                    }
                    switch message.status {
                    case .commandApplied?: break
                    case .commandRejected(let outcome)?:
                        rejected += 1
                        logger.warning("rejected: \(outcome.reason ?? "")")
                    default: continue
                    }
                    latencies.append(clock.now - sent)
                    next += driver.outcome(of: id)
                }
                if driver.inFlight < concurrency { next += driver.start(upTo: concurrency - driver.inFlight) }
                try await send(next)
                if clock.now - lastReport > .seconds(2) {
                    lastReport = clock.now
                    print("  \(latencies.count) of \(tasks * 8) commands done")
                }
            }
            return (elapsed: clock.now - started, latencies: latencies, rejected: rejected)
        }
        await follower.close()

        let sorted = result.latencies.sorted()
        func percentile(_ p: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            return String(
                format: "%.1f ms",
                Double(value.components.attoseconds) / 1e15 + Double(value.components.seconds) * 1000
            )
        }
        let seconds = Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) / 1e18
        print(
            """
            commands:   \(sorted.count) (\(result.rejected) rejected) in \(String(format: "%.2f", seconds)) s = \(String(format: "%.0f", Double(sorted.count) / seconds)) commands/s
            latency:    p50 \(percentile(0.5)), p90 \(percentile(0.9)), p99 \(percentile(0.99)), max \(percentile(1.0)) (send → outcome on \(topics.status))
            settings:   \(tasks) tasks, concurrency \(concurrency), \(ProcessInfo.processInfo.activeProcessorCount) cores, run \(run)
            """
        )
        if result.rejected > 0 { throw ExitCode(1) }
    }
}

/// Which command each benchmark task sends next.
struct BenchDriver {
    let run: String
    let tasks: Int
    private var started = 0
    private var step: [String: Int] = [:]
    private var waiting: [String: String] = [:]  // command id → task
    private var sessions: [String: String] = [:]  // task → work session id
    private(set) var completedTasks = 0

    init(run: String, tasks: Int) {
        self.run = run
        self.tasks = tasks
    }

    var isFinished: Bool { completedTasks == tasks }
    var inFlight: Int { started - completedTasks }

    mutating func start(upTo count: Int) -> [(task: String, id: String, command: SpecTaskCommand)] {
        var commands: [(task: String, id: String, command: SpecTaskCommand)] = []
        while started < tasks, commands.count < count {
            started += 1
            let task = "\(run)-\(started)"
            step[task] = 0
            commands.append(command(for: task))
        }
        return commands
    }

    mutating func outcome(of commandID: String) -> [(task: String, id: String, command: SpecTaskCommand)] {
        guard let task = waiting.removeValue(forKey: commandID) else { return [] }
        step[task, default: 0] += 1
        if step[task] == 8 {
            completedTasks += 1
            return []
        }
        return [command(for: task)]
    }

    private mutating func command(for task: String) -> (task: String, id: String, command: SpecTaskCommand) {
        let index = step[task] ?? 0
        let id = "\(task)-c\(index)"
        waiting[id] = task
        let session = "\(task)-ws"
        let command: SpecTaskCommand =
            switch index {
            case 0: .create(CreateSpecTask(name: "Benchmark task \(task)"))
            case 1: .startPlanning(StartPlanning())
            case 2: .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: "Change one thing."))
            case 3: .approveSpecs(ApproveSpecs(approver: "bench"))
            case 4: .startImplementation(StartImplementation(workSessionIDs: [session]))
            case 5: .updateZedThread(UpdateZedThread(workSessionID: session, status: .active))
            case 6: .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: session, status: .completed))
            default: .approveImplementation(ApproveImplementation(approver: "bench"))
            }
        return (task, id, command)
    }
}
