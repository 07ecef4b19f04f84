import Foundation
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import TestSupport
import Testing

@testable import Kafka

/// The invariants of ARCHITECTURE.md, proven against real worker processes, the real broker and PostgreSQL:
/// the final state equals the sequential model, exactly-once effects across a crash, fencing of zombies,
/// schema conformance of every output, the concurrency limit and retries.
@Suite("Invariants", .serialized)
struct InvariantTests {
    // MARK: - 1. Two workers, interleaved commands, the sequential model

    @Test("two workers, 200 spec tasks, interleaved commands: the state and every output equal the sequential model")
    func twoWorkersMatchTheSequentialModel() async throws {
        try await Scenario.withSystem(workers: 2) { system, client in
            let run = TestEnvironment.unique("m")
            let scripts = (0..<200).map { Script.commands(task: "\(run)-t\($0)", variant: $0) }
            let sent = Script.roundRobin(scripts)
            let model = SequentialModel(sent)
            model.expectInteresting(taskCount: scripts.count)

            try await system.sendAll(sent.map { (key: $0.task, value: $0.bytes) })
            try await Scenario.waitForAllOutputs(of: model, in: system)
            try await Scenario.verify(system, against: model, client: client, deduplicate: false)

            // Both members of the group applied batches, so the model held across a split group.
            for worker in system.workerProcesses {
                #expect(
                    worker.output.contains("batch applied"),
                    "a worker applied nothing:\n\(worker.output.suffix(3000))"
                )
            }
        }
    }

    // MARK: - 2. Redelivery after a crash

    @Test("a worker killed with SIGKILL while applying: its successor applies every command exactly once")
    func crashAndRedelivery() async throws {
        // Small batches keep the worker inside transactions most of the time, so the kill lands mid-stream.
        try await Scenario.withSystem(workers: 1, extraWorkerArguments: ["--max-batch", "5"]) { system, client in
            let run = TestEnvironment.unique("c")
            let scripts = (0..<50).map { Script.commands(task: "\(run)-t\($0)", variant: $0 + 7) }
            let beforeCrash = Script.roundRobin(scripts.map { Array($0.dropLast()) })
            let afterCrash = scripts.map { $0.last! }
            let model = SequentialModel(beforeCrash + afterCrash)
            model.expectInteresting(taskCount: scripts.count)

            let victim = try #require(system.workerProcesses.first)
            try await system.sendAll(beforeCrash.map { (key: $0.task, value: $0.bytes) })
            let ids = Set(beforeCrash.map(\.id))
            let seenAtKill = try await Scenario.waitForOutcomes(in: system, of: ids, atLeast: ids.count / 4)
            kill(victim.process.processIdentifier, SIGKILL)
            _ = try await victim.waitForExit(timeout: .seconds(10))
            try #require(
                seenAtKill < ids.count,
                "the worker finished before it could be killed; the test proved nothing"
            )

            // Commands that arrive while no worker runs, then a new member of the same group.
            try await system.sendAll(afterCrash.map { (key: $0.task, value: $0.bytes) })
            let successor = try system.startWorker(extraArguments: ["--max-batch", "5"])
            try await successor.waitForOutput(containing: "owning partitions", timeout: .seconds(90))

            try await Scenario.waitForAllOutputs(of: model, in: system)
            try await Scenario.verify(system, against: model, client: client, deduplicate: true)
            let raw = system.status.messages.count
            let distinct = Set(system.status.messages.map(\.event.id)).count
            print(
                "crash test: killed after \(seenAtKill) of \(ids.count) outcomes; status events \(distinct) distinct, "
                    + "\(raw - distinct) republished copies"
            )
        }
    }

    // MARK: - 3. Fencing at the store level

    @Test("a zombie whose partition was claimed by another worker applies nothing; redelivery changes nothing")
    func zombieFencing() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let zombie = try await fixture.applier.claim([partition], owner: "worker-a")
            let owner = try await fixture.applier.claim([partition], owner: "worker-b")
            let zombieGeneration = try #require(zombie[partition])
            let ownerGeneration = try #require(owner[partition])
            #expect(ownerGeneration > zombieGeneration)

            let task = "fenced-task"
            let batch = fixture.messages(
                [
                    ("create-1", .create(CreateSpecTask(name: "Fenced"))),
                    ("plan-1", .startPlanning(StartPlanning())),
                ],
                task: task,
                partition: 0,
                firstOffset: 0
            )
            let error = await #expect(throws: (any Error).self) {
                try await fixture.applier.apply(batch, generations: zombie)
            }
            #expect(StoreFixture.fencing(error) != nil, "not a fencing failure: \(String(describing: error))")
            #expect(error is ConsumerOffsetStore.Fenced)

            // Nothing of the zombie's batch is in the database.
            #expect(try await fixture.count("SELECT count(*) FROM spec_tasks") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM outbox") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM inbox") == 0)
            #expect(try await fixture.count("SELECT next_offset FROM consumer_offsets") == 0)
            // A partition never claimed is fenced too.
            let unclaimed = await #expect(throws: (any Error).self) {
                try await fixture.applier.apply(batch, generations: [:])
            }
            #expect(StoreFixture.fencing(unclaimed) != nil)

            // The owner applies the same batch.
            let applied = try await fixture.applier.apply(batch, generations: owner)
            #expect(applied.applied == 2)
            #expect(applied.rejected == 0)
            #expect(applied.duplicates == 0)
            #expect(applied.nextOffsets == [partition: 2])
            let stored = try #require(try await fixture.load(task))
            #expect(stored.state.task.status == .specGeneration)
            let outboxAfterApply = try await fixture.count("SELECT count(*) FROM outbox")
            #expect(outboxAfterApply > 0)
            #expect(try await fixture.count("SELECT next_offset FROM consumer_offsets") == 2)

            // The zombie is still fenced after the owner committed, and changes nothing.
            let stale = await #expect(throws: (any Error).self) {
                try await fixture.applier.apply(batch, generations: zombie)
            }
            #expect(StoreFixture.fencing(stale)?.generation == zombieGeneration)
            #expect(try await fixture.count("SELECT count(*) FROM outbox") == outboxAfterApply)

            // Redelivery of offsets below the stored next offset changes nothing.
            let redelivered = try await fixture.applier.apply(batch, generations: owner)
            #expect(redelivered.duplicates == batch.count)
            #expect(redelivered.applied == 0)
            #expect(redelivered.rejected == 0)
            #expect(redelivered.changedTasks.isEmpty)
            #expect(try await fixture.count("SELECT count(*) FROM outbox") == outboxAfterApply)
            #expect(try await fixture.load(task) == stored)

            // A batch reaching past the stored offset: the old message is skipped, the new one applied; a command
            // resent under an id already handled (a new offset) is skipped by the inbox.
            let next = fixture.messages(
                [
                    ("plan-1", .startPlanning(StartPlanning())),
                    ("archive-1", .archive(ArchiveSpecTask(archived: true))),
                    ("create-1", .create(CreateSpecTask(name: "Fenced"))),
                ],
                task: task,
                partition: 0,
                firstOffset: 1
            )
            let mixed = try await fixture.applier.apply(next, generations: owner)
            #expect(mixed.applied == 1)
            #expect(mixed.rejected == 0)
            #expect(mixed.duplicates == 2)
            #expect(mixed.nextOffsets == [partition: 4])
            let archived = try #require(try await fixture.load(task))
            #expect(archived.state.task.archived)
            #expect(archived.state.task.status == .specGeneration)
            // Its outcome and the spec_task_changed announcing the flag.
            #expect(archived.nextSequence == stored.nextSequence + 2)
        }
    }

    // MARK: - 4. Every output conforms to its schema

    @Test("every message the worker emits in a full run, rejections included, validates against topics/schemas")
    func everyOutputConformsToItsSchema() async throws {
        try await Scenario.withSystem { system, _ in
            let task = TestEnvironment.unique("schema")
            let other = TestEnvironment.unique("schema-cancelled")
            let sessions = ["\(task)-ws1", "\(task)-ws2"]
            let plan = "## Task 1: Schema\nEffort: small\n\n## Task 2: API\nDepends on: 1\n"
            let commands: [(String, SpecTaskCommand)] = [
                (task, .create(CreateSpecTask(name: "Schemas", description: "all outputs", projectPath: "/src/app"))),
                (task, .startPlanning(StartPlanning())),
                (task, .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: plan))),
                (task, .requestChanges(RequestChanges(reviewer: "rita", comments: "more detail"))),
                (task, .submitSpecs(SubmitSpecs(requirements: "R2", design: "D2", implementationPlan: plan))),
                (task, .approveSpecs(ApproveSpecs(approver: "alice", comments: "ok"))),
                (task, .approveSpecs(ApproveSpecs(approver: "alice"))),  // illegal: rejected
                (
                    task,
                    .startImplementation(
                        StartImplementation(
                            projectPath: "/src/app",
                            workspaceConfig: .object(["theme": .string("dark")]),
                            agentConfig: .object(["model": .string("m"), "temperature": .number(0.5)]),
                            zedInstanceID: "\(task)-zi",
                            workSessionIDs: sessions
                        )
                    )
                ),
                (
                    task,
                    .updateZedThread(
                        UpdateZedThread(workSessionID: sessions[0], zedThreadExternalID: "zed-1", status: .active)
                    )
                ),
                (task, .updateZedThread(UpdateZedThread(workSessionID: sessions[0], progress: 40))),
                (task, .setSharedContext(SetSharedContext(key: "api-base", value: "/v2"))),
                (task, .setSharedContext(SetSharedContext(key: "api-base", value: nil))),
                (
                    task,
                    .spawnWorkSession(
                        SpawnWorkSession(
                            parentWorkSessionID: sessions[0],
                            name: "helper",
                            implementationTaskIndex: 1,
                            initialPrompt: "help",
                            workSessionID: "\(task)-helper"
                        )
                    )
                ),
                (
                    task,
                    .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: sessions[0], status: .completed))
                ),
                (task, .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 3))),
                (task, .stopZedInstance(StopZedInstance(reason: "enough"))),
                (task, .cancel(CancelSpecTask(reason: "done testing"))),
                (task, .archive(ArchiveSpecTask(archived: true))),
                (other, .create(CreateSpecTask(name: "Cancelled"))),
                (other, .cancel(CancelSpecTask())),
                (other, .retryWorkSession(RetryWorkSession(workSessionID: "nope"))),  // rejected
            ]
            var ids: [String] = []
            for (subject, command) in commands { ids.append(try await system.send(command, task: subject)) }
            // Bad input: malformed JSON, and an unknown type whose id and subject can be read.
            try await system.sendRaw(Array("{oops".utf8), key: task)
            let unknownID = "\(task)-unknown"
            try await system.sendRaw(
                Array(
                    #"{"specversion":"1.0","id":"\#(unknownID)","source":"t","type":"spectask.command.fly","subject":"\#(task)"}"#
                        .utf8
                ),
                key: task
            )
            ids.append(unknownID)
            let expectedRejections = 4  // approve twice, retry on a cancelled task, malformed JSON, unknown type
            _ = try await Scenario.waitForOutcomes(in: system, of: Set(ids), atLeast: ids.count)
            _ = try await system.rejected.waitForCount(expectedRejections, timeout: .seconds(60), "rejected records") {
                _ in true
            }
            _ = try await system.progress.wait(timeout: .seconds(60), "the cancelled snapshot") { message in
                guard message.event.subject == task, case .object(let data) = message.event.data else { return false }
                return data["specTaskStatus"] == .string("cancelled")
            }
            _ = try await system.zedCommands.wait(timeout: .seconds(60), "stop_instance") {
                $0.event.type == "zed.command.stop_instance"
            }

            let listeners = [system.status, system.zedCommands, system.progress, system.rejected]
            let captured = listeners.flatMap(\.messages)
            let types = Set(captured.map(\.event.type))
            let expectedTypes: Set<String> = [
                "spectask.status.command_applied", "spectask.status.command_rejected",
                "spectask.status.spec_task_changed", "spectask.status.work_session_changed",
                "spectask.status.zed_thread_changed", "spectask.status.implementation_task_changed",
                "spectask.status.zed_instance_changed", "spectask.status.shared_context_changed",
                "zed.command.create_instance", "zed.command.create_thread", "zed.command.stop_thread",
                "zed.command.stop_instance", "spectask.progress.snapshot", "spectask.rejected.input",
            ]
            #expect(expectedTypes.isSubset(of: types), "missing: \(expectedTypes.subtracting(types).sorted())")
            // Nothing the worker published is missing from the check for not being a CloudEvent at all.
            #expect(listeners.map(\.undecodableCount) == [0, 0, 0, 0])
            let result = try await SchemaCheck.run(
                captured.map { (schema: "\($0.event.type).schema.json", message: $0.raw.value) }
            )
            #expect(result.status == 0, "schema violations or a checker failure: \(result.output) \(result.errors)")

            #expect(captured.count > 50)
        }
    }

    // MARK: - 5. Concurrency limit and retry

    @Test("five independent tasks under a limit of two: never more than two sessions active; a retry completes")
    func concurrencyLimitAndRetry() async throws {
        try await Scenario.withSystem { system, _ in
            let task = try await WorkflowTests.approvedTask(
                system,
                plan: "1. Alpha\n2. Beta\n3. Gamma\n4. Delta\n5. Epsilon\n",
                name: "Five at most two at a time"
            )
            let s = (1...5).map { "\(task)-ws\($0)" }
            let retried = "\(task)-ws2-retry"
            let started = try await system.apply(
                .startImplementation(StartImplementation(maxConcurrentSessions: 2, workSessionIDs: s)),
                task: task
            )
            #expect(started.created.implementationTaskIndexes == [1, 2, 3, 4, 5])

            func threads(_ expected: [String]) async throws {
                do {
                    _ = try await system.zedCommands.wait(timeout: .seconds(60), "create_thread for \(expected)") { _ in
                        Scenario.threadsRequested(system, task: task) == expected
                    }
                } catch {
                    Issue.record("threads requested: \(Scenario.threadsRequested(system, task: task))")
                    throw error
                }
            }
            try await threads([s[0], s[1]])

            // A third session can not be made active by hand while two are.
            let forced = try await system.send(
                .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: s[2], status: .active)),
                task: task
            )
            guard case .commandRejected(let outcome) = try await system.outcome(of: forced) else {
                Issue.record("a third active session was accepted")
                return
            }
            #expect(outcome.code == "conflict")

            try await WorkflowTests.complete(s[0], of: task, in: system)
            try await threads([s[0], s[1], s[2]])
            try await system.apply(
                .updateWorkSessionStatus(
                    UpdateWorkSessionStatus(workSessionID: s[1], status: .failed, reason: "tests broke")
                ),
                task: task
            )
            try await threads([s[0], s[1], s[2], s[3]])
            let retry = try await system.apply(
                .retryWorkSession(RetryWorkSession(workSessionID: s[1], newWorkSessionID: retried)),
                task: task
            )
            #expect(retry.created.workSessionIDs == [retried])
            // Two are active (3 and 4): the new attempt waits for a slot, and gets it before task 5.
            try await WorkflowTests.complete(s[2], of: task, in: system)
            try await threads([s[0], s[1], s[2], s[3], retried])
            try await WorkflowTests.complete(s[3], of: task, in: system)
            try await threads([s[0], s[1], s[2], s[3], retried, s[4]])
            try await WorkflowTests.complete(retried, of: task, in: system)
            try await WorkflowTests.complete(s[4], of: task, in: system)
            _ = try await system.status.wait(timeout: .seconds(60), "implementation review") { _ in
                WorkflowTests.taskStatuses(system, task: task).last == .implementationReview
            }

            // The retry's thread is for implementation task 2, attempt 2.
            let retryThread = system.zedCommands.messages.compactMap { message -> CreateZedThread? in
                guard case .createThread(let command)? = try? EventDecoder.decodeZedCommand(message.raw.value).1,
                    command.workSessionID == retried
                else { return nil }
                return command
            }
            #expect(retryThread.count == 1)
            #expect(retryThread.first?.implementationTaskIndex == 2)
            let sessionEvents = Scenario.statusEvents(system, task: task).compactMap { event -> WorkSessionChange? in
                if case .workSessionChanged(let change) = event.status { return change }
                return nil
            }
            #expect(sessionEvents.last { $0.workSession.id == retried }?.workSession.attempt == 2)
            #expect(sessionEvents.last { $0.workSession.id == retried }?.to == .completed)
            #expect(sessionEvents.last { $0.workSession.id == s[1] }?.to == .failed)

            // Replay the session changes in sequence order: at no point more than two active.
            var active: Set<String> = []
            var most = 0
            for change in sessionEvents {
                if change.to == .active {
                    active.insert(change.workSession.id)
                } else {
                    active.remove(change.workSession.id)
                }
                most = max(most, active.count)
            }
            #expect(most == 2)
            #expect(active.isEmpty)
            WorkflowTests.expectGapFreeSequence(system, task: task)
        }
    }

    // MARK: - Defects found while writing these tests (fixed; these tests keep them fixed)

    @Test("after `offsets reset` the outputs of messages read again at the same offsets get ids never used before")
    func outputIDsCarryTheResetEpoch() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let before = try await fixture.applier.claim([partition], owner: "worker")
            let first = fixture.messages(
                [("epoch-a", .create(CreateSpecTask(name: "a")))],
                task: "epoch-a",
                partition: 0
            )
            #expect(try await fixture.applier.apply(first, generations: before).applied == 1)
            let idsBefore = Set(try await fixture.outbox().map(\.event.id))
            #expect(idsBefore.contains("\(partition.topic).0.0.1"), "ids before any reset: \(idsBefore)")

            // The topic is re-created: offsets start at 0 again, and a different command arrives at offset 0.
            let resets = try await ConsumerOffsetAdmin(logger: TestEnvironment.logger).resetToBeginning(
                .init(topicPrefix: fixture.topics.commands),
                client: fixture.client
            )
            #expect(resets.count == 1)
            let after = try await fixture.applier.claim([partition], owner: "worker")
            let again = fixture.messages(
                [("epoch-b", .create(CreateSpecTask(name: "b")))],
                task: "epoch-b",
                partition: 0
            )
            #expect(try await fixture.applier.apply(again, generations: after).applied == 1)
            let idsAfter = Set(try await fixture.outbox().map(\.event.id)).subtracting(idsBefore)
            #expect(!idsAfter.isEmpty)
            #expect(idsAfter.allSatisfy { $0.hasPrefix("\(partition.topic).0.0@1.") }, "\(idsAfter)")

            // A malformed input's rejected record carries the epoch too.
            let malformed = fixture.message(Array("{".utf8), task: "epoch-c", partition: 0, offset: 1)
            _ = try await fixture.applier.apply([malformed], generations: after)
            let rejected = try await fixture.outbox().map(\.event.id).filter { $0.hasSuffix(".rejected") }
            #expect(rejected == ["\(partition.topic).0.1@1.rejected"], "\(rejected)")
        }
    }

    @Test("the state read back from PostgreSQL equals the decision function's (threads in creation order)")
    func reloadedStateEqualsDecidedState() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let generations = try await fixture.applier.claim([partition], owner: "worker")
            let task = "order-task"
            // Thread ids derive from command ids: the later command's id sorts first.
            let commands =
                fixture.approvedCommands(task: task, plan: "1. One\n2. Two\n")
                + [
                    ("z-start", .startImplementation(StartImplementation())),
                    (
                        "a-spawn",
                        .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: "ws-z-start-1", name: "helper"))
                    ),
                ]
            var model: SpecTaskState?
            for (id, command) in commands {
                let incoming = IncomingCommand(id: id, specTaskID: task, time: SequentialModel.time, command: command)
                guard
                    case .applied(let state, _) = SpecTaskManager.decide(
                        model,
                        incoming,
                        context: SequentialModel.context
                    )
                else {
                    Issue.record("\(id) was rejected by the model")
                    return
                }
                model = state
            }
            // One command per batch, so every decision starts from the state read back.
            for (offset, entry) in commands.enumerated() {
                let batch = fixture.messages([entry], task: task, partition: 0, firstOffset: Int64(offset))
                #expect(try await fixture.applier.apply(batch, generations: generations).applied == 1)
            }
            let stored = try #require(try await fixture.load(task))
            let expected = try #require(model)
            #expect(stored.state.zedThreads.map(\.workSessionID) == expected.zedThreads.map(\.workSessionID))
            #expect(Normalize.differences(stored.state, expected).isEmpty)
        }
    }

    @Test("the same command id on two partitions, applied concurrently, is applied once")
    func sameCommandOnTwoPartitions() async throws {
        try await StoreFixture.with { fixture in
            let p0 = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let p1 = KafkaTopicPartition(topic: fixture.topics.commands, partition: 1)
            let generations = try await fixture.applier.claim([p0, p1], owner: "worker")
            let task = "race-task"
            _ = try await fixture.applier.apply(
                fixture.messages([("create", .create(CreateSpecTask(name: "Race")))], task: task, partition: 0),
                generations: generations
            )
            let command: (String, SpecTaskCommand) = (
                "shared-id", .setSharedContext(SetSharedContext(key: "k", value: "v"))
            )
            let first = fixture.messages([command], task: task, partition: 0, firstOffset: 1)
            let second = fixture.messages([command], task: task, partition: 1, firstOffset: 0)

            // Hold the task's row lock so both batches pass their inbox check before either can apply.
            let reports = try await fixture.whileHoldingRowLock(of: task, waiters: 2) {
                async let a = fixture.applier.apply(first, generations: generations)
                async let b = fixture.applier.apply(second, generations: generations)
                return try await [a, b]
            }
            let outcomes = try await fixture.outbox().filter { $0.event.correlationid == "shared-id" }
                .filter { $0.event.type.hasPrefix("spectask.status.command_") }
            #expect(reports.map(\.applied).reduce(0, +) == 1)
            #expect(reports.map(\.duplicates).reduce(0, +) == 1)
            #expect(outcomes.count == 1)

        }
    }

    @Test("a client-chosen work session id already used by another spec task never stops the line")
    func workSessionIDOfAnotherTask() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let generations = try await fixture.applier.claim([partition], owner: "worker")
            func batch(_ task: String, firstOffset: Int64) -> [KafkaConsumerMessage] {
                fixture.messages(
                    fixture.approvedCommands(task: task, plan: "Just one thing.")
                        + [
                            (
                                "\(task)-start",
                                .startImplementation(StartImplementation(workSessionIDs: ["shared-session"]))
                            )
                        ],
                    task: task,
                    partition: 0,
                    firstOffset: firstOffset
                )
            }
            let first = batch("owner-task", firstOffset: 0)
            #expect(try await fixture.applier.apply(first, generations: generations).applied == first.count)
            // Either the second start is rejected, or applied without touching the first task; the batch must
            // not fail: the worker retries a failing batch forever, and its partition stops.
            _ = try await fixture.applier.apply(
                batch("second-task", firstOffset: Int64(first.count)),
                generations: generations
            )

            let owner = try #require(try await fixture.load("owner-task"))
            #expect(owner.state.workSessions.map(\.specTaskID) == ["owner-task"])
        }
    }

    @Test("a client-chosen Zed instance id already used by another spec task leaves that task's instance alone")
    func zedInstanceIDOfAnotherTask() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let generations = try await fixture.applier.claim([partition], owner: "worker")
            var offset: Int64 = 0
            for task in ["owner-task", "second-task"] {
                let batch = fixture.messages(
                    fixture.approvedCommands(task: task, plan: "Just one thing.")
                        + [
                            (
                                "\(task)-start",
                                .startImplementation(StartImplementation(zedInstanceID: "shared-instance"))
                            )
                        ],
                    task: task,
                    partition: 0,
                    firstOffset: offset
                )
                offset += Int64(batch.count)
                _ = try await fixture.applier.apply(batch, generations: generations)
            }
            let owner = try #require(try await fixture.load("owner-task"))
            let second = try #require(try await fixture.load("second-task"))
            #expect(owner.state.zedInstance?.specTaskID == "owner-task")
            // Applied or rejected, the second task's state must be what its outcome said.
            #expect(second.state.task.status != .implementation || second.state.zedInstance != nil)

        }
    }

    @Test("an id another spec task has, stored or earlier in the batch, is a conflict; the rest of the batch applies")
    func claimedIDsInOneBatch() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let generations = try await fixture.applier.claim([partition], owner: "worker")
            func start(_ task: String, sessions: [String]) -> [(id: String, command: SpecTaskCommand)] {
                fixture.approvedCommands(task: task, plan: "Just one thing.")
                    + [("\(task)-start", .startImplementation(StartImplementation(workSessionIDs: sessions)))]
            }
            var offset: Int64 = 0
            func batch(_ tasks: [(task: String, sessions: [String])]) -> [KafkaConsumerMessage] {
                tasks.flatMap { entry in
                    let commands = start(entry.task, sessions: entry.sessions)
                    defer { offset += Int64(commands.count) }
                    return fixture.messages(commands, task: entry.task, partition: 0, firstOffset: offset)
                }
            }
            func outcome(of command: String) async throws -> StatusEvent? {
                try await fixture.outbox().compactMap(\.status).first {
                    switch $0 {
                    case .commandApplied(let outcome), .commandRejected(let outcome): outcome.commandID == command
                    default: false
                    }
                }
            }

            // Without any stored id: the second of two tasks choosing the same id in one batch is refused.
            let first = try await fixture.applier.apply(
                batch([("ids-a", ["twin"]), ("ids-b", ["twin"]), ("ids-c", ["c-1"])]),
                generations: generations
            )
            #expect(first.rejected == 1)
            #expect(first.rejectionsByCode == ["conflict": 1])
            guard case .commandRejected(let twin) = try await outcome(of: "ids-b-start") else {
                Issue.record("the second start with work session id twin was not rejected")
                return
            }
            #expect(twin.code == "conflict")
            #expect(twin.reason == "work session id twin is already used by spec task ids-a; choose another id")

            // With stored ids: the batch is decided again checking each command, with the same outcomes for the
            // others, earlier and later in the batch.
            let second = try await fixture.applier.apply(
                batch([("ids-d", ["d-1"]), ("ids-e", ["c-1"]), ("ids-f", ["twin-2"]), ("ids-g", ["twin-2"])]),
                generations: generations
            )
            #expect(second.rejected == 2)
            #expect(second.applied == 4 * 5 - 2)
            guard case .commandRejected(let stored) = try await outcome(of: "ids-e-start") else {
                Issue.record("the start reusing the stored work session id c-1 was not rejected")
                return
            }
            #expect(stored.reason == "work session id c-1 is already used by spec task ids-c; choose another id")
            guard case .commandRejected(let inBatch) = try await outcome(of: "ids-g-start") else {
                Issue.record("the second start with work session id twin-2 was not rejected")
                return
            }
            #expect(inBatch.code == "conflict")

            var sessions: [String: [String]] = [:]
            for task in ["ids-a", "ids-b", "ids-c", "ids-d", "ids-e", "ids-f", "ids-g"] {
                sessions[task] = try #require(try await fixture.load(task)).state.workSessions.map(\.id)
            }
            #expect(
                sessions == [
                    "ids-a": ["twin"], "ids-b": [], "ids-c": ["c-1"], "ids-d": ["d-1"], "ids-e": [],
                    "ids-f": ["twin-2"], "ids-g": [],
                ]
            )
            // Each command has exactly one outcome, though the second batch was decided twice.
            let outcomes = try await fixture.outbox().compactMap(\.status).filter {
                if case .commandApplied = $0 { return true }
                if case .commandRejected = $0 { return true }
                return false
            }
            #expect(outcomes.count == 7 * 5)
            #expect(try await fixture.count("SELECT count(*)::int8 FROM work_sessions") == 4)
        }
    }

    @Test("a malformed command and its corrected resend under the same id get outputs with distinct event ids")
    func correctedResendKeepsEventIDsUnique() async throws {
        try await StoreFixture.with { fixture in
            let partition = KafkaTopicPartition(topic: fixture.topics.commands, partition: 0)
            let generations = try await fixture.applier.claim([partition], owner: "worker")
            let task = "resend-task"
            _ = try await fixture.applier.apply(
                fixture.messages([("create", .create(CreateSpecTask(name: "Resend")))], task: task, partition: 0),
                generations: generations
            )
            // The id and subject are readable, the data is not valid: rejected, and not recorded in the inbox.
            let malformed = Array(
                #"{"specversion":"1.0","id":"fix-me","source":"t","type":"spectask.command.set_shared_context","subject":"\#(task)","data":{"key":7}}"#
                    .utf8
            )
            _ = try await fixture.applier.apply(
                [fixture.message(malformed, task: task, partition: 0, offset: 1)],
                generations: generations
            )
            let fixed = fixture.messages(
                [("fix-me", .setSharedContext(SetSharedContext(key: "k", value: "v")))],
                task: task,
                partition: 0,
                firstOffset: 2
            )
            let report = try await fixture.applier.apply(fixed, generations: generations)
            #expect(report.applied == 1)
            let outputs = try await fixture.outbox().filter { $0.event.correlationid == "fix-me" }
            #expect(outputs.contains { $0.event.type == "spectask.status.command_rejected" })
            #expect(outputs.contains { $0.event.type == "spectask.status.command_applied" })
            #expect(Set(outputs.map(\.event.id)).count == outputs.count, "\(outputs.map(\.event.id))")

        }
    }
}

