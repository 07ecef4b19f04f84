import ArgumentParser
import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker

#if canImport(Glibc)
import Glibc
#endif

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole story on the running system: a five-task spec task from creation to done.",
        discussion: """
            Needs running workers and a Zed runner (scripts/up starts them). Creates "Implement complete user \
            authentication system" and starts its planning session in the task's Zed instance, where the reference \
            runner plays the planning agent and hands in the specs with the implementation plan (--plan); asks for \
            changes once, waits for the revised specs and approves them; starts the implementation on the same \
            instance and shows the progress of every work session live until the task reaches 100%; then approves \
            the implementation and prints the multi-session overview. Exits 0 when the task is done. \
            --upstream-specs submits the specs itself, as a planner outside Zed would.
            """
    )

    @Option(help: ArgumentHelp("Spec task id (default: auth-<date>-<time>).", valueName: "id"))
    var task: String?

    @Option(help: ArgumentHelp("The implementation plan to submit.", valueName: "path"))
    var plan = "docs/examples/auth-plan.md"

    @Flag(help: "Submit the specs as an upstream planner would, instead of running the planning session in Zed.")
    var upstreamSpecs = false

    @Option(help: ArgumentHelp("Most work sessions active at once.", valueName: "n"))
    var maxConcurrentSessions = 3

    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout = 300

    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let task, let problem = CommandDecoder.subjectProblem(task) { throw ValidationError("--task: \(problem)") }
        guard (1...100).contains(maxConcurrentSessions) else {
            throw ValidationError("--max-concurrent-sessions must be between 1 and 100")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.demo")
        guard let planText = try? String(contentsOfFile: plan, encoding: .utf8) else {
            throw CLIError("can not read the implementation plan \(plan); run the demo from the repository root")
        }
        let taskID = task ?? "auth-" + Self.timestamp()
        let topics = WorkerTopics(prefix: try topicOptions.prefix())
        let kafka = try connection.kafka()
        let deadline = ContinuousClock.now + .seconds(timeout)

        let follower = try await StatusFollower.start(
            kafka: kafka,
            topics: [topics.status, topics.progress],
            logger: logger
        )
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(common: kafka), logger: logger)
        let database = try connection.database()
        let overview = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            defer { group.cancelAll() }
            var session = DemoSession(
                taskID: taskID,
                topics: topics,
                producer: producer,
                follower: follower,
                deadline: deadline
            )
            print("Spec task \(taskID): Implement complete user authentication system")
            if let dashboard = ProcessInfo.processInfo.environment["SPECTASK_DASHBOARD_URL"] {
                print("Watch it live on the dashboard: \(dashboard)/tasks/\(taskID)")
            }
            try await session.send(
                .create(
                    CreateSpecTask(
                        name: "Implement complete user authentication system",
                        description: "Sign-up, sign-in, sessions and hardening, planned by an agent and approved.",
                        projectPath: "/workspace/auth-service"
                    )
                ),
                says: "created"
            )
            if upstreamSpecs {
                try await session.planUpstream(planText)
            } else {
                try await session.planInZed(planText)
            }
            try await session.send(.approveSpecs(ApproveSpecs(approver: "demo-reviewer")), says: "specs approved")
            try await session.send(
                .startImplementation(StartImplementation(maxConcurrentSessions: maxConcurrentSessions)),
                says: "implementation started (at most \(maxConcurrentSessions) sessions at once)"
            )
            try await session.followUntilImplemented()
            try await session.send(
                .approveImplementation(ApproveImplementation(approver: "demo-reviewer")),
                says: "implementation approved"
            )
            await follower.close()
            return try await withPostgres(database, logger: logger) { client in
                try await SpecTaskRepository(logger: logger).loadSnapshot([taskID], client: client)
            }[taskID]?.state
        }
        guard let overview else { throw CLIError("spec task \(taskID) is not in the database") }
        print("")
        print(OverviewText.render(overview))
        print("")
        print(
            "Done. Follow it with `\(Self.invocation) show \(taskID)` or `\(Self.invocation) watch`; stop everything with "
                + "`scripts/services down`."
        )
        guard overview.task.status == .done else { throw ExitCode(1) }
    }

    /// How the user ran this binary (e.g. `.build/debug/spectask`), for the commands the demo suggests.
    static var invocation: String {
        let path = CommandLine.arguments.first ?? "spectask"
        let current = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(current) ? "./" + path.dropFirst(current.count) : path
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}

