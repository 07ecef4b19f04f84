import Foundation
import Kafka
import PostgresNIO
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// The per-task locks of a batch against a real PostgreSQL: what a batch that waited for a task's locks reads is what
/// the transaction holding them committed.
@Suite("Spec task locks", .serialized)
struct TaskLockTests {
    /// The state of a spec task just created, as the decision function makes it.
    static func created(_ task: String) throws -> SpecTaskState {
        let create = IncomingCommand(
            id: "\(task)-create",
            specTaskID: task,
            time: Date(),
            command: .create(CreateSpecTask(name: task))
        )
        let context = DecisionContext(runnerToken: { _ in "token" })
        guard case .applied(let state, _) = SpecTaskManager.decide(nil, create, context: context) else {
            throw TimedOut(what: "the create of \(task) applied")
        }
        return state
    }

    @Test("a spec task created while a batch waits for its lock is the task that batch applies its command to")
    func creationWhileWaiting() async throws {
        try await StoreFixture.with { fixture in
            let task = "created-while-waiting"
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 1)
            let generations = try await fixture.applier.claim([partition], owner: "worker")
            let repository = SpecTaskRepository(logger: TestEnvironment.logger)
            let (locked, lockedContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            defer { releaseContinuation.finish() }

            // Another transaction holds the task's lock while it creates the task (as a batch with its `create`
            // on another partition or topic would).
            let creator = Task {
                try await fixture.client.transaction(logger: TestEnvironment.logger) { connection in
                    guard try await repository.tryLockSubject(task, on: connection) else {
                        throw TimedOut(what: "the task's lock, free until now")
                    }
                    lockedContinuation.yield()
                    for await _ in release { break }
                    let state = try Self.created(task)
                    try await repository.save(StoredSpecTask(state: state), previous: nil, on: connection)
                }
            }
            for await _ in locked { break }

            // The batch with the task's next command waits for that lock.
            let batch = Task {
                try await fixture.applier.apply(
                    fixture.messages([("\(task)-plan", .startPlanning(StartPlanning()))], task: task, partition: 1),
                    generations: generations
                )
            }
            try await fixture.waitForLockWaiters(1)
            releaseContinuation.finish()
            try await creator.value

            let report = try await batch.value
            #expect(report.applied == 1)
            #expect(report.rejected == 0)
            #expect(try await fixture.load(task)?.state.task.status == .specGeneration)
        }
    }
}

/// `BatchWrite`: everything a batch writes at its end, in one statement.
@Suite("One statement for a batch's writes", .serialized)
struct BatchWriteTests {
    static func entry(_ id: String, task: String, _ message: String) -> CoordinationEntry {
        CoordinationEntry(
            id: id,
            specTaskID: task,
            fromWorkSessionID: "ws-1",
            toWorkSessionID: nil,
            kind: .notification,
            message: message,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000)
        )
    }

    @Test("state, coordination log, outbox and offsets land together; written again, nothing doubles or goes back")
    func writesTogether() async throws {
        try await StoreFixture.with { fixture in
            let task = "written-together"
            let offsets = ConsumerOffsetStore(group: TestEnvironment.unique("group"), logger: TestEnvironment.logger)
            _ = try await offsets.claim(
                topic: fixture.topics.commands,
                partition: 0,
                owner: "w",
                client: fixture.client
            )
            var write = BatchWrite()
            write.changes = [(StoredSpecTask(state: try TaskLockTests.created(task)), nil)]
            // The same entry twice in one write (an event applied again): the first one stays.
            write.coordination = [
                Self.entry("c-2", task: task, "second id, first written"),
                Self.entry("c-1", task: task, "then"),
                Self.entry("c-2", task: task, "again"),
            ]
            write.outbox = (1...3).map { OutboxMessage(topic: "t", key: task, payload: Array("m\($0)".utf8)) }
            write.offsets = [(fixture.topics.commands, 0, 7)]
            write.consumerGroup = offsets.group
            var again = write
            again.changes = []
            again.offsets = [(fixture.topics.commands, 0, 3)]
            for batch in [write, again] {
                try await fixture.client.transaction(logger: TestEnvironment.logger) { connection in
                    try await batch.write(on: connection, logger: TestEnvironment.logger)
                }
            }

            #expect(try await fixture.load(task)?.state.task.name == task)
            let log = try await CoordinationLogStore(logger: TestEnvironment.logger)
                .entries(of: task, client: fixture.client)
            #expect(log.map(\.id) == ["c-2", "c-1"])
            #expect(log.map(\.message) == ["second id, first written", "then"])
            var payloads: [String] = []
            for try await payload in try await fixture.client.query(
                "SELECT payload FROM outbox ORDER BY id",
                logger: TestEnvironment.logger
            ).decode(ByteBuffer.self) {
                payloads.append(String(buffer: payload))
            }
            #expect(payloads == ["m1", "m2", "m3", "m1", "m2", "m3"])
            #expect(
                try await fixture.count(
                    "SELECT next_offset::int8 FROM consumer_offsets WHERE consumer_group = '\(offsets.group)'"
                ) == 7
            )
        }
    }
    @Test("writes of any contents, an empty one too, run as one statement prepared once per connection")
    func preparedOnce() async throws {
        try await StoreFixture.with { fixture in
            let task = "prepared-once"
            var full = BatchWrite()
            full.changes = [(StoredSpecTask(state: try TaskLockTests.created(task)), nil)]
            full.outbox = [OutboxMessage(topic: "t", key: task, payload: Array("m".utf8))]
            var coordinationOnly = BatchWrite()
            coordinationOnly.coordination = [Self.entry("c-1", task: task, "hello")]
            let uses = try await fixture.client.withConnection { connection in
                for batch in [full, BatchWrite(), coordinationOnly] {
                    try await connection.query("BEGIN", logger: TestEnvironment.logger)
                    try await batch.write(on: connection, logger: TestEnvironment.logger)
                    try await connection.query("COMMIT", logger: TestEnvironment.logger)
                }
                var uses: [String: Int64] = [:]
                for try await (name, count) in try await connection.query(
                    "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements WHERE name LIKE 'spectask_%'",
                    logger: TestEnvironment.logger
                ).decode((String, Int64).self) {
                    uses[name] = count
                }
                return uses
            }
            #expect(uses == ["spectask_batch_write": 3], "prepared statements and their uses: \(uses)")
            #expect(try await fixture.count("SELECT count(*) FROM outbox") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM coordination_log") == 1)
            #expect(try await fixture.load(task)?.state.task.name == task)
        }
    }
}
