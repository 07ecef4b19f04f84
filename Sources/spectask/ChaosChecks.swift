import Foundation
import Kafka
import Logging
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker

/// What the campaign checks at the end, from the outside: the status topic as a consumer sees it, the database, and
/// the input topics' ends.
struct ChaosChecks {
    struct Check: Sendable {
        var name: String
        var problems: [String]
        /// How many problems there are in all (`problems` keeps the first few).
        var count: Int
        var passed: Bool { count == 0 }

        init(_ name: String, _ problems: [String]) {
            self.name = name
            self.problems = Array(problems.prefix(8))
            self.count = problems.count
        }
    }

    /// Lost and doubled commands, per fault kind (`nil`: sent before any fault).
    var lost: [ChaosFaultKind?: Int] = [:]
    var doubled: [ChaosFaultKind?: Int] = [:]
    var checks: [Check] = []
    var applied = 0
    var rejected = 0
    var zedDone = 0
    var zedFailedAfterRunnerRestart = 0

    var passed: Bool { checks.allSatisfy(\.passed) }
    var lostTotal: Int { lost.values.reduce(0, +) }
    var doubledTotal: Int { doubled.values.reduce(0, +) }

    /// Everything gathered after the drain.
    struct Evidence: Sendable {
        var ledger: ChaosLedger.State
        var faults: [ChaosFault]
        var stored: [String: StoredSpecTask]
        var outbox: Int
        var deadLetters: Int
        var lagProblems: [String]
        var processProblems: [String]
        var endedAt: ContinuousClock.Instant
    }

    static let modelTime = Date(timeIntervalSince1970: 1_750_000_000)

    // MARK: - Judging

    init(_ evidence: Evidence) {
        let ledger = evidence.ledger
        let faults = evidence.faults.sorted { $0.injectedAt < $1.injectedAt }
        /// The fault a command belongs to: the last one injected before it was sent (or at most 5 s after: a
        /// command sent just before a kill is that kill's).
        func fault(of command: ChaosLedger.Command) -> ChaosFaultKind? {
            faults.last { $0.injectedAt - .seconds(5) <= command.sentAt }?.kind
        }

        // 1. Every command has exactly one outcome.
        var outcomeProblems: [String] = []
        for command in ledger.commands {
            switch command.outcomes.count {
            case 0:
                lost[fault(of: command), default: 0] += 1
                outcomeProblems.append("command \(command.id) has no outcome")
            case 1:
                if command.outcomes.values.first! { applied += 1 } else { rejected += 1 }
            default:
                doubled[fault(of: command), default: 0] += 1
                outcomeProblems.append(
                    "command \(command.id) has \(command.outcomes.count) outcomes: \(command.outcomes.keys.sorted())"
                )
            }
        }
        if ledger.foreignOutcomes > 0 {
            outcomeProblems.append("\(ledger.foreignOutcomes) outcomes of commands this campaign never sent")
        }
        checks.append(Check("every command has exactly one outcome", outcomeProblems))

        // 2. Per task, the status sequence is 1…n without gaps, repeats or reordering (republished copies, same
        // event id, dropped first, as an at-least-once consumer does).
        var sequenceProblems: [String] = []
        let tasks = Set(ledger.trails.keys).union(evidence.stored.keys).union(ledger.commands.map(\.task))
        for task in tasks.sorted() {
            let events = ledger.trails[task]?.events ?? []
            let expected = Int64(evidence.stored[task].map { $0.nextSequence - 1 } ?? 0)
            let ids = Dictionary(grouping: events, by: \.sequence)
            if let repeated = ids.first(where: { $0.value.count > 1 }) {
                sequenceProblems.append(
                    "task \(task): sequence \(repeated.key) published under \(repeated.value.count) ids "
                        + "(an effect applied twice)"
                )
            }
            let seen = Set(events.map(\.sequence))
            let missing = expected > 0 ? (1...expected).filter { !seen.contains($0) } : []
            if !missing.isEmpty {
                sequenceProblems.append(
                    "task \(task): \(missing.count) of \(expected) status events never arrived (first: sequence "
                        + "\(missing[0]))"
                )
            }
            if let beyond = seen.first(where: { $0 > expected }) {
                sequenceProblems.append("task \(task): sequence \(beyond) seen, but the database says \(expected)")
            }
            let order = events.map(\.sequence)
            if zip(order, order.dropFirst()).contains(where: { $0 >= $1 }) {
                sequenceProblems.append("task \(task): status events out of order: \(order.prefix(20))")
            }
        }
        checks.append(Check("per-task status sequences are gap-free and in order", sequenceProblems))

        // 3. Model tasks: the final state equals the sequential model (the same commands, per task in send order,
        // through SpecTaskManager.decide), and each outcome the model's.
        checks.append(Check("model tasks: final state equals the sequential model", Self.compareWithModel(evidence)))

        // 4. What was published last about each task is what the database holds.
        var publishedProblems: [String] = []
        for (task, stored) in evidence.stored {
            let published = ledger.trails[task]?.status?.value
            if published != stored.state.task.status.rawValue {
                publishedProblems.append(
                    "task \(task): stored \(stored.state.task.status.rawValue), last published \(published ?? "nothing")"
                )
            }
        }
        checks.append(Check("the last published status of every task is the stored one", publishedProblems))

        // 5. Zed tasks ended: done, or failed by a heartbeat timeout because their runner was killed meanwhile.
        var zedProblems: [String] = []
        let runnerRestarts = faults.filter { $0.kind == .runnerRestart }.map(\.injectedAt)
        for (task, startedAt) in ledger.zedStarted.sorted(by: { $0.key < $1.key }) {
            let status = evidence.stored[task]?.state.task.status
            switch status {
            case .done?:
                zedDone += 1
            case .implementationFailed?:
                let endedAt = ledger.trails[task]?.statusSeenAt ?? evidence.endedAt
                if runnerRestarts.contains(where: { $0 >= startedAt - .seconds(1) && $0 <= endedAt }) {
                    zedFailedAfterRunnerRestart += 1
                } else {
                    zedProblems.append(
                        "Zed task \(task) ended implementation_failed (its instance timed out) although its runner was "
                            + "not restarted while it ran"
                    )
                }
            default:
                zedProblems.append("Zed task \(task) did not finish: \(status?.rawValue ?? "not in the database")")
            }
        }
        checks.append(Check("every Zed task finished", zedProblems))

        // 6. Nothing left behind.
        var drainProblems: [String] = []
        if evidence.outbox != 0 { drainProblems.append("\(evidence.outbox) rows still in the outbox") }
        if evidence.deadLetters != 0 { drainProblems.append("\(evidence.deadLetters) dead letters") }
        checks.append(Check("outbox empty, no dead letters", drainProblems))
        checks.append(
            Check("consumer lag 0 (stored offsets at the end of every input partition)", evidence.lagProblems)
        )

        // 7. Every fault recovered, and no process died that was not killed.
        var faultProblems = faults.filter { $0.recoveredAt == nil }.map {
            "\($0.label) #\($0.number) (\($0.target)) did not recover"
        }
        faultProblems += evidence.processProblems
        checks.append(Check("every fault recovered; no process died on its own", faultProblems))
    }