/// The demo's conversation with the system: commands out, outcomes and progress in.
private struct DemoSession {
    let taskID: String
    let topics: WorkerTopics
    let producer: KafkaProducer
    let follower: StatusFollower
    let deadline: ContinuousClock.Instant
    var sent = 0
    var latest: ProgressSnapshot?
    var status: SpecTaskStatus?
    /// How many times the specs went to review: the planning session handing them in, or in again.
    var specReviews = 0
    /// Path claims that waited for another session's files, and those of them granted since.
    var claimsWaited: Set<String> = []
    var claimsGrantedAfterWaiting: Set<String> = []
    let interactive = isatty(STDOUT_FILENO) == 1
    var drawnLines = 0
    var lastPrinted = ""

    init(
        taskID: String,
        topics: WorkerTopics,
        producer: KafkaProducer,
        follower: StatusFollower,
        deadline: ContinuousClock.Instant
    ) {
        self.taskID = taskID
        self.topics = topics
        self.producer = producer
        self.follower = follower
        self.deadline = deadline
    }

    /// The planning agent outside Zed: planning started, the specs submitted as a command.
    mutating func planUpstream(_ planText: String) async throws {
        try await send(.startPlanning(StartPlanning(inZed: false)), says: "planning agent started (outside Zed)")
        try await send(
            .submitSpecs(
                SubmitSpecs(
                    requirements: "Users sign up, sign in and out; sessions expire; brute force is throttled.",
                    design: "REST API over PostgreSQL; argon2id password hashes; signed session tokens.",
                    implementationPlan: planText
                )
            ),
            says: "specs submitted"
        )
    }

    /// The planning session: a thread on the task's Zed instance writes the specs (the reference runner hands in
    /// `planText`), the reviewer asks for one change, and the thread revises them.
    mutating func planInZed(_ planText: String) async throws {
        try await send(
            .startPlanning(StartPlanning(inZed: true, agentConfig: .object(["plan": .string(planText)]))),
            says: "planning session started in the task's Zed instance"
        )
        try await waitForSpecReview(says: "the planning session handed in the specs (requirements, design, plan)")
        try await send(
            .requestChanges(
                RequestChanges(
                    reviewer: "demo-reviewer",
                    comments: "Throttle repeated failed sign-ins per account and per address."
                )
            ),
            says: "changes requested by demo-reviewer"
        )
        try await waitForSpecReview(says: "the planning session revised the specs")
    }

    /// Waits until the specs are (again) in review: the next spec_review after the ones seen so far.
    private mutating func waitForSpecReview(says: String) async throws {
        let seen = specReviews
        while ContinuousClock.now < deadline {
            for message in try await follower.next() {
                absorb(message.event, message.status, raw: message.raw.value)
            }
            if specReviews > seen {
                print("  ✓ \(says)")
                return
            }
            if status == .specFailed || status == .cancelled {
                throw CLIError("planning ended as \(status!.rawValue); see `spectask show \(taskID)`")
            }
        }
        throw CLIError(
            "no specs from the planning session in time: is the Zed runner running? (scripts/services status)"
        )
    }

    /// Sends a command and waits for its outcome; a rejection ends the demo.
    mutating func send(_ command: SpecTaskCommand, says: String) async throws {
        sent += 1
        // Short ids: the ids of the sessions a command creates are derived from it (ws-<command id>-<n>).
        let id = "\(taskID).\(sent)"
        let bytes = CommandEncoder.encode(
            id: id,
            specTaskID: taskID,
            actor: "spectask-demo",
            source: "spectask-demo",
            command: command,
            time: Date()
        )
        _ = try await producer.send(KafkaProducerRecord(topic: topics.commands, key: Array(taskID.utf8), value: bytes))
        while ContinuousClock.now < deadline {
            // The whole batch is taken in, also what follows the outcome (the status changes it caused).
            var outcome: StatusEvent?
            for message in try await follower.next() {
                absorb(message.event, message.status, raw: message.raw.value)
                if message.event.correlationid == id, outcome == nil { outcome = message.status }
            }
            switch outcome {
            case .commandApplied?:
                print("  ✓ \(says)")
                return
            case .commandRejected(let outcome)?:
                throw CLIError("\(command.type) was rejected (\(outcome.code ?? "?")): \(outcome.reason ?? "")")
            default:
                continue
            }
        }
        throw CLIError("no answer to \(command.type) in time: are the workers running? (scripts/services status)")
    }

