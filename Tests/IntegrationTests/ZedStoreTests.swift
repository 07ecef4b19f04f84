import Foundation
import Kafka
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// The Zed side at the store level: batches built by hand and applied with `BatchApplier`, and heartbeat
/// sweepers run side by side against one database, so what is counted does not depend on how Kafka batches.
@Suite("Zed events at the store level", .serialized)
struct ZedStoreTests {
    /// A spec task in implementation with two sessions and the instance `<task>-zi`.
    static func implementing(_ fixture: StoreFixture, task: String) async throws -> [KafkaTopicPartition: Int64] {
        let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
        let generations = try await fixture.applier.claim(
            [partition, KafkaTopicPartition(topic: fixture.topics.zedEvents, partition: 0)],
            owner: "worker"
        )
        let commands =
            fixture.approvedCommands(task: task, plan: "1. One\n2. Two\n")
            + [("\(task)-start", .startImplementation(StartImplementation(zedInstanceID: "\(task)-zi")))]
        let report = try await fixture.applier.apply(
            fixture.messages(commands, task: task, partition: 0),
            generations: generations
        )
        #expect(report.applied == commands.count)
        return generations
    }

    static func zedMessages(
        _ events: [(id: String, event: ZedEvent)],
        task: String,
        fixture: StoreFixture,
        firstOffset: Int64 = 0
    ) -> [KafkaConsumerMessage] {
        events.enumerated().map { position, entry in
            fixture.message(
                CommandEncoder.encode(
                    id: entry.id,
                    specTaskID: task,
                    source: "tests",
                    event: entry.event,
                    runnerToken: Scenario.runnerTokens.token(for: entry.event.instanceID)
                ),
                task: task,
                partition: 0,
                offset: firstOffset + Int64(position),
                topic: fixture.topics.zedEvents
            )
        }
    }

