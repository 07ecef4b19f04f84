import Foundation
import Kafka
import Logging
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import Tracing

/// Applies one poll batch in one PostgreSQL transaction: fencing check and offsets, inbox, task row locks,
/// the decision function for every command, the changed state, and the outbox rows that announce it.
///
/// Nothing of a batch is visible unless all of it commits; the Kafka offset is committed by the caller afterwards.
public struct BatchApplier: Sendable {
    /// What a batch came to.
    public struct Report: Sendable, Hashable {
        public var applied = 0
        public var rejected = 0
        /// Already applied before (redelivery after a restart or rebalance, or the same event id sent twice).
        public var duplicates = 0
        /// Per partition, the offset to commit to Kafka: the next one to read.
        public var nextOffsets: [KafkaTopicPartition: Int64] = [:]
        /// Spec tasks whose state changed.
        public var changedTasks: Set<String> = []
        /// Heartbeats not applied because a later heartbeat of the same instance was in the same batch.
        public var coalescedHeartbeats = 0
        /// Zed events rejected for a missing or wrong runner token.
        public var unauthenticated = 0
        /// The outbox shards the batch wrote to: the relay publishes them as soon as the batch committed.
        public var outboxShards: Set<Int32> = []
        /// Applied, rejected and duplicate inputs per input topic.
        public var inputsByTopic: [String: InputCounts] = [:]
        /// Rejected inputs per rejection code.
        public var rejectionsByCode: [String: Int] = [:]
        /// Where the batch's time went.
        public var stageDurations: [WorkerMetrics.Stage: Duration] = [:]

        mutating func count(_ topic: String, _ outcome: WritableKeyPath<InputCounts, Int>, _ amount: Int = 1) {
            inputsByTopic[topic, default: InputCounts()][keyPath: outcome] += amount
            self[keyPath: Self.total(of: outcome)] += amount
        }

        private static func total(of outcome: WritableKeyPath<InputCounts, Int>) -> WritableKeyPath<Report, Int> {
            switch outcome {
            case \InputCounts.applied: \.applied
            case \InputCounts.rejected: \.rejected
            default: \.duplicates
            }
        }

        mutating func reject(_ topic: String, code: String) {
            count(topic, \.rejected)
            rejectionsByCode[code, default: 0] += 1
        }
    }

    /// Inputs of one topic in a batch, by outcome.
    public struct InputCounts: Sendable, Hashable {
        public var applied = 0
        public var rejected = 0
        public var duplicates = 0
    }

    /// Measures the stages of a batch: each `lap` charges the time since the previous one to a stage.
    struct StageClock {
        private var last = ContinuousClock.now

        mutating func lap(_ stage: WorkerMetrics.Stage, into report: inout Report) {
            let now = ContinuousClock.now
            report.stageDurations[stage, default: .zero] += now - last
            last = now
        }
    }

    let client: PostgresClient
    let topics: WorkerTopics
    let offsets: ConsumerOffsetStore
    let repository: SpecTaskRepository
    let intake: BatchIntake
    let runnerTokens: RunnerTokens
    let decisionContext: DecisionContext
    let clock: @Sendable () -> Date
    /// `nil` without a tracer: then no span is started (see ``OutputTracing``).
    let tracer: (any Tracer)?
    let logger: Logger

    /// - Parameter tracer: Reports the batch's spans; the bootstrapped one by default, `nil` for none.
    public init(
        client: PostgresClient,
        topics: WorkerTopics,
        group: String,
        runnerTokens: RunnerTokens,
        planning: PlanningDefaults = PlanningDefaults(),
        clock: @escaping @Sendable () -> Date = Date.init,
        tracer: (any Tracer)? = WorkerTracing.bootstrappedTracer,
        logger: Logger
    ) {
        self.client = client
        self.topics = topics
        self.offsets = ConsumerOffsetStore(group: group, logger: logger)
        self.repository = SpecTaskRepository(logger: logger)
        self.intake = BatchIntake(group: group, logger: logger)
        self.runnerTokens = runnerTokens
        self.decisionContext = DecisionContext(runnerToken: { runnerTokens.token(for: $0) }, planning: planning)
        self.clock = clock
        self.tracer = tracer
        self.logger = logger
    }