    /// Shows the progress of every work session until the implementation is finished (100%).
    mutating func followUntilImplemented() async throws {
        while ContinuousClock.now < deadline {
            var changed = false
            for message in try await follower.next() {
                changed = absorb(message.event, message.status, raw: message.raw.value) || changed
            }
            if changed { draw() }
            switch status {
            case .implementationReview?, .done?:
                draw()
                print("  ✓ all work sessions completed: 100%")
                print(
                    "  ✓ path claims: \(claimsWaited.count) waited for files another session held, "
                        + "\(claimsGrantedAfterWaiting.count) of them granted once it released them"
                )
                return
            case .implementationFailed?, .cancelled?:
                throw CLIError("the implementation ended as \(status!.rawValue); see `spectask show \(taskID)`")
            default:
                continue
            }
        }
        throw CLIError(
            "the task did not reach 100% in time; is the Zed runner running? (scripts/services status, .local/logs/)"
        )
    }

    /// Takes in a status or progress message of this task. Returns whether the picture changed.
    @discardableResult
    private mutating func absorb(_ event: CloudEvent, _ statusEvent: StatusEvent?, raw: [UInt8]) -> Bool {
        guard event.subject == taskID else { return false }
        if event.type == EventEncoder.progressType, let (_, snapshot) = try? EventDecoder.decodeProgress(raw) {
            latest = snapshot
            if let newStatus = snapshot.specTaskStatus { status = newStatus }
            return true
        }
        if case .specTaskChanged(let change)? = statusEvent {
            if change.to == .specReview, change.from != .specReview { specReviews += 1 }
            status = change.to
            return true
        }
        if case .pathClaimChanged(let change)? = statusEvent {
            if change.to == .waiting { claimsWaited.insert(change.pathClaim.id) }
            if change.from == .waiting, change.to == .granted { claimsGrantedAfterWaiting.insert(change.pathClaim.id) }
        }
        return false
    }

    /// "task 2", "helper" (a spawned session without a task) or "planning".
    private static func label(_ session: WorkSessionProgress) -> String {
        if session.phase == .planning { return "planning" }
        return session.implementationTaskIndex.map { "task \($0)" } ?? "helper"
    }

    /// The progress bars: redrawn in place in a terminal, printed when they change otherwise.
    private mutating func draw() {
        guard let latest else { return }
        var lines = [
            "  overall \(OverviewText.bar(latest.overallPercent, width: 30)) \(latest.overallPercent)%   "
                + "tokens \(latest.usage.tokens)  cost \(Budget.dollars(latest.usage.costMicros))"
        ]
        for session in latest.workSessions {
            let task = Self.label(session)
            lines.append(
                "    \(OverviewText.pad(session.workSessionID, 34)) \(OverviewText.pad(task, 7)) "
                    + "\(OverviewText.pad(session.status.rawValue, 10)) \(OverviewText.bar(session.percent, width: 20)) "
                    + "\(session.percent)%"
            )
        }
        // Piped (a log, CI): one line per change instead of the redrawn block.
        let text =
            interactive
            ? lines.joined(separator: "\n")
            : "  \(OverviewText.bar(latest.overallPercent, width: 20)) \(latest.overallPercent)%  "
                + latest.workSessions.map { session in
                    "\(Self.label(session)) \(session.percent)%"
                }
                .joined(separator: ", ")
        guard text != lastPrinted else { return }
        lastPrinted = text
        if interactive, drawnLines > 0 { print("\u{1B}[\(drawnLines)A\u{1B}[J", terminator: "") }
        print(text)
        drawnLines = interactive ? lines.count : 0
    }
}
