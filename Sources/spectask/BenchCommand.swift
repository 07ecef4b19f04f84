import ArgumentParser
import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Drive N spec tasks through the whole command lifecycle against the running system and measure it.",
        discussion: """
            Each task gets: create, start_planning, submit_specs (one-task plan), approve_specs, start_implementation, \
            update_zed_thread (active), update_work_session_status (completed), approve_implementation: 8 commands. \
            Closed loop (default): each command is sent when the previous one's outcome arrived, at most \
            --concurrency tasks at once. Open loop (--rate): the commands are sent at that rate whatever the outcomes, \
            round-robin over windows of --concurrency tasks; the report says whether the system kept up. Prints \
            commands/s and the command→outcome latency (p50, p90, p99, max), with the settings used. --baseline also \
            times the same number of messages through a minimal one-transaction-per-message loop on the same \
            PostgreSQL, for comparison. Needs running workers (scripts/up).

            Zed-event mode (--zed-events N): measures Zed events instead of commands. Setup: --tasks spec tasks \
            (default 200) are driven closed loop through create … start_implementation (one-task plans); the bench \
            reads each instance's runner token from zed.commands and answers instance_ready and thread_created, as a \
            runner would, so every task has a ready instance and an active thread. Load: N events on zed.events, half \
            heartbeats (cpu, memory, the thread's progress) and half thread_activity (progress, token usage), \
            round-robin over the instances, each with its instance's token, in batches of 2000 per send, as fast as \
            possible or at --rate events/s. Measure: Zed events have no outcome on spectask.status, so the bench \
            polls the workers' --metrics every 200 ms (spectask_inputs_total of zed.events, every outcome, plus \
            spectask_heartbeats_coalesced_total) until they grew by N: rate = N / (first send → that poll). The \
            report gives events/s, how many heartbeats were coalesced and the rejections by code (any rejection exits \
            1), with the workers' stage breakdown. Every worker must be listed in --metrics. The tasks are cancelled \
            at the end, which stops their instances.
            """
    )

    @Option(help: ArgumentHelp("How many spec tasks (with --zed-events: how many Zed instances).", valueName: "n"))
    var tasks: Int = 200

    @Option(
        help: ArgumentHelp(
            "Most tasks in flight at once; with --rate, how many tasks are interleaved round-robin.",
            valueName: "n"
        )
    )
    var concurrency: Int = 100

    @Option(
        help: ArgumentHelp(
            "Offer this many commands/s whatever the outcomes (open loop); with --zed-events, send that many events/s.",
            valueName: "n"
        )
    )
    var rate: Int?

    @Option(
        help: ArgumentHelp(
            "Zed-event mode: send this many Zed events (heartbeats and thread activities, mixed) for --tasks "
                + "instances and measure the events/s the workers handle.",
            valueName: "n"
        )
    )
    var zedEvents: Int?

    @Flag(help: "Also time a one-transaction-per-message loop on the same PostgreSQL, for comparison.")
    var baseline = false

    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout: Int = 300

    @Option(
        help: ArgumentHelp(
            "The workers' metrics endpoints, comma-separated, read before and after for the stage breakdown "
                + "(with --zed-events also polled to count the events handled).",
            discussion: "Default: the two workers scripts/up starts. Workers that do not answer are left out.",
            valueName: "urls"
        )
    )
    var metrics = "http://127.0.0.1:8081/metrics,http://127.0.0.1:8082/metrics"

    @OptionGroup var topicOptions: TopicOptions

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...100_000).contains(tasks) else { throw ValidationError("--tasks must be 1…100000") }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1…10000") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second") }
        for url in metrics.split(separator: ",") {
            guard let parsed = URL(string: String(url)), ["http", "https"].contains(parsed.scheme ?? "") else {
                throw ValidationError("--metrics: '\(url)' is not an http(s) URL")
            }
        }
        if let zedEvents {
            guard (1...10_000_000).contains(zedEvents) else {
                throw ValidationError("--zed-events must be 1…10000000 events, got \(zedEvents)")
            }
            guard !baseline else {
                throw ValidationError("--baseline times commands; it can not be combined with --zed-events")
            }
            guard !metrics.split(separator: ",").isEmpty else {
                throw ValidationError("--zed-events measures through the workers' metrics; give them with --metrics")
            }
            if let rate {
                guard (1...1_000_000).contains(rate) else {
                    throw ValidationError("--rate must be 1…1000000 events/s, got \(rate)")
                }
                let sendSeconds = zedEvents / rate
                guard sendSeconds < timeout else {
                    throw ValidationError(
                        "--rate \(rate) takes \(sendSeconds) s to send \(zedEvents) Zed events, longer than --timeout "
                            + "\(timeout); raise --rate or --timeout, or lower --zed-events"
                    )
                }
            }
        } else if let rate {
            guard (1...1_000_000).contains(rate) else {
                throw ValidationError("--rate must be 1…1000000 commands/s, got \(rate)")
            }
            // Sending alone must fit in the timeout, or the run is bound to time out.
            let sendSeconds = tasks * BenchDriver.steps / rate
            guard sendSeconds < timeout else {
                throw ValidationError(
                    "--rate \(rate) takes \(sendSeconds) s to send \(tasks * BenchDriver.steps) commands, longer than "
                        + "--timeout \(timeout); raise --rate or --timeout, or lower --tasks"
                )
            }
        }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.bench")
        let topics = WorkerTopics(prefix: try topicOptions.prefix())
        let kafka = try connection.kafka()
        let id = UUID().uuidString.prefix(8).lowercased()
        let run = "bench-\(id)"
        let metricsURLs = metrics.split(separator: ",").compactMap { URL(string: String($0)) }

        if let zedEvents {
            return try await BenchZedEvents(
                events: zedEvents,
                tasks: tasks,
                concurrency: concurrency,
                rate: rate,
                timeout: .seconds(timeout),
                metricsURLs: metricsURLs,
                topics: topics,
                kafka: kafka,
                logger: logger
            ).run()
        }

        // Before the main run: the database is quiet then, not still busy with the workers' outbox and offsets.
        var baselineResult: BenchBaseline.Result?
        if baseline {
            print("baseline: \(tasks * BenchDriver.steps) messages, one transaction each, on one connection…")
            baselineResult = try await BenchBaseline.run(
                database: try connection.database(),
                tasks: tasks,
                id: id,
                logger: logger
            )
            if let baselineResult {
                print("  \(String(format: "%.0f", baselineResult.rate)) messages/s")
            }
        }

        // A transaction's cost may grow with the tables: the report says how full they were.
        do {
            let size = try await withPostgres(try connection.database(), logger: logger) { client in
                try await DatabaseSize.read(client: client, logger: logger)
            }
            print(
                "database: \(size.specTasks) spec tasks, \(size.workSessions) work sessions, \(size.inboxIDs) inbox ids "
                    + "before the run"
            )
        } catch {
            print("database: not read (\(error)); the run goes on")
        }
        let stagesBefore = await BenchStages.scrape(metricsURLs)
        let follower = try await StatusFollower.start(kafka: kafka, topics: [topics.status], logger: logger)
        // No linger, as a client that wants its answers soon would send (librdkafka still batches what queues up
        // while a request is under way, so a flood goes out in batches all the same).
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(common: kafka, linger: .zero),
            logger: logger
        )
        print(
            "bench: \(tasks) tasks × \(BenchDriver.steps) commands, "
                + (rate.map { "open loop at \($0)/s over windows of \(concurrency) tasks" }
                    ?? "at most \(concurrency) tasks in flight")
                + ", topics \(topics.commands) → \(topics.status)"
        )
        let result = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            defer { group.cancelAll() }
            guard let rate else {
                return try await closedLoop(
                    run: run,
                    topics: topics,
                    producer: producer,
                    follower: follower,
                    logger: logger
                )
            }
            return try await BenchOpenLoop(
                schedule: BenchSchedule(run: run, tasks: tasks, window: concurrency),
                rate: rate,
                topic: topics.commands,
                producer: producer,
                follower: follower,
                timeout: .seconds(timeout),
                logger: logger
            ).run()
        }
        await follower.close()
        let stagesAfter = await BenchStages.scrape(metricsURLs)

        print(
            BenchReport(
                run: run,
                tasks: tasks,
                concurrency: concurrency,
                statusTopic: topics.status,
                result: result,
                baseline: baselineResult
            ).text
        )
        let unreachable = Set(stagesBefore.unreachable + stagesAfter.unreachable)
        if unreachable.count < metricsURLs.count {
            print("\nwhere the time went (the workers' stage histograms during this run, all workers together):")
            print(stagesAfter.stages.since(stagesBefore.stages).table(order: Self.stageOrder))
        }
        if !unreachable.isEmpty {
            print("(no metrics from \(unreachable.map(\.absoluteString).sorted().joined(separator: ", ")))")
        }
        if result.rejected > 0 { throw ExitCode(1) }
    }

    /// The workers' stages in the order a batch goes through them, for the breakdown tables.
    static let stageOrder = [
        "poll_wait", "decode", "intake", "load", "decide", "persist", "transaction",
        "kafka_commit", "relay_wait", "relay_publish",
    ]

    /// Each task's next command sent when the previous one's outcome arrived, at most `concurrency` tasks at once.
    private func closedLoop(
        run: String,
        topics: WorkerTopics,
        producer: KafkaProducer,
        follower: StatusFollower,
        logger: Logger
    ) async throws -> BenchResult {
        var driver = BenchDriver(run: run, tasks: tasks)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + .seconds(timeout)
        var sentAt: [String: ContinuousClock.Instant] = [:]
        var latencies: [Duration] = []
        var rejected = 0
        var lastReport = started

        func send(_ items: [BenchItem]) async throws {
            guard !items.isEmpty else { return }
            let now = clock.now
            for item in items { sentAt[item.id] = now }
            _ = try await producer.send(items.map { BenchDriver.record($0, topic: topics.commands) })
        }

        try await send(driver.start(upTo: concurrency))
        while !driver.isFinished {
            guard clock.now < deadline else {
                throw CLIError(
                    "timed out after \(timeout) s with \(driver.completedTasks) of \(tasks) tasks finished; are workers running?"
                )
            }
            var next: [BenchItem] = []
            for message in try await follower.next(timeout: .milliseconds(50), onlyOutcomes: true) {
                let rejection: CommandOutcome?
                switch message.status {
                case .commandApplied?: rejection = nil
                case .commandRejected(let outcome)?: rejection = outcome
                default: continue  // a change the command caused, not its outcome
                }
                // Not ours when nothing waits under its id: another sender's command on the same topic.
                guard let id = message.event.correlationid, let sent = sentAt.removeValue(forKey: id) else { continue }
                if let rejection {
                    rejected += 1
                    logger.warning("rejected: \(rejection.reason ?? "")")
                }
                latencies.append(clock.now - sent)
                next += driver.outcome(of: id)
            }
            if driver.inFlight < concurrency { next += driver.start(upTo: concurrency - driver.inFlight) }
            try await send(next)
            if clock.now - lastReport > .seconds(2) {
                lastReport = clock.now
                print("  \(latencies.count) of \(tasks * BenchDriver.steps) commands done")
            }
        }
        let elapsed = clock.now - started
        return BenchResult(
            latencies: latencies,
            rejected: rejected,
            elapsed: elapsed,
            achievedRate: Double(latencies.count) / max(elapsed.seconds, 1e-9),
            openLoop: nil
        )
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

    /// Commands per task.
    static let steps = 8

    var isFinished: Bool { completedTasks == tasks }
    var inFlight: Int { started - completedTasks }

    mutating func start(upTo count: Int) -> [BenchItem] {
        var commands: [BenchItem] = []
        while started < tasks, commands.count < count {
            started += 1
            let task = "\(run)-\(started)"
            step[task] = 0
            commands.append(command(for: task))
        }
        return commands
    }

    mutating func outcome(of commandID: String) -> [BenchItem] {
        guard let task = waiting.removeValue(forKey: commandID) else { return [] }
        step[task, default: 0] += 1
        if step[task] == Self.steps {
            completedTasks += 1
            return []
        }
        return [command(for: task)]
    }

    private mutating func command(for task: String) -> BenchItem {
        let item = Self.command(for: task, step: step[task] ?? 0)
        waiting[item.id] = task
        return item
    }

    /// The `index`th of a task's 8 commands; the open loop sends the same sequence.
    static func command(for task: String, step index: Int) -> BenchItem {
        let id = "\(task)-c\(index)"
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

    /// The Kafka record of a command, keyed by its task: one partition keeps a task's commands in order.
    static func record(_ item: BenchItem, topic: String) -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic,
            key: Array(item.task.utf8),
            value: CommandEncoder.encode(
                id: item.id,
                specTaskID: item.task,
                source: "spectask-bench",
                command: item.command
            )
        )
    }
}

/// One benchmark command: the task it belongs to (the Kafka key), its id (the outcome's correlation id), the command.
typealias BenchItem = (task: String, id: String, command: SpecTaskCommand)
