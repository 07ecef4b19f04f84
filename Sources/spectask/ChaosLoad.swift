import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker
import Synchronization

/// The two kinds of spec task a campaign drives.
///
/// Model tasks carry the load and are driven by commands alone, so their final state must equal the sequential model
/// exactly. Zed tasks go through implementation with the reference Zed runner; their state also depends on when the
/// runner's events land between the commands, so they are checked for exactly-once outcomes, gap-free sequences and
/// a proper end (done, or failed by a heartbeat timeout after their runner was killed), not against the model.
enum ChaosPopulation: Sendable {
    case model, zed
}

/// Everything sent and seen during a campaign, shared by the sender, the status follower, the Zed driver and the
/// fault injector.
final class ChaosLedger: Sendable {
    struct Command: Sendable {
        var id: String
        var task: String
        var population: ChaosPopulation
        var step: Int
        var sentAt: ContinuousClock.Instant
        /// The commands topic partition it went to, once its delivery was reported.
        var partition: Int32?
        /// Distinct outcome events (by event id): whether each was `command_applied`.
        var outcomes: [String: Bool] = [:]
    }

    struct Trail: Sendable {
        /// Distinct sequenced status events, in arrival order.
        var events: [(sequence: Int64, id: String)] = []
        /// The newest spec task status published (by sequence).
        var status: (sequence: Int64, value: String)?
        var statusSeenAt: ContinuousClock.Instant?
        /// When a change of the task's Zed instance to ready was first seen.
        var instanceReadyAt: ContinuousClock.Instant?
    }

    struct State: Sendable {
        var commands: [Command] = []
        var indexByID: [String: Int] = [:]
        /// Every command before this one has an outcome.
        var firstUnanswered = 0
        var eventIDs: Set<String> = []
        /// Status events seen again under an id already seen: republished by the at-least-once relay.
        var redelivered = 0
        var statusEvents = 0
        var foreignOutcomes = 0
        var trails: [String: Trail] = [:]
        /// Per Zed task: when its start_implementation was sent.
        var zedStarted: [String: ContinuousClock.Instant] = [:]
        var zedApproved: Set<String> = []
        /// Per commands topic partition: the last offset a delivery report named + 1.
        var commandEnds: [Int32: Int64] = [:]
    }

    let state = Mutex(State())

    func read<T: Sendable>(_ body: (State) -> T) -> T { state.withLock { body($0) } }

    /// Records commands about to be sent (before sending, so an outcome can never come first).
    func willSend(_ items: [(id: String, task: String, step: Int)], population: ChaosPopulation) {
        let now = ContinuousClock.now
        state.withLock { state in
            for item in items {
                state.indexByID[item.id] = state.commands.count
                state.commands.append(
                    Command(id: item.id, task: item.task, population: population, step: item.step, sentAt: now)
                )
            }
        }
    }

    /// Records where commands went (from their delivery reports).
    func delivered(_ reports: [KafkaDeliveryReport], ids: [String]) {
        state.withLock { state in
            for (report, id) in zip(reports, ids) {
                if let index = state.indexByID[id] { state.commands[index].partition = report.partition }
                state.commandEnds[report.partition] = max(state.commandEnds[report.partition] ?? 0, report.offset + 1)
            }
        }
    }

    /// Whether commands sent after `instant` have outcomes on every one of `partitions` partitions: the flow
    /// resumed everywhere, not only on the partitions a fault did not touch.
    func flowsEverywhere(since instant: ContinuousClock.Instant, partitions: Int32) -> Bool {
        state.withLock { state in
            var flowing: Set<Int32> = []
            var index = state.commands.count - 1
            while index >= 0, state.commands[index].sentAt > instant {
                let command = state.commands[index]
                if let partition = command.partition, !command.outcomes.isEmpty { flowing.insert(partition) }
                index -= 1
            }
            return flowing.count >= Int(partitions)
        }
    }