    /// Takes ownership of newly assigned partitions; returns each one's generation for `apply`.
    public func claim(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64] {
        try await claims(partitions, owner: owner).mapValues(\.generation)
    }

    /// Takes ownership of newly assigned partitions; returns each one's generation and the next offset to apply
    /// as stored in PostgreSQL.
    public func claims(
        _ partitions: [KafkaTopicPartition],
        owner: String
    ) async throws -> [KafkaTopicPartition: ConsumerOffsetStore.Claim] {
        var claims: [KafkaTopicPartition: ConsumerOffsetStore.Claim] = [:]
        for partition in partitions.sorted() {
            claims[partition] = try await offsets.claim(
                topic: partition.topic,
                partition: partition.partition,
                owner: owner,
                client: client
            )
        }
        return claims
    }

    /// Applies `messages` (from partitions this worker claimed with `generations`) in one transaction.
    /// - Throws: `ConsumerOffsetStore.Fenced` when another worker owns a partition now (nothing is applied);
    ///   database errors (nothing is applied; the caller retries).
    public func apply(
        _ messages: [KafkaConsumerMessage],
        generations: [KafkaTopicPartition: Int64]
    ) async throws -> Report {
        let started = ContinuousClock.now
        let now = clock()
        // Decoding is pure and the most expensive step per message: done before the transaction, so the database
        // connection and the locks are held only for the database's part of the work.
        let decoded = messages.map { message in Input(message: message, decoding: decode(message, now: now)) }
        let decoding = ContinuousClock.now - started
        let span = tracer.map { batchSpan(decoded, tracer: $0) }
        do {
            var (report, spans) =
                if let span, let tracer {
                    try await ServiceContext.withValue(.withTraceContext(of: span, tracer: tracer)) {
                        try await applyInTransaction(decoded, generations: generations, now: now, span: span)
                    }
                } else {
                    try await applyInTransaction(decoded, generations: generations, now: now, span: nil)
                }
            report.stageDurations[.decode] = decoding
            report.stageDurations[.transaction] = ContinuousClock.now - started
            for child in spans { child.end() }
            span.map { Self.end($0, report: report) }
            logTraced(decoded)
            return report
        } catch {
            span.map { Self.end($0, error: error) }
            throw error
        }
    }