// MARK: - Scripts

/// One command as sent: its id, its spec task and its bytes.
struct ScriptedCommand: Sendable {
    var id: String
    var task: String
    var command: SpecTaskCommand
    var bytes: [UInt8]

    init(id: String, task: String, command: SpecTaskCommand) {
        self.id = id
        self.task = task
        self.command = command
        bytes = CommandEncoder.encode(
            id: id,
            specTaskID: task,
            actor: "tests",
            source: "invariant-tests",
            command: command
        )
    }
}

/// Deterministic command sequences: a full lifecycle per spec task with illegal commands and resent duplicates.
enum Script {
    static let plans = [
        "1. Schema\n2. API\n3. UI\n",  // three independent tasks
        "## Task 1: Schema\n\n## Task 2: API\nDepends on: 1\n",
        "## Task 1: Schema\n## Task 2: API\nDepends on: 1\n## Task 3: UI\nDepends on: 1\n",
    ]

    /// The commands of one spec task in the order they are sent; `variant` picks the plan and the mistakes.
    static func commands(task: String, variant i: Int) -> [ScriptedCommand] {
        var list: [ScriptedCommand] = []
        var counter = 0
        @discardableResult
        func send(_ command: SpecTaskCommand) -> ScriptedCommand {
            counter += 1
            let scripted = ScriptedCommand(id: "\(task).\(counter)", task: task, command: command)
            list.append(scripted)
            return scripted
        }
        func resend(_ command: ScriptedCommand) { list.append(command) }

        let plan = plans[i % plans.count]
        let taskCount = plan.hasPrefix("1.") || plan.contains("Task 3") ? 3 : 2
        let dependent = !plan.hasPrefix("1.")
        let sessions = (1...taskCount).map { "\(task)-ws\($0)" }

        if i % 10 == 3 { send(.startPlanning(StartPlanning())) }  // before it exists: unknown_spec_task
        let create = send(.create(CreateSpecTask(name: "Task \(i)", maxConcurrentSessions: i % 6 == 5 ? 1 : nil)))
        if i % 4 == 0 { resend(create) }
        send(.startPlanning(StartPlanning()))
        send(.submitSpecs(SubmitSpecs(requirements: "R\(i)", design: "D\(i)", implementationPlan: plan)))
        if i % 5 == 1 {
            send(.requestChanges(RequestChanges(reviewer: "rita", comments: "again")))
            send(.submitSpecs(SubmitSpecs(requirements: "R\(i)b", design: "D\(i)b", implementationPlan: plan)))
        }
        let approve = send(.approveSpecs(ApproveSpecs(approver: "alice")))
        if i % 2 == 0 { send(.approveSpecs(ApproveSpecs(approver: "bob"))) }  // illegal: already approved
        let start = send(.startImplementation(StartImplementation(workSessionIDs: sessions)))
        if i % 7 == 2 { send(.approveImplementation(ApproveImplementation(approver: "eve"))) }  // too early
        if i % 11 == 5, dependent {
            // Task 2 waits on task 1: illegal now, legal later.
            send(.updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: sessions[1], status: .active)))
        }
        if i % 8 == 6 { send(.updateZedThread(UpdateZedThread(workSessionID: "\(task)-nobody", status: .active))) }
        if i % 3 == 0 { send(.setSharedContext(SetSharedContext(key: "owner", value: "team-\(i)"))) }
        if i % 13 == 0, i % 6 != 5 {
            let helper = "\(task)-helper"
            send(
                .spawnWorkSession(
                    SpawnWorkSession(parentWorkSessionID: sessions[0], name: "helper", workSessionID: helper)
                )
            )
            send(.updateZedThread(UpdateZedThread(workSessionID: helper, status: .active, progress: 50)))
            send(.updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: helper, status: .completed)))
        }
        for (n, session) in sessions.enumerated() {
            send(
                .updateZedThread(
                    UpdateZedThread(workSessionID: session, zedThreadExternalID: "zed-\(n)", status: .active)
                )
            )
            let done = send(
                .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: session, status: .completed))
            )
            if n == 0, i % 4 == 1 { resend(start) }
            if n == 0, i % 9 == 4 { send(done.command) }  // a new id: completed → completed is illegal
            if n == 1, i % 4 == 3 { resend(done) }
        }
        if i % 12 == 0 { send(.setSharedContext(SetSharedContext(key: "owner", value: nil))) }
        if i % 4 == 2 { resend(approve) }
        send(.approveImplementation(ApproveImplementation(approver: "lead")))
        if i % 10 == 7 { send(.archive(ArchiveSpecTask(archived: true))) }
        return list
    }

    /// One command of each task in turn.
    static func roundRobin(_ scripts: [[ScriptedCommand]]) -> [ScriptedCommand] {
        let longest = scripts.map(\.count).max() ?? 0
        return (0..<longest).flatMap { position in
            scripts.compactMap { $0.indices.contains(position) ? $0[position] : nil }
        }
    }
}