    /// Records one message of the status topic.
    func observe(_ event: CloudEvent, at now: ContinuousClock.Instant) {
        state.withLock { state in
            state.statusEvents += 1
            guard state.eventIDs.insert(event.id).inserted else {
                state.redelivered += 1
                return
            }
            let subject = event.subject ?? ""
            let sequence = event.spectasksequence ?? 0
            if sequence > 0 { state.trails[subject, default: Trail()].events.append((sequence, event.id)) }
            let name =
                event.type.hasPrefix(StatusEvent.typePrefix)
                ? String(event.type.dropFirst(StatusEvent.typePrefix.count)) : event.type
            switch name {
            case "command_applied", "command_rejected":
                guard let id = event.correlationid, let index = state.indexByID[id] else {
                    state.foreignOutcomes += 1
                    return
                }
                state.commands[index].outcomes[event.id] = name == "command_applied"
                while state.firstUnanswered < state.commands.count,
                    !state.commands[state.firstUnanswered].outcomes.isEmpty
                {
                    state.firstUnanswered += 1
                }
            case "spec_task_changed":
                guard case .object(let data)? = event.data, case .string(let to)? = data["to"] else { return }
                if sequence >= (state.trails[subject]?.status?.sequence ?? 0) {
                    state.trails[subject, default: Trail()].status = (sequence, to)
                    state.trails[subject, default: Trail()].statusSeenAt = now
                }
            case "zed_instance_changed":
                guard case .object(let data)? = event.data, data["to"] == .string("ready") else { return }
                if state.trails[subject]?.instanceReadyAt == nil {
                    state.trails[subject, default: Trail()].instanceReadyAt = now
                }
            default:
                break
            }
        }
    }

    /// How long the oldest command without an outcome has waited; zero when every command has one.
    func oldestUnansweredAge(at now: ContinuousClock.Instant = .now) -> Duration {
        state.withLock { state in
            state.firstUnanswered < state.commands.count ? now - state.commands[state.firstUnanswered].sentAt : .zero
        }
    }

    var counts: (sent: Int, answered: Int) {
        state.withLock { state in (state.commands.count, state.commands.count { !$0.outcomes.isEmpty }) }
    }
}

/// What the model tasks are sent: 8 commands per task, each a state transition, so a command applied twice, lost or
/// applied out of order changes the final state or an outcome.
///
/// Like `bench --rate`, tasks go in windows (of 100) and round-robin inside a window, so a task's consecutive
/// commands are a window of sends apart and many tasks are in flight at once. The schedule has no end: the campaign
/// sends until the load time is over and all faults have recovered.
struct ChaosSchedule {
    let run: String
    let window: Int

    static let steps = 8

    func item(_ index: Int) -> (id: String, task: String, step: Int) {
        let perWindow = window * Self.steps
        let offset = index % perWindow
        let task = Self.modelTask(run: run, number: index / perWindow * window + offset % window + 1)
        let step = offset / window
        return (Self.commandID(task: task, step: step), task, step)
    }

    static func modelTask(run: String, number: Int) -> String { "chaos-\(run)-m\(number)" }
    static func zedTask(run: String, number: Int) -> String { "chaos-\(run)-z\(number)" }
    static func commandID(task: String, step: Int) -> String { "\(task)-c\(step)" }

    /// The `step`th command of a model task.
    static func modelCommand(task: String, step: Int) -> SpecTaskCommand {
        switch step {
        case 0: .create(CreateSpecTask(name: "Chaos task \(task)"))
        case 1: .startPlanning(StartPlanning())
        case 2: .submitSpecs(SubmitSpecs(requirements: "R1", design: "D1", implementationPlan: "Change one thing."))
        case 3: .requestChanges(RequestChanges(reviewer: "chaos", comments: "round 1"))
        case 4: .submitSpecs(SubmitSpecs(requirements: "R2", design: "D2", implementationPlan: "Change one thing."))
        case 5: .requestChanges(RequestChanges(reviewer: "chaos", comments: "round 2"))
        case 6: .submitSpecs(SubmitSpecs(requirements: "R3", design: "D3", implementationPlan: "Change one thing."))
        default: .approveSpecs(ApproveSpecs(approver: "chaos"))
        }
    }

    /// The `step`th command of a Zed task: planning, approval, implementation (the runner does the work), and
    /// approve_implementation once the task reached implementation_review (step 5).
    static func zedCommand(task: String, step: Int) -> SpecTaskCommand {
        switch step {
        case 0: .create(CreateSpecTask(name: "Chaos Zed task \(task)"))
        case 1: .startPlanning(StartPlanning())
        case 2: .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: "Change one thing."))
        case 3: .approveSpecs(ApproveSpecs(approver: "chaos"))
        case 4: .startImplementation(StartImplementation(workSessionIDs: ["\(task)-ws"]))
        default: .approveImplementation(ApproveImplementation(approver: "chaos"))
        }
    }

    static let actor = "spectask-chaos"

    static func record(task: String, id: String, command: SpecTaskCommand, topic: String) -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic,
            key: Array(task.utf8),
            value: CommandEncoder.encode(
                id: id,
                specTaskID: task,
                actor: actor,
                source: "spectask-chaos",
                command: command
            )
        )
    }
}