    /// Four sweepers, each with its clock stopped at `time`, sweeping once at the same time.
    ///
    /// - Parameters:
    ///   - partitions: The `zed.events` partitions each sweeper owns and has read to the end.
    ///   - prefix: Another system's topic prefix, instead of the fixture's.
    /// - Returns: How many timeouts they fired between them.
    static func race(
        _ fixture: StoreFixture,
        _ settings: WorkerSettings,
        at time: Date,
        partitions: Set<Int32>,
        prefix: String? = nil
    ) async throws -> Int {
        var scoped = settings
        if let prefix { scoped.topicPrefix = prefix }
        let sweepers = (0..<4).map { _ in
            HeartbeatSweeper(
                client: fixture.client,
                settings: scoped,
                runnerTokens: Scenario.runnerTokens,
                scope: SweepScope(partitions: partitions),
                clock: { time },
                logger: TestEnvironment.logger
            )
        }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for sweeper in sweepers { group.addTask { try await sweeper.sweepOnce() } }
            return try await group.reduce(0, +)
        }
    }

    static func state(_ fixture: StoreFixture, _ task: String) async throws -> SpecTaskState {
        try #require(
            try await SpecTaskRepository(logger: TestEnvironment.logger).loadSnapshot([task], client: fixture.client)[
                task
            ]?
            .state
        )
    }

    @Test("fifty heartbeats of one instance in one batch are one write: the last is applied, none is in the inbox")
    func heartbeatsCoalesce() async throws {
        try await StoreFixture.with { fixture in
            let task = "heartbeat-task"
            let generations = try await Self.implementing(fixture, task: task)
            let instance = "\(task)-zi"
            var events: [(id: String, event: ZedEvent)] = (1...50).map { number in
                (
                    "hb-\(number)",
                    .heartbeat(ZedHeartbeat(instanceID: instance, cpuPercent: number, uptimeSeconds: number))
                )
            }
            events.insert(
                (
                    "created",
                    .threadCreated(
                        ZedThreadCreated(
                            instanceID: instance,
                            workSessionID: "ws-\(task)-start-1",
                            zedThreadExternalID: "z1"
                        )
                    )
                ),
                at: 25
            )
            let report = try await fixture.applier.apply(
                Self.zedMessages(events, task: task, fixture: fixture),
                generations: generations
            )
            #expect(report.coalescedHeartbeats == 49)
            #expect(report.applied == 2)
            #expect(report.rejected == 0)
            let state = try await Self.state(fixture, task)
            #expect(state.zedInstance?.status == .ready)
            #expect(state.zedInstance?.resources == ResourceUsage(cpuPercent: 50, uptimeSeconds: 50))
            #expect(state.zedThreads.first { $0.workSessionID == "ws-\(task)-start-1" }?.status == .active)
            // Only the thread event claimed an inbox id (scoped to its instance).
            #expect(try await fixture.count("SELECT count(*)::int FROM inbox WHERE message_id LIKE 'zed:%'") == 1)
            #expect(
                try await fixture.count(
                    "SELECT count(*)::int FROM inbox WHERE message_id = 'zed:\(instance.utf8.count):\(instance):created'"
                ) == 1
            )
        }
    }

    @Test("a command type sent on zed.events is rejected without a token check and without a forged outcome")
    func commandOnZedEvents() async throws {
        try await StoreFixture.with { fixture in
            let task = "outcome-task"
            let generations = try await Self.implementing(fixture, task: task)
            let message = fixture.message(
                CommandEncoder.encode(
                    id: "an-upstream-command-id",
                    specTaskID: task,
                    source: "impostor",
                    command: .cancel(CancelSpecTask())
                ),
                task: task,
                partition: 0,
                offset: 0,
                topic: fixture.topics.zedEvents
            )
            let report = try await fixture.applier.apply([message], generations: generations)
            #expect(report.rejected == 1 && report.applied == 0)
            #expect(try await Self.state(fixture, task).task.status == .implementation)
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*)::int FROM outbox WHERE topic = '\(fixture.topics.status)'
                    AND convert_from(payload, 'UTF8')::jsonb->>'correlationid' = 'an-upstream-command-id'
                    """
                ) == 0
            )
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*)::int FROM outbox WHERE topic = '\(fixture.topics.rejected)'
                    AND convert_from(payload, 'UTF8')::jsonb->'data'->>'code' = 'unknown_type'
                    """
                ) == 1
            )
        }
    }

    @Test("four sweepers racing fire each heartbeat timeout exactly once")
    func sweepersRace() async throws {
        try await StoreFixture.with { fixture in
            let task = "sweep-task"
            let generations = try await Self.implementing(fixture, task: task)
            let instance = "\(task)-zi"
            _ = try await fixture.applier.apply(
                Self.zedMessages(
                    [("ready", .instanceReady(ZedInstanceReady(instanceID: instance)))],
                    task: task,
                    fixture: fixture
                ),
                generations: generations
            )
            let heard = try #require(try await Self.state(fixture, task).zedInstance?.lastHeartbeatAt)

            var settings = WorkerSettings(
                topicPrefix: String(fixture.topics.commands.dropLast("spectask.commands".count))
            )
            settings.heartbeatTimeout = .seconds(10)
            settings.heartbeatFailAfter = .seconds(30)
            // The instance's events came from partition 0 of this system's zed.events.
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*)::int FROM zed_instances WHERE id = '\(instance)'
                    AND events_topic = '\(fixture.topics.zedEvents)' AND events_partition = 0
                    """
                ) == 1
            )
            func race(at time: Date, partitions: Set<Int32> = [0], prefix: String? = nil) async throws -> Int {
                try await Self.race(fixture, settings, at: time, partitions: partitions, prefix: prefix)
            }

            #expect(try await race(at: heard.addingTimeInterval(5)) == 0)  // not silent long enough
            // Sweepers that do not own (or have not read to the end) the instance's partition, or that belong to
            // another system on the same database, leave it alone however long it was silent.
            #expect(try await race(at: heard.addingTimeInterval(1000), partitions: []) == 0)
            #expect(try await race(at: heard.addingTimeInterval(1000), partitions: [1, 2]) == 0)
            #expect(try await race(at: heard.addingTimeInterval(1000), prefix: "another-system.") == 0)
            #expect(try await Self.state(fixture, task).zedInstance?.status == .ready)
            #expect(try await race(at: heard.addingTimeInterval(12)) == 1)
            #expect(try await Self.state(fixture, task).zedInstance?.status == .disconnected)
            #expect(try await race(at: heard.addingTimeInterval(20)) == 0)  // disconnected, not failed yet
            #expect(try await race(at: heard.addingTimeInterval(31)) == 1)
            let state = try await Self.state(fixture, task)
            #expect(state.zedInstance?.status == .failed)
            #expect(state.zedInstance?.lastError?.hasPrefix("no heartbeat for 31 s") == true)
            #expect(try await race(at: heard.addingTimeInterval(300)) == 0)  // failed: nothing more to fire

            // Exactly one status event per transition in the outbox, with gap-free sequence numbers.
            let changes = try await fixture.count(
                """
                SELECT count(*)::int FROM outbox WHERE topic = '\(fixture.topics.status)'
                AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'spectask.status.zed_instance_changed'
                AND convert_from(payload, 'UTF8')::jsonb->'data'->>'from' IN ('ready', 'disconnected')
                AND convert_from(payload, 'UTF8')::jsonb->'data'->>'from' <> convert_from(payload, 'UTF8')::jsonb->'data'->>'to'
                """
            )
            #expect(changes == 2)
        }
    }

    @Test("four sweepers racing fail a pending instance once; a retry replaces it, and its id stays taken")
    func readyTimeoutRaceAndReplacement() async throws {
        try await StoreFixture.with { fixture in
            let task = "ready-task"
            let generations = try await Self.implementing(fixture, task: task)
            let instance = "\(task)-zi"
            let created = try #require(try await Self.state(fixture, task).zedInstance?.createdAt)
            // Stored with this system's events topic; the partition is known once a runner reports.
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*)::int FROM zed_instances WHERE id = '\(instance)' AND created_at IS NOT NULL
                    AND events_topic = '\(fixture.topics.zedEvents)' AND events_partition IS NULL
                    """
                ) == 1
            )
            var settings = WorkerSettings(
                topicPrefix: String(fixture.topics.commands.dropLast("spectask.commands".count))
            )
            settings.instanceReadyTimeout = .seconds(60)
            func race(
                after seconds: TimeInterval,
                partitions: Set<Int32> = [0],
                prefix: String? = nil
            ) async throws
                -> Int
            {
                try await Self.race(
                    fixture,
                    settings,
                    at: created.addingTimeInterval(seconds),
                    partitions: partitions,
                    prefix: prefix
                )
            }

            #expect(try await race(after: 59) == 0)
            // Another system on the same database, or a worker that owns no zed.events partition, leaves it alone.
            #expect(try await race(after: 1000, prefix: "another-system.") == 0)
            #expect(try await race(after: 1000, partitions: []) == 0)
            // No partition known yet: any sweeper of this system that has read its own partitions fires it, once.
            #expect(try await race(after: 61, partitions: [3]) == 1)
            var state = try await Self.state(fixture, task)
            #expect(state.zedInstance?.status == .failed)
            #expect(state.zedInstance?.lastError?.hasPrefix("no instance_ready from its runner within") == true)
            #expect(state.workSessions.map(\.status) == [.failed, .failed])
            #expect(state.task.status == .implementationFailed)
            #expect(try await race(after: 300) == 0)
            let failures = """
                SELECT count(*)::int FROM outbox WHERE topic = '\(fixture.topics.status)'
                AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'spectask.status.zed_instance_changed'
                AND convert_from(payload, 'UTF8')::jsonb->'data'->>'from' = 'pending'
                AND convert_from(payload, 'UTF8')::jsonb->'data'->>'to' = 'failed'
                """
            #expect(try await fixture.count(failures) == 1)

            // A retry opens a new instance; both rows stay, the old one marked replaced.
            let retry = try await fixture.applier.apply(
                fixture.messages(
                    [("\(task)-retry", .retryWorkSession(RetryWorkSession(workSessionID: "ws-\(task)-start-1")))],
                    task: task,
                    partition: 0,
                    firstOffset: 100
                ),
                generations: generations
            )
            #expect(retry.applied == 1)
            let replacement = "zi-\(task)-retry-1"
            state = try await Self.state(fixture, task)
            #expect(state.zedInstance?.id == replacement && state.zedInstance?.status == .pending)
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*)::int FROM zed_instances WHERE spec_task_id = '\(task)'
                    AND ((id = '\(instance)' AND replaced_at IS NOT NULL)
                      OR (id = '\(replacement)' AND replaced_at IS NULL AND events_topic = '\(fixture.topics.zedEvents)'))
                    """
                ) == 2
            )

            // The old runner is turned away; the new one is heard, and its partition recorded.
            let events = try await fixture.applier.apply(
                Self.zedMessages(
                    [
                        ("old-ready", .instanceReady(ZedInstanceReady(instanceID: instance))),
                        ("new-ready", .instanceReady(ZedInstanceReady(instanceID: replacement))),
                    ],
                    task: task,
                    fixture: fixture
                ),
                generations: generations
            )
            #expect(events.rejectionsByCode == ["unknown_zed_instance": 1] && events.applied == 1)
            #expect(try await Self.state(fixture, task).zedInstance?.status == .ready)
            #expect(
                try await fixture.count(
                    "SELECT count(*)::int FROM zed_instances WHERE events_partition = 0 AND id = '\(replacement)'"
                ) == 1
            )

            // No other spec task may take the old id: its runner's token would open that instance.
            let other = "other-task"
            let start = StartImplementation(zedInstanceID: instance)
            let report = try await fixture.applier.apply(
                fixture.messages(
                    fixture.approvedCommands(task: other, plan: "1. One\n") + [
                        ("\(other)-start", .startImplementation(start))
                    ],
                    task: other,
                    partition: 0,
                    firstOffset: 200
                ),
                generations: generations
            )
            #expect(report.rejectionsByCode == ["conflict": 1])
        }
    }
}