// MARK: - The sequential model

/// The same commands applied one by one, per task in send order, through `SpecTaskManager.decide`: what the
/// system must come to, whatever the batching, the number of workers or the crashes.
struct SequentialModel: Sendable {
    /// The state of each spec task, with the sequence number its next status event gets.
    var states: [String: StoredSpecTask] = [:]
    /// The outcome event of every distinct command id.
    var outcomes: [String: StatusEvent] = [:]
    /// Per task, its status events with their sequence numbers (0: the outcome of a command for a task that did
    /// not exist), in order.
    var statusEvents: [String: [(sequence: Int64, event: StatusEvent)]] = [:]
    /// Per task, the Zed commands in order.
    var zedCommands: [String: [ZedCommand]] = [:]
    var tasks: [String] = []
    var duplicatesSkipped = 0

    static let time = Date(timeIntervalSince1970: 1_750_000_000)
    static let context = DecisionContext(runnerToken: { Scenario.runnerTokens.token(for: $0) })

    init(_ commands: [ScriptedCommand]) {
        var handled: Set<String> = []
        for scripted in commands {
            if !tasks.contains(scripted.task) { tasks.append(scripted.task) }
            switch CommandDecoder.decode(scripted.bytes, appliedAt: Self.time) {
            case .failure(let rejection):
                let outcome = CommandOutcome(
                    commandID: scripted.id,
                    commandType: "unknown",
                    reason: rejection.message,
                    code: rejection.code.rawValue
                )
                outcomes[scripted.id] = .commandRejected(outcome)
                record(.commandRejected(outcome), task: scripted.task)
            case .success(let command):
                guard handled.insert(command.id).inserted else {
                    duplicatesSkipped += 1
                    continue
                }
                let task = command.specTaskID
                switch SpecTaskManager.decide(states[task]?.state, command, context: Self.context) {
                case .applied(let state, let emissions):
                    var stored = states[task] ?? StoredSpecTask(state: state)
                    stored.state = state
                    states[task] = stored
                    for emission in emissions {
                        switch emission {
                        case .status(let event):
                            if case .commandApplied = event { outcomes[command.id] = event }
                            record(event, task: task)
                        case .zed(let zedCommand): zedCommands[task, default: []].append(zedCommand)
                        case .coordination: break  // the model drives no Zed events
                        }
                    }
                case .rejected(let rejection):
                    let outcome = StatusEvent.commandRejected(
                        CommandOutcome(
                            commandID: command.id,
                            commandType: command.command.type,
                            reason: rejection.message,
                            code: rejection.code.rawValue
                        )
                    )
                    outcomes[command.id] = outcome
                    record(outcome, task: task)
                }
            }
        }
    }