    /// - Returns: The report, and the spans started for traced inputs and their outputs, to end now that it committed.
    private func applyInTransaction(
        _ decoded: [Input],
        generations: [KafkaTopicPartition: Int64],
        now: Date,
        span: (any Span)?
    ) async throws -> (Report, [any Span]) {
        let messages = decoded.map(\.message)
        return try await client.transaction(logger: logger) { connection in
            var report = Report()
            var stages = StageClock()

            // 1. Intake, one statement: lock each partition's offset row (fencing; messages below its next offset
            //    were applied already), claim the inputs' ids in the inbox (an id sent twice, even on two partitions
            //    at once, is applied once), and take the advisory lock of every spec task the batch names (it also
            //    covers a task that does not exist yet, so two creates of one id never interleave).
            let partitions = Set(messages.map(\.topicPartition)).sorted()
            var generationsOfBatch: [BatchIntake.KafkaPartition: Int64] = [:]
            for partition in partitions {
                let key = BatchIntake.KafkaPartition(topic: partition.topic, partition: partition.partition)
                guard let generation = generations[partition] else {
                    throw ConsumerOffsetStore.Fenced(
                        topic: partition.topic,
                        partition: partition.partition,
                        generation: 0
                    )
                }
                generationsOfBatch[key] = generation
            }
            let intake = try await self.intake.run(
                generations: generationsOfBatch,
                inputs: decoded.compactMap { input in
                    input.eventID.map {
                        InboxStore.Entry(
                            messageID: $0,
                            topic: input.message.topic,
                            partition: input.message.partition,
                            offset: input.message.offset
                        )
                    }
                },
                subjects: Set(decoded.compactMap(\.subject)),
                on: connection
            )
            // Each partition's position; the intake found every one (or threw `Fenced`).
            let positions = Dictionary(
                uniqueKeysWithValues: partitions.map { partition in
                    (partition, intake.positions[.init(topic: partition.topic, partition: partition.partition)]!)
                }
            )
            for message in messages where message.offset < positions[message.topicPartition]!.nextOffset {
                report.count(message.topic, \.duplicates)
            }
            var inputs = decoded.filter { $0.message.offset >= positions[$0.message.topicPartition]!.nextOffset }
            report.coalescedHeartbeats = Self.coalesceHeartbeats(&inputs)
            stages.lap(.intake, into: &report)

            // 2. Lock and load the spec tasks of the inputs not applied yet. A statement after the intake: its
            //    snapshot is taken once the advisory locks are held, so it sees what the transactions that held them
            //    before committed (a task created meanwhile, say).
            let subjects = Set(inputs.compactMap(\.subject)).sorted()
            let loaded = try await repository.lockAndLoad(subjects, on: connection)
            stages.lap(.load, into: &report)
            var step = ApplyStep(
                loaded: loaded,
                outputs: OutputBatch(
                    topics: topics,
                    time: now,
                    tracing: OutputTracing(tracer: tracer, batchContext: span?.context)
                )
            )
            // The zed.events partition each task's events came from, for the heartbeat sweepers.
            var zedEventPartitions: [String: Int32] = [:]

            // 3. Decide, message by message, in offset order. The ids new work sessions, threads and instances
            //    take are checked against other spec tasks in one query after the loop; in the rare batch where
            //    one of them exists already, the loop runs again, checking each command's ids before the next.
            let undecided = (report, step)
            for idCheck in [ClaimedIDs.Check.afterTheBatch, .beforeEachCommand] {
                (report, step) = undecided
                zedEventPartitions = [:]
                var claimedIDs = ClaimedIDs(repository: repository, check: idCheck)
                var handled: Set<String> = []
                for input in inputs where !input.coalesced {
                    let message = input.message
                    step.outputs.beginInput(
                        message,
                        epoch: positions[message.topicPartition]?.epoch ?? 0,
                        trace: input.trace,
                        type: input.type
                    )
                    if let id = input.eventID {
                        if !intake.claimed.contains(id) || handled.contains(id) {
                            report.count(message.topic, \.duplicates)
                            continue
                        }
                        handled.insert(id)
                    }
                    switch input.decoded {
                    case .failure(let rejection):
                        report.reject(message.topic, code: rejection.code.rawValue)
                        if rejection.code == .unauthenticated { report.unauthenticated += 1 }
                        step.outputs.reject(
                            message,
                            code: rejection.code.rawValue,
                            reason: rejection.message,
                            eventID: rejection.eventID,
                            specTaskID: rejection.subject,
                            epoch: positions[message.topicPartition]?.epoch ?? 0
                        )
                        // A malformed *command* (its id, subject and command type readable) still gets its outcome;
                        // anything else is not a command, and its record on spectask.rejected is the whole answer.
                        if message.topic == topics.commands,
                            let malformed = InputPolicy.outcomeOfMalformedCommand(
                                id: rejection.eventID,
                                specTaskID: rejection.subject,
                                type: rejection.type,
                                reason: rejection.message,
                                code: rejection.code.rawValue
                            )
                        {
                            step.commandRejected(malformed.outcome, task: malformed.specTaskID)
                        }
                    case .success(let command):
                        let subject = command.specTaskID
                        // A Zed event decides under its instance-scoped id: the ids it creates (spawned sessions,
                        // coordination entries) can not clash with another runner's or a command's.
                        var decision = SpecTaskManager.decide(
                            step.state(of: subject),
                            InputPolicy.scoped(command),
                            context: decisionContext
                        )
                        if case .applied(let state, _) = decision,
                            let conflict = try await claimedIDs.conflict(
                                previous: step.state(of: subject),
                                new: state,
                                on: connection
                            )
                        {
                            decision = .rejected(Rejection(.conflict, conflict))
                        }
                        switch decision {
                        case .applied(let state, let emissions):
                            report.count(message.topic, \.applied)
                            if command.command.isZedEvent { zedEventPartitions[subject] = message.partition }
                            step.applied(command, state: state, emissions: emissions)
                        case .rejected(let rejection):
                            report.reject(message.topic, code: rejection.code.rawValue)
                            // Commands get an outcome on spectask.status; a runner's event only its rejected record.
                            if InputPolicy.getsOutcome(command) {
                                step.commandRejected(
                                    CommandOutcome(
                                        commandID: command.id,
                                        commandType: command.command.type,
                                        reason: rejection.message,
                                        code: rejection.code.rawValue
                                    ),
                                    task: subject
                                )
                            }
                            step.outputs.reject(
                                message,
                                code: rejection.code.rawValue,
                                reason: rejection.message,
                                eventID: command.id,
                                specTaskID: subject,
                                epoch: positions[message.topicPartition]?.epoch ?? 0
                            )
                        }
                    }
                }
                if try await claimedIDs.noneExisted(on: connection) { break }
            }

            stages.lap(.decide, into: &report)

            // 4. Persist: changed states, a progress snapshot per changed task, coordination log, outbox and offsets
            //    in one statement; then, rarely, the Zed instances' events partitions.
            report.changedTasks = step.changedTasks
            var write = step.finish()
            for partition in partitions {
                let last = messages.filter { $0.topicPartition == partition }.map(\.offset).max()!
                write.offsets.append((partition.topic, partition.partition, last + 1))
                report.nextOffsets[partition] = last + 1
            }
            write.consumerGroup = offsets.group
            try await write.write(on: connection, logger: logger)
            report.outboxShards = step.outputs.shards
            // These update instance rows the write above may have inserted, so they come after it.
            try await repository.recordEventsPartitions(
                zedEventPartitions,
                topic: topics.zedEvents,
                on: connection
            )
            try await repository.recordEventsTopic(
                ofNewInstancesOf: step.current.keys.filter { id in
                    step.current[id]?.state.zedInstance.map { $0.id != loaded[id]?.state.zedInstance?.id } ?? false
                },
                topic: topics.zedEvents,
                on: connection
            )
            stages.lap(.persist, into: &report)
            return (report, step.outputs.tracing.spans)
        }
    }