/// Sends the load and follows the outcomes.
final class ChaosLoad: Sendable {
    let run: String
    let rate: Int
    let zedRate: Double
    let topics: WorkerTopics
    let producer: KafkaProducer
    let ledger: ChaosLedger
    let logger: Logger

    /// Set when the load should stop; the sender and the Zed driver look at it every few milliseconds.
    let stopping = Mutex(false)

    init(
        run: String,
        rate: Int,
        zedRate: Double,
        topics: WorkerTopics,
        producer: KafkaProducer,
        ledger: ChaosLedger,
        logger: Logger
    ) {
        self.run = run
        self.rate = rate
        self.zedRate = zedRate
        self.topics = topics
        self.producer = producer
        self.ledger = ledger
        self.logger = logger
    }

    static let window = 100

    /// Sends model commands at `rate` per second until stopped: command `i` is due `i / rate` seconds after the start
    /// (a slow send is caught up in the next round, not lost). Returns how many it sent and over what time.
    func sendModelLoad() async throws -> (sent: Int, elapsed: Duration) {
        let schedule = ChaosSchedule(run: run, window: Self.window)
        let clock = ContinuousClock()
        let started = clock.now
        var next = 0
        while !stopping.withLock({ $0 }) {
            let due = Int((clock.now - started).seconds * Double(rate)) + 1
            if due > next {
                let items = (next..<due).map(schedule.item)
                ledger.willSend(items, population: .model)
                let reports = try await producer.send(
                    items.map {
                        ChaosSchedule.record(
                            task: $0.task,
                            id: $0.id,
                            command: ChaosSchedule.modelCommand(task: $0.task, step: $0.step),
                            topic: topics.commands
                        )
                    }
                )
                ledger.delivered(reports, ids: items.map(\.id))
                next = due
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return (next, clock.now - started)
    }

    /// Starts a Zed task every `1 / zedRate` seconds until stopped, and approves the implementation of each one
    /// that reaches implementation_review, until `finished()` says to end (after the load, when every Zed task
    /// ended or time ran out).
    func driveZedTasks(finished: @Sendable () -> Bool) async throws {
        guard zedRate > 0 else { return }
        let clock = ContinuousClock()
        let started = clock.now
        var startedTasks = 0
        while !finished() {
            if !stopping.withLock({ $0 }) {
                let due = Int((clock.now - started).seconds * zedRate) + 1
                while startedTasks < due {
                    startedTasks += 1
                    try await startZedTask(ChaosSchedule.zedTask(run: run, number: startedTasks))
                }
            }
            let ready = ledger.read { state in
                state.zedStarted.keys.filter {
                    state.trails[$0]?.status?.value == SpecTaskStatus.implementationReview.rawValue
                        && !state.zedApproved.contains($0)
                }
            }
            for task in ready.sorted() {
                ledger.state.withLock { _ = $0.zedApproved.insert(task) }
                try await sendZed(task: task, steps: [5])
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func startZedTask(_ task: String) async throws {
        ledger.state.withLock { $0.zedStarted[task] = .now }
        try await sendZed(task: task, steps: Array(0...4))
    }

    private func sendZed(task: String, steps: [Int]) async throws {
        let items = steps.map { (id: ChaosSchedule.commandID(task: task, step: $0), task: task, step: $0) }
        ledger.willSend(items, population: .zed)
        let reports = try await producer.send(
            items.map {
                ChaosSchedule.record(
                    task: task,
                    id: $0.id,
                    command: ChaosSchedule.zedCommand(task: task, step: $0.step),
                    topic: topics.commands
                )
            }
        )
        ledger.delivered(reports, ids: items.map(\.id))
    }

    /// Reads the status topic into the ledger until cancelled.
    static func follow(_ follower: StatusFollower, into ledger: ChaosLedger, logger: Logger) async {
        let decoder = JSONDecoder()
        while !Task.isCancelled {
            let events: [KafkaConsumerEvent]
            do {
                events = try await follower.consumer.poll(maxMessages: 2000, timeout: .milliseconds(50))
            } catch {
                logger.warning("reading the status topic: \(error)")
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let now = ContinuousClock.now
            for case .messages(let batch) in events {
                for raw in batch {
                    guard let event = try? decoder.decode(CloudEvent.self, from: Data(raw.value)) else {
                        logger.warning(
                            "a status message that is not a CloudEvent at \(raw.topic)[\(raw.partition)]@\(raw.offset)"
                        )
                        continue
                    }
                    ledger.observe(event, at: now)
                }
            }
        }
    }
}