    private mutating func record(_ event: StatusEvent, task: String) {
        let sequence: Int64
        if states[task] != nil {
            sequence = states[task]!.nextSequence
            states[task]!.nextSequence += 1
        } else {
            sequence = 0
        }
        statusEvents[task, default: []].append((sequence, event))
    }

    var statusEventCount: Int { statusEvents.values.map(\.count).reduce(0, +) }
    var zedCommandCount: Int { zedCommands.values.map(\.count).reduce(0, +) }

    /// The script exercises what it should: every task ends done, and there are rejections and duplicates.
    func expectInteresting(taskCount: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let notDone = tasks.filter { states[$0]?.state.task.status != .done }
        #expect(
            notDone.isEmpty,
            "the script leaves tasks unfinished: \(notDone.prefix(5))",
            sourceLocation: sourceLocation
        )
        #expect(tasks.count == taskCount, sourceLocation: sourceLocation)
        let rejected = outcomes.values.filter { if case .commandRejected = $0 { true } else { false } }
        #expect(rejected.count >= taskCount / 2, sourceLocation: sourceLocation)
        #expect(duplicatesSkipped >= taskCount / 2, sourceLocation: sourceLocation)
        #expect(statusEvents.values.contains { $0.contains { $0.sequence == 0 } }, sourceLocation: sourceLocation)
    }
}