    struct Input {
        var message: KafkaConsumerMessage
        var decoded: Result<IncomingCommand, InputRejection>
        /// The input's trace context, when it has a valid one: its outputs carry children of it.
        var trace: TraceContext?
        /// A later heartbeat of the same instance in this batch supersedes this one.
        var coalesced = false

        init(
            message: KafkaConsumerMessage,
            decoding: (result: Result<IncomingCommand, InputRejection>, trace: TraceContext?)
        ) {
            self.message = message
            self.decoded = decoding.result
            self.trace = decoding.trace
        }

        /// The spec task a well-formed input is for.
        var subject: String? {
            guard case .success(let command) = decoded else { return nil }
            return command.specTaskID
        }

        /// The CloudEvent type, when it could be read.
        var type: String? {
            switch decoded {
            case .success(let command): command.command.type
            case .failure(let rejection): rejection.type
            }
        }

        /// The idempotency key (``InputPolicy/idempotencyKey(of:)``). Only well-formed inputs have one: a malformed
        /// message with an id is not that input, so the sender may fix it and send it again under the same id.
        var eventID: String? {
            guard case .success(let command) = decoded else { return nil }
            return InputPolicy.idempotencyKey(of: command)
        }
    }

    /// Marks every heartbeat followed by a later one of the same instance in the batch: only the last one of
    /// each instance is applied, so a burst of heartbeats is one write.
    ///
    /// - Returns: How many were marked.
    private static func coalesceHeartbeats(_ inputs: inout [Input]) -> Int {
        var latest: [String: Int] = [:]
        var coalesced = 0
        for position in inputs.indices {
            guard case .success(let command) = inputs[position].decoded, let key = InputPolicy.heartbeatKey(of: command)
            else { continue }
            if let earlier = latest[key] {
                inputs[earlier].coalesced = true
                coalesced += 1
            }
            latest[key] = position
        }
        return coalesced
    }

    private func decode(
        _ message: KafkaConsumerMessage,
        now: Date
    ) -> (result: Result<IncomingCommand, InputRejection>, trace: TraceContext?) {
        switch message.topic {
        case topics.commands:
            return CommandDecoder.decodeTraced(
                message.value,
                headers: message.domainHeaders,
                appliedAt: now,
                family: .commands
            )
        case topics.zedEvents:
            let decoded = CommandDecoder.decodeTraced(
                message.value,
                headers: message.domainHeaders,
                appliedAt: now,
                family: .zedEvents
            )
            return (decoded.result.flatMap(authenticate), decoded.trace)
        default:
            let rejection = InputRejection(.unknownType, "messages on \(message.topic) are not applied by this worker")
            return (.failure(rejection), TraceContext.extract(headers: message.domainHeaders))
        }
    }