    /// Replays each model task's commands through the decision function and compares outcomes and final state.
    static func compareWithModel(_ evidence: ChaosChecks.Evidence) -> [String] {
        let context = DecisionContext(
            runnerToken: RunnerTokens(
                secret: ProcessInfo.processInfo.environment["SPECTASK_RUNNER_SECRET"]
                    ?? WorkerSettings.developmentRunnerSecret
            ).token(for:)
        )
        let byTask = Dictionary(grouping: evidence.ledger.commands.filter { $0.population == .model }, by: \.task)
        var problems: [String] = []
        for (task, commands) in byTask.sorted(by: { $0.key < $1.key }) {
            var state: SpecTaskState?
            var nextSequence: Int64 = 1
            for command in commands.sorted(by: { $0.step < $1.step }) {
                let bytes = ChaosSchedule.record(
                    task: task,
                    id: command.id,
                    command: ChaosSchedule.modelCommand(task: task, step: command.step),
                    topic: "-"
                ).value
                let expectApplied: Bool
                switch CommandDecoder.decode(bytes, appliedAt: modelTime) {
                case .failure(let rejection):
                    problems.append("command \(command.id) does not even decode: \(rejection.message)")
                    expectApplied = false
                case .success(let incoming):
                    switch SpecTaskManager.decide(state, incoming, context: context) {
                    case .applied(let newState, let emissions):
                        state = newState
                        nextSequence += Int64(emissions.count { if case .status = $0 { true } else { false } })
                        expectApplied = true
                    case .rejected:
                        if state != nil { nextSequence += 1 }
                        expectApplied = false
                    }
                }
                if command.outcomes.count == 1, let applied = command.outcomes.values.first, applied != expectApplied {
                    problems.append(
                        "command \(command.id): \(applied ? "applied" : "rejected"), the model says "
                            + (expectApplied ? "applied" : "rejected")
                    )
                }
            }
            let stored = evidence.stored[task]
            switch (state, stored) {
            case (nil, nil): break
            case (nil, _?): problems.append("task \(task) exists, the model has none")
            case (_?, nil): problems.append("task \(task) is not in the database")
            case (let model?, let stored?):
                let differences = differences(stored.state, model)
                if !differences.isEmpty {
                    problems.append("task \(task) differs from the model: \(differences.joined(separator: "; "))")
                }
                if stored.nextSequence != nextSequence {
                    problems.append(
                        "task \(task): next sequence \(stored.nextSequence), the model says \(nextSequence)"
                    )
                }
            }
        }
        return problems
    }