// MARK: - Running and checking a scenario

enum Scenario {
    static let runnerTokens = RunnerTokens(
        secret: ProcessInfo.processInfo.environment["SPECTASK_RUNNER_SECRET"] ?? WorkerSettings.developmentRunnerSecret
    )

    /// A system of its own: a fresh database (so no other test's worker publishes its outbox, and a crash here
    /// republishes nothing of theirs), its own topics and group.
    static func withSystem(
        workers: Int = 1,
        extraWorkerArguments: [String] = [],
        adminPort: Int? = nil,
        _ body: @escaping @Sendable (SystemUnderTest, PostgresClient) async throws -> Void
    ) async throws {
        try await TestEnvironment.withFreshDatabase { client, database in
            let system = try await SystemUnderTest.start(
                workers: workers,
                extraWorkerArguments: extraWorkerArguments,
                environment: ["POSTGRES_URL": postgresURL(database)],
                adminPort: adminPort
            )
            do {
                try await body(system, client)
            } catch {
                let logs = system.workerProcesses.map { String($0.output.suffix(4000)) }.joined(separator: "\n---\n")
                Issue.record("worker output (tail):\n\(logs)")
                await system.stop()
                throw error
            }
            await system.stop()
        }
    }

    static func postgresURL(_ configuration: DatabaseConfiguration) -> String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = configuration.username
        components.password = configuration.password
        components.host = configuration.host
        components.port = configuration.port
        components.path = "/" + configuration.database
        components.queryItems =
            [URLQueryItem(name: "sslmode", value: configuration.tls.rawValue)]
            + (configuration.rootCertificatePath.map { [URLQueryItem(name: "sslrootcert", value: $0)] } ?? [])
        return components.string!
    }

    static func isOutcome(_ message: TopicListener.Message) -> Bool {
        switch message.status {
        case .commandApplied, .commandRejected: true
        default: false
        }
    }

    /// Waits until at least `count` of these command ids have an outcome; returns how many have one.
    static func waitForOutcomes(in system: SystemUnderTest, of ids: Set<String>, atLeast count: Int) async throws -> Int
    {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let seen = Set(system.status.messages.filter(isOutcome).compactMap(\.event.correlationid)).intersection(ids)
            if seen.count >= count { return seen.count }
            guard ContinuousClock.now < deadline else {
                throw TimedOut(what: "waiting for \(count) outcomes; got \(seen.count)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until every command has an outcome and as many distinct status events and Zed commands arrived as
    /// the model emits.
    static func waitForAllOutputs(of model: SequentialModel, in system: SystemUnderTest) async throws {
        _ = try await waitForOutcomes(in: system, of: Set(model.outcomes.keys), atLeast: model.outcomes.count)
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let statusCount = Set(system.status.messages.map(\.event.id)).count
            let zedCount = Set(system.zedCommands.messages.map(\.event.id)).count
            if statusCount >= model.statusEventCount, zedCount >= model.zedCommandCount { return }
            guard ContinuousClock.now < deadline else {
                throw TimedOut(
                    what: "waiting for \(model.statusEventCount) status events and \(model.zedCommandCount) Zed "
                        + "commands; got \(statusCount) and \(zedCount)"
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Compares everything the system published and stored with the model, ignoring timestamps (the worker
    /// applies under its own clock). `deduplicate`: drop republished copies (same CloudEvent id) first, as an
    /// at-least-once consumer does.
    static func verify(
        _ system: SystemUnderTest,
        against model: SequentialModel,
        client: PostgresClient,
        deduplicate: Bool
    ) async throws {
        func unique(_ messages: [TopicListener.Message]) -> [TopicListener.Message] {
            guard deduplicate else { return messages }
            var seen: Set<String> = []
            return messages.filter { seen.insert($0.event.id).inserted }
        }
        let statusMessages = unique(system.status.messages)
        var problems: [String] = []

        // Exactly one outcome per distinct command id, and the model's.
        let outcomes = Dictionary(grouping: statusMessages.filter(isOutcome)) { $0.event.correlationid ?? "" }
        for (id, expected) in model.outcomes {
            let got = outcomes[id] ?? []
            if got.count != 1 {
                problems.append("command \(id): \(got.count) outcomes")
            } else if got[0].status.map(Normalize.event) != Normalize.event(expected) {
                problems.append("command \(id): outcome \(String(describing: got[0].status)), expected \(expected)")
            }
        }
        #expect(Set(outcomes.keys) == Set(model.outcomes.keys), "outcomes for commands never sent")

        // Per task: sequences 1…n without gaps or repeats, in order, and the model's events.
        let byTask = Dictionary(grouping: statusMessages) { $0.event.subject ?? "" }
        let zedByTask = Dictionary(grouping: unique(system.zedCommands.messages)) { $0.event.subject ?? "" }
        let stored = try await client.withConnection {
            try await SpecTaskRepository(logger: TestEnvironment.logger).load(model.tasks, on: $0)
        }
        for task in model.tasks {
            let messages = byTask[task] ?? []
            let sequenced = messages.filter { ($0.event.spectasksequence ?? 0) > 0 }
            let sequences = sequenced.compactMap(\.event.spectasksequence)
            let expected = (model.statusEvents[task] ?? []).filter { $0.sequence > 0 }
            if sequences != Array(1...Int64(max(expected.count, 1))).prefix(expected.count).map({ $0 }) {
                problems.append("task \(task): sequences in arrival order \(sequences), expected 1…\(expected.count)")
            } else if sequenced.map({ $0.status.map(Normalize.event) }) != expected.map({ Normalize.event($0.event) }) {
                let first = zip(sequenced, expected).first {
                    $0.status.map(Normalize.event) != Normalize.event($1.event)
                }
                problems.append(
                    "task \(task): status events differ from the model, first at \(String(describing: first))"
                )
            }
            let unsequenced = messages.filter { $0.event.spectasksequence == 0 }.compactMap(\.status).map(
                Normalize.event
            )
            let expectedUnsequenced = (model.statusEvents[task] ?? []).filter { $0.sequence == 0 }.map {
                Normalize.event($0.event)
            }
            if unsequenced != expectedUnsequenced {
                problems.append("task \(task): sequence-0 outcomes \(unsequenced), expected \(expectedUnsequenced)")
            }

            let zed = (zedByTask[task] ?? []).compactMap { try? EventDecoder.decodeZedCommand($0.raw.value).1 }
            if zed != model.zedCommands[task] ?? [] {
                problems.append(
                    "task \(task): Zed commands \(zed.map(\.type)), expected \(model.zedCommands[task]?.map(\.type) ?? [])"
                )
            }

            guard let state = stored[task], let expectedState = model.states[task] else {
                problems.append("task \(task): not in the database")
                continue
            }
            let differences = Normalize.differences(state.state, expectedState.state)
            if !differences.isEmpty {
                problems.append(
                    "task \(task): stored state differs from the model: \(differences.joined(separator: "; "))"
                )
            }
            if state.nextSequence != expectedState.nextSequence {
                problems.append(
                    "task \(task): next sequence \(state.nextSequence), expected \(expectedState.nextSequence)"
                )
            }
        }
        #expect(
            problems.isEmpty,
            "\(problems.count) problems; the first ones:\n\(problems.prefix(8).joined(separator: "\n"))"
        )
    }

    static func statusEvents(_ system: SystemUnderTest, task: String) -> [TopicListener.Message] {
        system.status.messages.filter { $0.event.subject == task && $0.status != nil }
            .sorted { ($0.event.spectasksequence ?? 0) < ($1.event.spectasksequence ?? 0) }
    }

    /// Work sessions whose thread the runner was asked to create, in order, each once (republished copies dropped).
    static func threadsRequested(_ system: SystemUnderTest, task: String) -> [String] {
        var seen: Set<String> = []
        return system.zedCommands.messages.filter { $0.event.subject == task && seen.insert($0.event.id).inserted }
            .compactMap { message -> String? in
                guard case .createThread(let command)? = try? EventDecoder.decodeZedCommand(message.raw.value).1 else {
                    return nil
                }
                return command.workSessionID
            }
    }
}

/// Timestamps set to one value (present or absent as they were), so states and events compare across clocks.
enum Normalize {
    static let zero = Date(timeIntervalSince1970: 0)

    static func date(_ date: Date?) -> Date? { date.map { _ in zero } }

    static func task(_ task: SpecTask) -> SpecTask {
        var task = task
        task.createdAt = zero
        task.updatedAt = zero
        task.approvedAt = date(task.approvedAt)
        return task
    }

    static func session(_ session: WorkSession) -> WorkSession {
        var session = session
        session.createdAt = zero
        session.updatedAt = zero
        session.startedAt = date(session.startedAt)
        session.completedAt = date(session.completedAt)
        return session
    }

    static func thread(_ thread: ZedThread) -> ZedThread {
        var thread = thread
        thread.lastActivityAt = date(thread.lastActivityAt)
        return thread
    }

    static func instance(_ instance: ZedInstance) -> ZedInstance {
        var instance = instance
        instance.lastHeartbeatAt = date(instance.lastHeartbeatAt)
        instance.createdAt = date(instance.createdAt)
        return instance
    }

    static func claim(_ claim: PathClaim) -> PathClaim {
        var claim = claim
        claim.claimedAt = zero
        claim.grantedAt = date(claim.grantedAt)
        return claim
    }

    static func state(_ state: SpecTaskState) -> SpecTaskState {
        var state = state
        state.pathClaims = state.pathClaims.map(claim)
        state.task = task(state.task)
        state.workSessions = state.workSessions.map(session)
        state.zedThreads = state.zedThreads.map(thread)
        state.zedInstance = state.zedInstance.map(instance)
        state.sharedContext = state.sharedContext.map {
            var entry = $0
            entry.updatedAt = zero
            return entry
        }
        return state
    }

    /// What differs between two states, timestamps aside, part by part ("" when they are equal).
    static func differences(_ actual: SpecTaskState, _ expected: SpecTaskState) -> [String] {
        let (actual, expected) = (state(actual), state(expected))
        var found: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T) {
            if a != b { found.append("\(name): \(a) ≠ expected \(b)") }
        }
        compare("task", actual.task, expected.task)
        compare("implementation tasks", actual.implementationTasks, expected.implementationTasks)
        compare("work sessions", actual.workSessions, expected.workSessions)
        compare("Zed threads", actual.zedThreads, expected.zedThreads)
        compare("Zed instance", actual.zedInstance, expected.zedInstance)
        compare("shared context", actual.sharedContext, expected.sharedContext)
        compare("thread progress", actual.threadProgress, expected.threadProgress)
        compare("path claims", actual.pathClaims, expected.pathClaims)
        if found.isEmpty, actual != expected { found.append("\(actual) ≠ expected \(expected)") }
        return found
    }

    static func progress(_ snapshot: ProgressSnapshot) -> ProgressSnapshot {
        var snapshot = snapshot
        snapshot.lastActivityAt = date(snapshot.lastActivityAt)
        return snapshot
    }

    static func event(_ event: StatusEvent) -> StatusEvent {
        switch event {
        case .specTaskChanged(var change):
            change.specTask = task(change.specTask)
            return .specTaskChanged(change)
        case .workSessionChanged(var change):
            change.workSession = session(change.workSession)
            return .workSessionChanged(change)
        case .zedThreadChanged(var change):
            change.zedThread = thread(change.zedThread)
            return .zedThreadChanged(change)
        case .zedInstanceChanged(var change):
            change.zedInstance = instance(change.zedInstance)
            return .zedInstanceChanged(change)
        case .pathClaimChanged(var change):
            change.pathClaim = claim(change.pathClaim)
            return .pathClaimChanged(change)
        case .commandApplied, .commandRejected, .implementationTaskChanged, .sharedContextChanged:
            return event
        }
    }
}

// MARK: - Store-level fixture

/// A migrated database of its own and a `BatchApplier` for made-up topics; messages are built by hand.
struct StoreFixture: Sendable {
    let client: PostgresClient
    let topics: WorkerTopics
    let applier: BatchApplier

    static func with(_ body: @escaping @Sendable (StoreFixture) async throws -> Void) async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            try await MigrationRunner(
                client: client,
                migrations: try Migration.bundled(),
                logger: TestEnvironment.logger
            )
            .run()
            let topics = WorkerTopics(prefix: TestEnvironment.unique("store") + ".")
            let applier = BatchApplier(
                client: client,
                topics: topics,
                group: TestEnvironment.unique("group"),
                runnerTokens: Scenario.runnerTokens,
                logger: TestEnvironment.logger
            )
            try await body(StoreFixture(client: client, topics: topics, applier: applier))
        }
    }

    /// The fencing failure an error of `BatchApplier.apply` is, if it is one.
    static func fencing(_ error: (any Error)?) -> ConsumerOffsetStore.Fenced? {
        error as? ConsumerOffsetStore.Fenced
    }

    func message(
        _ value: [UInt8],
        task: String,
        partition: Int32,
        offset: Int64,
        topic: String? = nil
    ) -> KafkaConsumerMessage {
        KafkaConsumerMessage(
            topic: topic ?? topics.commands,
            partition: partition,
            offset: offset,
            key: Array(task.utf8),
            value: value,
            headers: [],
            timestampMilliseconds: nil
        )
    }

    func messages(
        _ commands: [(id: String, command: SpecTaskCommand)],
        task: String,
        partition: Int32,
        firstOffset: Int64 = 0
    ) -> [KafkaConsumerMessage] {
        commands.enumerated().map { position, entry in
            message(
                CommandEncoder.encode(id: entry.id, specTaskID: task, source: "tests", command: entry.command),
                task: task,
                partition: partition,
                offset: firstOffset + Int64(position)
            )
        }
    }

    /// Create → approved specs with this plan.
    func approvedCommands(task: String, plan: String) -> [(id: String, command: SpecTaskCommand)] {
        [
            ("\(task)-create", .create(CreateSpecTask(name: task))),
            ("\(task)-plan", .startPlanning(StartPlanning())),
            ("\(task)-specs", .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: plan))),
            ("\(task)-approve", .approveSpecs(ApproveSpecs(approver: "alice"))),
        ]
    }

    func count(_ sql: String) async throws -> Int {
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
            .decode(Int.self)
        {
            return value
        }
        return -1
    }

    func load(_ task: String) async throws -> StoredSpecTask? {
        try await client.withConnection {
            try await SpecTaskRepository(logger: TestEnvironment.logger).load([task], on: $0)[task]
        }
    }

    /// The outbox rows, decoded as the relay would publish them.
    func outbox() async throws -> [(event: CloudEvent, status: StatusEvent?)] {
        var rows: [(CloudEvent, StatusEvent?)] = []
        for try await payload in try await client.query(
            "SELECT payload FROM outbox ORDER BY id",
            logger: TestEnvironment.logger
        ).decode(ByteBuffer.self) {
            rows.append(try EventDecoder.decode(Array(buffer: payload)))
        }
        return rows
    }

    /// Returns once `waiters` transactions wait for a lock in this database (30 s at most).
    func waitForLockWaiters(_ waiters: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await count(
            "SELECT count(*)::int8 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ) < waiters {
            guard ContinuousClock.now < deadline else {
                throw TimedOut(what: "waiting for \(waiters) transactions to wait on a lock")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` while another transaction holds the row lock of `task`, releasing it once `waiters`
    /// transactions wait for a lock in this database.
    func whileHoldingRowLock<T: Sendable>(
        of task: String,
        waiters: Int,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let (locked, lockedContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                try await connection.query(
                    "SELECT id FROM spec_tasks WHERE id = \(task) FOR UPDATE",
                    logger: TestEnvironment.logger
                )
                lockedContinuation.yield()
                for await _ in release { break }
            }
        }
        for await _ in locked { break }
        let work = Task { try await body() }
        defer { releaseContinuation.finish() }
        try await waitForLockWaiters(waiters)
        releaseContinuation.finish()
        try await holder.value
        return try await work.value
    }
}