    /// A Zed event is applied only with the token issued for the instance it names; the decision function then
    /// checks that the instance is the spec task's.
    private func authenticate(_ command: IncomingCommand) -> Result<IncomingCommand, InputRejection> {
        guard case .zedEvent(let event) = command.command else { return .success(command) }
        guard let token = command.runnerToken else {
            return .failure(
                InputRejection(
                    .unauthenticated,
                    "\(event.type) has no runnertoken; every Zed event must carry the token issued for instance "
                        + "\(event.instanceID) with its create_instance command",
                    eventID: command.id,
                    subject: command.specTaskID
                )
            )
        }
        guard runnerTokens.isValid(token, for: event.instanceID) else {
            return .failure(
                InputRejection(
                    .unauthenticated,
                    "the runnertoken of \(event.type) is not the token issued for Zed instance \(event.instanceID)",
                    eventID: command.id,
                    subject: command.specTaskID
                )
            )
        }
        return .success(command)
    }
}

/// Ids of work sessions, Zed threads and instances are global, but the decision function sees one spec task:
/// new ids are checked against what earlier commands of the same batch created and against the database.
struct ClaimedIDs {
    /// When new ids are looked up in the database.
    enum Check {
        /// One query for the whole batch, by `noneExisted` once every command was decided: the common case
        /// costs one round trip, not one per command that creates ids.
        case afterTheBatch
        /// A query per command that creates ids, before the next command is decided: exact when an id exists.
        case beforeEachCommand
    }

    let repository: SpecTaskRepository
    let check: Check
    private var createdInBatch: [String: String] = [:]
    /// Every new id the batch's commands wanted, found in no earlier command of the batch (`afterTheBatch`).
    private var unchecked: (sessions: Set<String>, threads: Set<String>, instances: Set<String>) = ([], [], [])

    init(repository: SpecTaskRepository, check: Check) {
        self.repository = repository
        self.check = check
    }

    /// A sentence naming the first id `new` creates that another spec task already has, or `nil`.
    ///
    /// With `afterTheBatch` only the batch's earlier commands are consulted here; the decisions stand only
    /// if `noneExisted` then finds none of the ids in the database.
    mutating func conflict(
        previous: SpecTaskState?,
        new: SpecTaskState,
        on connection: PostgresConnection
    ) async throws -> String? {
        let task = new.task.id
        let claimed = InputPolicy.newIDs(previous: previous, new: new)
        let (sessions, threads, instances) = (claimed.workSessions, claimed.zedThreads, claimed.zedInstances)
        let keys = claimed.keys
        guard !keys.isEmpty else { return nil }

        var owners: [String: String] = [:]
        switch check {
        case .beforeEachCommand:
            owners = try await repository.owners(
                workSessionIDs: sessions,
                zedThreadIDs: threads,
                zedInstanceIDs: instances,
                on: connection
            )
        case .afterTheBatch:
            unchecked.sessions.formUnion(sessions)
            unchecked.threads.formUnion(threads)
            unchecked.instances.formUnion(instances)
        }
        owners.merge(createdInBatch.filter { keys.contains($0.key) }) { stored, _ in stored }
        for key in keys {
            if let owner = owners[key], owner != task {
                return InputPolicy.conflictReason(key: key, owner: owner)
            }
        }
        for key in keys { createdInBatch[key] = task }
        return nil
    }

    /// Whether the batch's decisions stand: true when every id was checked already (`beforeEachCommand`) or
    /// none of the new ids exists in the database. Then checking each command's ids before the next would have
    /// found nothing in the database either, so it would have decided exactly the same.
    func noneExisted(on connection: PostgresConnection) async throws -> Bool {
        guard check == .afterTheBatch else { return true }
        return try await repository.owners(
            workSessionIDs: unchecked.sessions.sorted(),
            zedThreadIDs: unchecked.threads.sorted(),
            zedInstanceIDs: unchecked.instances.sorted(),
            on: connection
        ).isEmpty
    }
}