    /// The differences between two states, timestamps aside (the worker applies under its own clock).
    static func differences(_ stored: SpecTaskState, _ model: SpecTaskState) -> [String] {
        let zero = Date(timeIntervalSince1970: 0)
        func normalized(_ state: SpecTaskState) -> SpecTaskState {
            var state = state
            state.task.createdAt = zero
            state.task.updatedAt = zero
            state.task.approvedAt = state.task.approvedAt.map { _ in zero }
            state.workSessions = state.workSessions.map { session in
                var session = session
                session.createdAt = zero
                session.updatedAt = zero
                session.startedAt = session.startedAt.map { _ in zero }
                session.completedAt = session.completedAt.map { _ in zero }
                return session
            }
            state.zedThreads = state.zedThreads.map { thread in
                var thread = thread
                thread.lastActivityAt = thread.lastActivityAt.map { _ in zero }
                return thread
            }
            if state.zedInstance?.lastHeartbeatAt != nil { state.zedInstance?.lastHeartbeatAt = zero }
            if state.zedInstance?.createdAt != nil { state.zedInstance?.createdAt = zero }
            state.sharedContext = state.sharedContext.map { entry in
                var entry = entry
                entry.updatedAt = zero
                return entry
            }
            state.pathClaims = state.pathClaims.map { claim in
                var claim = claim
                claim.claimedAt = zero
                claim.grantedAt = claim.grantedAt.map { _ in zero }
                return claim
            }
            return state
        }
        let (a, b) = (normalized(stored), normalized(model))
        guard a != b else { return [] }
        var result: [String] = []
        if a.task != b.task {
            result.append(
                "spec task: stored \(a.task.status.rawValue), revision \(a.task.revisionCount); "
                    + "model \(b.task.status.rawValue), revision \(b.task.revisionCount)"
            )
        }
        if a.workSessions != b.workSessions { result.append("work sessions") }
        if a.implementationTasks != b.implementationTasks { result.append("implementation tasks") }
        if a.zedThreads != b.zedThreads { result.append("Zed threads") }
        if a.zedInstance != b.zedInstance { result.append("Zed instance") }
        if a.sharedContext != b.sharedContext { result.append("shared context") }
        if a.threadProgress != b.threadProgress { result.append("thread progress") }
        return result.isEmpty ? ["(some field)"] : result
    }

    // MARK: - Gathering

    /// Loads every task the campaign touched, in chunks, from one database.
    static func loadTasks(
        _ ids: [String],
        client: PostgresClient,
        logger: Logger
    ) async throws -> [String: StoredSpecTask] {
        var result: [String: StoredSpecTask] = [:]
        let repository = SpecTaskRepository(logger: logger)
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(ids.count, start + 1000)])
            result.merge(try await repository.loadSnapshot(chunk, client: client)) { $1 }
            start += chunk.count
        }
        return result
    }

    /// Waits up to `timeout` for the outbox to empty (the relays publish what the last batches wrote), or until it
    /// did not shrink for 15 s; returns what is left.
    static func drainOutbox(client: PostgresClient, timeout: Duration, logger: Logger) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var smallest = (count: Int.max, at: ContinuousClock.now)
        let admin = OutboxAdmin(logger: logger)
        while true {
            let left = try await admin.status(client: client).rows
            if left < smallest.count { smallest = (left, .now) }
            if left == 0 || ContinuousClock.now >= deadline || ContinuousClock.now - smallest.at > .seconds(15) {
                return left
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// A topic's partition ends, read from the topic itself: the last offset read + 1, once nothing new came for
    /// 3 s (at most a minute).
    static func readEnds(
        kafka: KafkaConfiguration,
        topic: String,
        partitions: Int32,
        logger: Logger
    ) async throws -> [KafkaTopicPartition: Int64] {
        let all = (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
        let consumer = try KafkaConsumer.assigned(
            configuration: KafkaConsumerConfiguration(
                common: kafka,
                groupID: "spectask-chaos-ends-\(UUID().uuidString)",
                topics: [topic],
                offsetReset: .earliest
            ),
            logger: logger
        )
        defer { Task { await consumer.close() } }
        try consumer.assign(all.map { KafkaTopicPartitionOffset($0, offset: KafkaTopicPartitionOffset.beginning) })
        var ends: [KafkaTopicPartition: Int64] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        var quietSince = ContinuousClock.now
        while ContinuousClock.now < deadline, ContinuousClock.now - quietSince < .seconds(3) {
            for case .messages(let batch) in try await consumer.poll(maxMessages: 5000, timeout: .milliseconds(200)) {
                for message in batch {
                    quietSince = .now
                    ends[message.topicPartition] = max(ends[message.topicPartition] ?? 0, message.offset + 1)
                }
            }
        }
        return ends
    }

    /// Compares the offsets the workers stored in PostgreSQL with the partitions' ends.
    static func lagProblems(
        ends: [KafkaTopicPartition: Int64],
        group: String,
        client: PostgresClient,
        logger: Logger
    ) async throws -> [String] {
        var stored: [KafkaTopicPartition: Int64] = [:]
        let positions = try await ConsumerOffsetAdmin(logger: logger).positions(.init(group: group), client: client)
        for position in positions {
            stored[KafkaTopicPartition(topic: position.topic, partition: position.partition)] = position.nextOffset
        }
        return ends.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }.compactMap {
            partition,
            end in
            let next = stored[partition] ?? 0
            return next == end ? nil : "\(partition.topic)[\(partition.partition)]: end \(end), applied up to \(next)"
        }
    }
}
