import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// The Zed side end to end: runner events on `zed.events` through real worker processes, the state they leave
/// in PostgreSQL, and what the worker tells runners on `zed.commands`.
@Suite("Zed integration through the topics", .serialized)
struct ZedIntegrationTests {
    static let twoTasks = "## Task 1: Schema\n\n## Task 2: API\n"
    static let threeTasks = "## Task 1: Schema\n\n## Task 2: API\n\n## Task 3: UI\n"

    /// Every thread of the task reported created (active), as a runner does first.
    static func createThreads(
        _ system: SystemUnderTest,
        _ task: String,
        _ instance: CreateZedInstance,
        sessions: [String]
    ) async throws {
        try await system.sendZedEvent(
            .instanceReady(ZedInstanceReady(instanceID: instance.instanceID)),
            task: task,
            token: instance.runnerToken
        )
        for session in sessions {
            try await system.sendZedEvent(
                .threadCreated(
                    ZedThreadCreated(
                        instanceID: instance.instanceID,
                        workSessionID: session,
                        zedThreadExternalID: "zed-\(session)"
                    )
                ),
                task: task,
                token: instance.runnerToken
            )
        }
        // Created (and so active at that moment): with a short heartbeat timeout, "active" may last only a moment,
        // and a loaded machine can miss it between two polls.
        _ = try await system.waitForState(of: task, "every thread created") { state in
            sessions.allSatisfy { session in
                state.zedThreads.first { $0.workSessionID == session }?.zedThreadExternalID == "zed-\(session)"
            }
        }
    }

    @Test("a missing, forged or borrowed runner token is rejected to spectask.rejected and changes nothing")
    func runnerTokens() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let (task, instance, sessions) = try await system.implementing(plan: Self.twoTasks)
        let (other, otherInstance, otherSessions) = try await system.implementing(plan: Self.twoTasks)
        let before = try await system.state(of: task)

        let created = ZedEvent.threadCreated(
            ZedThreadCreated(instanceID: instance.instanceID, workSessionID: sessions[0], zedThreadExternalID: "evil")
        )
        let missing = try await system.sendZedEvent(created, task: task, token: nil)
        let forged = try await system.sendZedEvent(created, task: task, token: String(repeating: "0", count: 64))
        // The other task's runner presents its own (valid) token for an instance that is not its own.
        let borrowed = try await system.sendZedEvent(created, task: task, token: otherInstance.runnerToken)
        // … or names its own instance while addressing this task …
        let foreignInstance = try await system.sendZedEvent(
            .threadCreated(
                ZedThreadCreated(
                    instanceID: otherInstance.instanceID,
                    workSessionID: sessions[0],
                    zedThreadExternalID: "evil"
                )
            ),
            task: task,
            token: otherInstance.runnerToken
        )
        // … or addresses its own task with a work session of this one.
        let foreignSession = try await system.sendZedEvent(
            .threadStatusChanged(
                ZedThreadStatusChanged(
                    instanceID: otherInstance.instanceID,
                    workSessionID: sessions[1],
                    status: .failed
                )
            ),
            task: other,
            token: otherInstance.runnerToken
        )

        #expect(try await system.rejection(of: missing).code == "unauthenticated")
        #expect(try await system.rejection(of: forged).code == "unauthenticated")
        let borrowedRecord = try await system.rejection(of: borrowed)
        #expect(borrowedRecord.code == "unauthenticated")
        #expect(borrowedRecord.reason.contains(instance.instanceID))
        #expect(try await system.rejection(of: foreignInstance).code == "unknown_zed_instance")
        let foreignRecord = try await system.rejection(of: foreignSession)
        #expect(foreignRecord.code == "unknown_work_session")
        // The rejected records keep the original bytes, except the runner's credential.
        for eventID in [borrowed, foreignInstance, foreignSession] {
            let original = try #require(try await system.rejection(of: eventID).original)
            #expect(!String(decoding: original, as: UTF8.self).contains(otherInstance.runnerToken))
            #expect(String(decoding: original, as: UTF8.self).contains(eventID))
        }

        // Nothing changed, in either task; the same event with the right token is applied.
        #expect(try await system.state(of: task) == before)
        #expect(try await system.state(of: other).zedThreads.allSatisfy { $0.status == .pending })
        try await system.sendZedEvent(created, task: task, token: instance.runnerToken)
        let after = try await system.waitForState(of: task, "the thread created") {
            $0.zedThreads.first { $0.workSessionID == sessions[0] }?.status == .active
        }
        #expect(after.zedThreads.first { $0.workSessionID == sessions[0] }?.zedThreadExternalID == "evil")
        #expect(try await system.expectOutputsConform().contains("spectask.rejected.input"))
        _ = otherSessions
    }

    @Test("heartbeat timeout: ready → disconnected → recovered by a heartbeat → disconnected → failed, sessions follow")
    func heartbeatTimeouts() async throws {
        // Two workers, so two sweepers race for every timeout: each transition must still happen once. The recovering
        // heartbeat must be applied between "disconnected" (1.5 s of silence) and "failed" (8 s): a window wide enough
        // for a test machine that stalls for seconds (4 s left 2.5 s, which a loaded 2-core machine can miss).
        let system = try await SystemUnderTest.start(
            workers: 2,
            environment: [
                "SPECTASK_HEARTBEAT_TIMEOUT": "1500ms", "SPECTASK_HEARTBEAT_FAIL_AFTER": "8s",
                "SPECTASK_SWEEP_INTERVAL": "100ms",
            ]
        )
        defer { Task { await system.stop() } }
        let (task, instance, sessions) = try await system.implementing(plan: Self.twoTasks)
        try await Self.createThreads(system, task, instance, sessions: sessions)

        // Silence: disconnected, threads too; sessions wait.
        var state = try await system.waitForState(of: task, "the instance disconnected") {
            $0.zedInstance?.status == .disconnected
        }
        #expect(state.zedThreads.allSatisfy { $0.status == .disconnected })
        #expect(state.workSessions.allSatisfy { $0.status == .active })

        // A heartbeat recovers instance and threads.
        try await system.sendZedEvent(
            .heartbeat(ZedHeartbeat(instanceID: instance.instanceID, cpuPercent: 12, memoryMB: 300, uptimeSeconds: 9)),
            task: task,
            token: instance.runnerToken
        )
        state = try await system.waitForState(of: task, "the instance recovered") { $0.zedInstance?.status == .ready }
        #expect(state.zedThreads.allSatisfy { $0.status == .active })
        #expect(state.zedInstance?.resources == ResourceUsage(cpuPercent: 12, memoryMB: 300, uptimeSeconds: 9))

        // Silence again, long enough to fail: sessions and threads fail, the spec task cannot go on.
        state = try await system.waitForState(of: task, "the instance failed") { $0.zedInstance?.status == .failed }
        #expect(state.zedThreads.allSatisfy { $0.status == .failed })
        #expect(state.workSessions.allSatisfy { $0.status == .failed })
        #expect(state.task.status == .implementationFailed)
        #expect(state.zedInstance?.lastError?.contains("no heartbeat") == true)

        // Each transition was announced exactly once, even with two sweepers: wait for the last announcement (the
        // sessions' failures), then give a second sweeper's duplicate, if any, time to show.
        _ = try await system.status.waitForCount(2, timeout: .seconds(30), "the sessions' failures") { message in
            guard message.event.subject == task, case .workSessionChanged(let change) = message.status else {
                return false
            }
            return change.to == .failed
        }
        try await Task.sleep(for: .seconds(1))
        let instanceChanges = system.status.messages.filter { $0.event.subject == task }.compactMap { message in
            if case .zedInstanceChanged(let change) = message.status, let from = change.from, from != change.to {
                return "\(from.rawValue)→\(change.to.rawValue)"
            }
            return nil
        }
        #expect(
            instanceChanges == [
                "pending→ready", "ready→disconnected", "disconnected→ready", "ready→disconnected",
                "disconnected→failed",
            ]
        )
        let sessionFailures = system.status.messages.filter { message in
            guard message.event.subject == task, case .workSessionChanged(let change) = message.status else {
                return false
            }
            return change.to == .failed && change.reason?.contains("no heartbeat") == true
        }
        #expect(sessionFailures.count == 2)
        WorkflowTests.expectGapFreeSequence(system, task: task)

        // A runner that comes back recovers the instance; failed sessions stay failed (retry is a decision).
        try await system.sendZedEvent(
            .heartbeat(ZedHeartbeat(instanceID: instance.instanceID)),
            task: task,
            token: instance.runnerToken
        )
        state = try await system.waitForState(of: task, "the failed instance recovered") {
            $0.zedInstance?.status == .ready
        }
        #expect(state.workSessions.allSatisfy { $0.status == .failed })
    }

    @Test("an instance no runner answers fails once with two sweepers; a retry opens a new one that a runner answers")
    func instanceReadyTimeout() async throws {
        // Two workers, so two sweepers race for the timeout: it must still fire once.
        let system = try await SystemUnderTest.start(
            workers: 2,
            environment: ["SPECTASK_INSTANCE_READY_TIMEOUT": "3s", "SPECTASK_SWEEP_INTERVAL": "100ms"]
        )
        defer { Task { await system.stop() } }
        let (task, instance, sessions) = try await system.implementing(plan: Self.twoTasks)

        // No runner answers: the instance fails, and its sessions with it.
        var state = try await system.waitForState(of: task, "the instance failed") { $0.zedInstance?.status == .failed }
        #expect(state.zedInstance?.lastError?.hasPrefix("no instance_ready from its runner within") == true)
        _ = try await system.status.waitForCount(2, timeout: .seconds(30), "the sessions' failures") { message in
            guard message.event.subject == task, case .workSessionChanged(let change) = message.status else {
                return false
            }
            return change.to == .failed
        }
        state = try await system.state(of: task)
        #expect(state.workSessions.map(\.status) == [.failed, .failed])
        #expect(state.task.status == .implementationFailed)

        // A retry opens a new instance with a token of its own, and asks for the retry's thread in it.
        let retried = try await system.apply(
            .retryWorkSession(RetryWorkSession(workSessionID: sessions[0])),
            task: task
        )
        let newID = try #require(retried.created.zedInstanceID)
        let retry = try #require(retried.created.workSessionIDs.first)
        let replacement = try await system.createdInstance(of: task, instanceID: newID)
        #expect(newID != instance.instanceID && replacement.runnerToken != instance.runnerToken)
        // A runner answers the new instance (before its own ready timeout) and opens the thread.
        try await Self.createThreads(system, task, replacement, sessions: [retry])
        let thread = try await system.zedCommands.wait(timeout: .seconds(30), "create_thread of \(retry)") {
            $0.event.subject == task && $0.event.type == "zed.command.create_thread"
                && (try? EventDecoder.decodeZedCommand($0.raw.value).1).map {
                    if case .createThread(let create) = $0 {
                        create.workSessionID == retry && create.instanceID == newID
                    } else {
                        false
                    }
                } == true
        }
        #expect(thread.raw.key == Array(newID.utf8), "zed.commands are keyed by the instance")

        // The old instance's runner is turned away.
        let stale = try await system.sendZedEvent(
            .heartbeat(ZedHeartbeat(instanceID: instance.instanceID)),
            task: task,
            token: instance.runnerToken
        )
        #expect(try await system.rejection(of: stale).code == "unknown_zed_instance")
        state = try await system.state(of: task)
        #expect(state.zedInstance?.id == newID && state.zedInstance?.status == .ready)

        // The failure was announced once, and the old runner told to stop.
        try await Task.sleep(for: .seconds(1))
        let instanceChanges = system.status.messages.filter { $0.event.subject == task }.compactMap { message in
            if case .zedInstanceChanged(let change) = message.status, let from = change.from, from != change.to {
                return "\(change.zedInstance.id):\(from.rawValue)→\(change.to.rawValue)"
            }
            return nil
        }
        #expect(instanceChanges == ["\(instance.instanceID):pending→failed", "\(newID):pending→ready"])
        let stops = system.zedCommandsSent(for: task).filter {
            if case .stopInstance(let stop) = $0 { stop.instanceID == instance.instanceID } else { false }
        }
        #expect(stops.count == 1)
        WorkflowTests.expectGapFreeSequence(system, task: task)
        try await system.expectOutputsConform()
    }

    @Test(
        "coordination: a message reaches its thread, a reply its sender, a broadcast every other thread of the task only"
    )
    func coordination() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let (task, instance, sessions) = try await system.implementing(plan: Self.threeTasks)
        let (other, otherInstance, otherSessions) = try await system.implementing(plan: Self.twoTasks)
        try await Self.createThreads(system, task, instance, sessions: sessions)
        try await Self.createThreads(system, other, otherInstance, sessions: otherSessions)

        func send(_ message: ZedCoordinationMessage) async throws {
            try await system.sendZedEvent(.coordinationMessage(message), task: task, token: instance.runnerToken)
        }
        try await send(
            ZedCoordinationMessage(
                instanceID: instance.instanceID,
                fromWorkSessionID: sessions[0],
                toWorkSessionID: sessions[1],
                kind: .request,
                message: "Which table holds the password hashes?"
            )
        )
        let request = try await system.zedCommands.wait(timeout: .seconds(60), "the request delivered") {
            $0.event.subject == task && $0.event.type == "zed.command.deliver_message"
        }
        guard case .deliverMessage(let delivered) = try EventDecoder.decodeZedCommand(request.raw.value).1 else {
            Issue.record("not a deliver_message: \(request.event)")
            return
        }
        let state = try await system.state(of: task)
        #expect(delivered.workSessionID == sessions[1])
        #expect(delivered.threadID == state.zedThreads.first { $0.workSessionID == sessions[1] }?.id)
        #expect(delivered.fromWorkSessionID == sessions[0])
        #expect(delivered.kind == .request && !delivered.isBroadcast)
        #expect(request.raw.key == Array(instance.instanceID.utf8))

        try await send(
            ZedCoordinationMessage(
                instanceID: instance.instanceID,
                fromWorkSessionID: sessions[1],
                toWorkSessionID: sessions[0],
                kind: .response,
                message: "credentials",
                replyTo: delivered.messageID
            )
        )
        try await send(
            ZedCoordinationMessage(
                instanceID: instance.instanceID,
                fromWorkSessionID: sessions[0],
                kind: .broadcast,
                message: "Schema is merged."
            )
        )
        let deliveries = try await system.zedCommands.waitForCount(4, timeout: .seconds(60), "four deliveries") {
            $0.event.type == "zed.command.deliver_message"
        }
        let messages = deliveries.compactMap { message -> DeliverCoordinationMessage? in
            if case .deliverMessage(let delivery)? = try? EventDecoder.decodeZedCommand(message.raw.value).1 {
                return delivery
            }
            return nil
        }
        #expect(messages.allSatisfy { $0.specTaskID == task && $0.instanceID == instance.instanceID })
        let response = try #require(messages.first { $0.kind == .response })
        #expect(response.workSessionID == sessions[0] && response.replyTo == delivered.messageID)
        let broadcast = messages.filter { $0.kind == .broadcast }
        #expect(Set(broadcast.map(\.workSessionID)) == [sessions[1], sessions[2]])
        #expect(broadcast.allSatisfy(\.isBroadcast) && Set(broadcast.map(\.messageID)).count == 1)

        // The log has all three, in order; the other task has none and got no delivery.
        let log = try await TestEnvironment.withClient(try system.database) { client in
            try await CoordinationLogStore(logger: TestEnvironment.logger).entries(of: task, client: client)
        }
        #expect(log.map(\.kind) == [.request, .response, .broadcast])
        #expect(log.map(\.toWorkSessionID) == [sessions[1], sessions[0], nil])
        #expect(log[1].replyTo == log[0].id)
        let otherLog = try await TestEnvironment.withClient(try system.database) { client in
            try await CoordinationLogStore(logger: TestEnvironment.logger).entries(of: other, client: client)
        }
        #expect(otherLog.isEmpty)
        #expect(!system.zedCommandsSent(for: other).contains { if case .deliverMessage = $0 { true } else { false } })
        #expect(try await system.expectOutputsConform().contains("zed.command.deliver_message"))
    }

    @Test("a spawn requested by a thread creates a child session and its thread, and the runner is asked to open it")
    func spawnRequest() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let (task, instance, sessions) = try await system.implementing(plan: Self.twoTasks)
        try await Self.createThreads(system, task, instance, sessions: sessions)
        let child = TestEnvironment.unique("child")
        try await system.sendZedEvent(
            .spawnRequested(
                ZedSpawnRequested(
                    instanceID: instance.instanceID,
                    workSessionID: sessions[0],
                    name: "Write the migration tests",
                    implementationTaskIndex: 1,
                    initialPrompt: "Test every migration both ways.",
                    newWorkSessionID: child
                )
            ),
            task: task,
            token: instance.runnerToken
        )
        let state = try await system.waitForState(of: task, "the child session") {
            $0.workSessions.contains { $0.id == child }
        }
        let session = try #require(state.workSessions.first { $0.id == child })
        #expect(session.parentWorkSessionID == sessions[0] && session.spawnedByWorkSessionID == sessions[0])
        #expect(session.status == .active && session.implementationTaskIndex == 1)
        let thread = try #require(state.zedThreads.first { $0.workSessionID == child })
        let request = try await system.zedCommands.wait(timeout: .seconds(60), "create_thread of the child") {
            guard case .createThread(let create)? = try? EventDecoder.decodeZedCommand($0.raw.value).1 else {
                return false
            }
            return create.workSessionID == child
        }
        guard case .createThread(let create) = try EventDecoder.decodeZedCommand(request.raw.value).1 else { return }
        #expect(create.threadID == thread.id && create.instanceID == instance.instanceID)
        #expect(create.initialPrompt == "Test every migration both ways.")
    }

    @Test("stopping the instance (command, or the runner reporting it) closes every thread and session below it")
    func instanceStopCleansUp() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }

        // By command: the runner is told to stop each thread and the instance.
        let (task, instance, sessions) = try await system.implementing(plan: Self.twoTasks)
        try await Self.createThreads(system, task, instance, sessions: sessions)
        try await system.apply(.stopZedInstance(StopZedInstance(reason: "user closed the editor")), task: task)
        let state = try await system.state(of: task)
        #expect(state.zedInstance?.status == .stopped)
        #expect(state.workSessions.allSatisfy { $0.status == .cancelled })
        #expect(state.zedThreads.allSatisfy { $0.status == .failed })
        #expect(state.implementationTasks.allSatisfy { $0.status == .blocked })
        _ = try await system.zedCommands.waitForCount(3, timeout: .seconds(30), "stop commands") {
            $0.event.subject == task
                && ["zed.command.stop_thread", "zed.command.stop_instance"].contains($0.event.type)
        }
        let stoppedThreads = system.zedCommandsSent(for: task).compactMap { command -> String? in
            if case .stopThread(let stop) = command { return stop.threadID }
            return nil
        }
        #expect(Set(stoppedThreads) == Set(state.zedThreads.map(\.id)))
        // The runner confirming it changes nothing more; an activity afterwards is refused.
        try await system.sendZedEvent(
            .instanceStopped(ZedInstanceStopped(instanceID: instance.instanceID)),
            task: task,
            token: instance.runnerToken
        )
        let late = try await system.sendZedEvent(
            .threadActivity(
                ZedThreadActivity(instanceID: instance.instanceID, workSessionID: sessions[0], kind: .codeEdit)
            ),
            task: task,
            token: instance.runnerToken
        )
        #expect(try await system.rejection(of: late).code == "illegal_transition")
        #expect(try await system.state(of: task) == state)

        // By the runner: the same cleanup.
        let (reported, reportedInstance, reportedSessions) = try await system.implementing(plan: Self.twoTasks)
        try await Self.createThreads(system, reported, reportedInstance, sessions: reportedSessions)
        try await system.sendZedEvent(
            .instanceStopped(ZedInstanceStopped(instanceID: reportedInstance.instanceID, reason: "machine shut down")),
            task: reported,
            token: reportedInstance.runnerToken
        )
        let closed = try await system.waitForState(of: reported, "the instance stopped") {
            $0.zedInstance?.status == .stopped
        }
        #expect(closed.workSessions.allSatisfy { $0.status == .cancelled })
        #expect(closed.zedThreads.allSatisfy { $0.status == .failed })
    }

    @Test(
        "usage sums match the activity events exactly, also when events are delivered twice; a budget stops new sessions until raised"
    )
    func usageAndBudget() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        // One session at a time: the second waits for a slot, which is where the budget shows.
        let (task, instance, sessions) = try await system.implementing(plan: Self.twoTasks, maxConcurrentSessions: 1)
        try await Self.createThreads(system, task, instance, sessions: [sessions[0]])
        try await system.apply(.setBudget(SetBudget(maxTokens: 5_000)), task: task)

        var generator = SystemRandomNumberGenerator()
        var expected = Usage()
        for step in 1...30 {
            let activity = ZedThreadActivity(
                instanceID: instance.instanceID,
                workSessionID: sessions[0],
                kind: .codeEdit,
                filesChanged: Int.random(in: 0...3, using: &generator),
                linesAdded: Int.random(in: 0...80, using: &generator),
                linesRemoved: Int.random(in: 0...20, using: &generator),
                testsRun: 2,
                testsPassed: 1,
                progress: min(99, step * 3),
                tokensIn: 200 + Int.random(in: 0...200, using: &generator),
                tokensOut: Int.random(in: 0...100, using: &generator),
                costMicros: Int.random(in: 0...5_000, using: &generator)
            )
            expected =
                expected
                + Usage(
                    activities: 1,
                    filesChanged: activity.filesChanged!,
                    linesAdded: activity.linesAdded!,
                    linesRemoved: activity.linesRemoved!,
                    testsRun: 2,
                    testsPassed: 1,
                    tokensIn: activity.tokensIn!,
                    tokensOut: activity.tokensOut!,
                    costMicros: activity.costMicros!
                )
            // Every event twice (a producer retry, a runner resending): counted once.
            let id = "activity-\(task)-\(step)"
            for _ in 0..<2 {
                try await system.sendZedEvent(
                    .threadActivity(activity),
                    task: task,
                    token: instance.runnerToken,
                    id: id
                )
            }
        }
        let state = try await system.waitForState(of: task, "30 activities counted") {
            ($0.zedThreads.first { $0.workSessionID == sessions[0] }?.usage?.activities ?? 0) >= 30
        }
        try await Task.sleep(for: .seconds(1))  // let any (wrong) second counting of the duplicates show
        let thread = try #require(try await system.state(of: task).zedThreads.first { $0.workSessionID == sessions[0] })
        #expect(thread.usage == expected)
        #expect(ReadAPI.progress(state).usage == expected)
        #expect(ReadAPI.progress(state).workSessions.first { $0.workSessionID == sessions[0] }?.usage == expected)

        #expect(expected.tokens >= 30 * 200)  // so the 5,000-token budget was crossed on the way
        let notice = try await system.zedCommands.wait(timeout: .seconds(30), "the budget notice") {
            $0.event.subject == task && $0.event.type == "zed.command.budget_exceeded"
        }
        guard case .budgetExceeded(let budgetNotice) = try EventDecoder.decodeZedCommand(notice.raw.value).1 else {
            return
        }
        #expect(budgetNotice.workSessionID == sessions[0] && budgetNotice.reason.contains("budget exceeded"))

        // The running session may finish; the waiting one does not start while the budget is used up.
        try await system.sendZedEvent(
            .threadCompleted(ZedThreadCompleted(instanceID: instance.instanceID, workSessionID: sessions[0])),
            task: task,
            token: instance.runnerToken
        )
        let finished = try await system.waitForState(of: task, "the first session completed") {
            $0.workSessions.first { $0.id == sessions[0] }?.status == .completed
        }
        #expect(finished.workSessions.first { $0.id == sessions[1] }?.status == .pending)
        #expect(!WorkflowTests.threadsRequested(system, task: task).contains(sessions[1]))

        // Raising the budget starts it, in the same decision.
        try await system.apply(.setBudget(SetBudget(maxTokens: 1_000_000)), task: task)
        let resumed = try await system.state(of: task)
        #expect(resumed.workSessions.first { $0.id == sessions[1] }?.status == .active)
        let reasons = system.status.messages.filter { $0.event.subject == task }.compactMap { message -> String? in
            if case .specTaskChanged(let change) = message.status { return change.reason }
            return nil
        }
        #expect(reasons.contains { $0.hasPrefix("budget exceeded") })
        #expect(reasons.contains { $0.hasPrefix("budget raised") })
        _ = try await system.zedCommands.wait(timeout: .seconds(30), "create_thread of the waiting session") {
            guard case .createThread(let create)? = try? EventDecoder.decodeZedCommand($0.raw.value).1 else {
                return false
            }
            return create.workSessionID == sessions[1]
        }
        #expect(try await system.expectOutputsConform().contains("zed.command.budget_exceeded"))
    }

    @Test(
        "the demo workload with the reference runner survives a worker killed with SIGKILL: complete and counted once"
    )
    func killedWorkerMidDemo() async throws {
        let system = try await SystemUnderTest.start(workers: 2)
        defer { Task { await system.stop() } }
        let steps = 8
        let runner = try system.startRunner([
            "--steps", "\(steps)", "--step-interval", "0.3", "--heartbeat-interval", "0.5",
            "--spawn-helper-for-task", "2", "--tokens-per-step", "900", "--cost-micros-per-step", "1000",
        ])
        defer { runner.process.terminate() }
        let (task, _, _) = try await system.implementing(plan: WorkflowTests.authPlan, maxConcurrentSessions: 3)

        // Kill one worker once the work is under way (the first session completed).
        _ = try await system.waitForState(of: task, timeout: .seconds(120), "the first session completed") {
            $0.workSessions.contains { $0.status == .completed }
        }
        let victim = system.workerProcesses[0]
        kill(victim.process.processIdentifier, SIGKILL)

        let state = try await system.waitForState(of: task, timeout: .seconds(240), "the implementation finished") {
            $0.task.status == .implementationReview || $0.task.status == .implementationFailed
        }
        #expect(state.task.status == .implementationReview, "\(runner.output.suffix(3000))")
        #expect(state.implementationTasks.count == 5)
        #expect(state.implementationTasks.allSatisfy { $0.status == .completed })
        #expect(state.workSessions.count == 6)  // five tasks and the helper spawned by task 2's thread
        #expect(state.workSessions.allSatisfy { $0.status == .completed })
        #expect(state.zedThreads.allSatisfy { $0.status == .completed })
        // Every activity counted exactly once, whichever worker applied it and however often it was delivered.
        for thread in state.zedThreads {
            #expect(thread.usage?.activities == steps, "thread \(thread.id): \(String(describing: thread.usage))")
            #expect(thread.usage?.tokensIn == steps * 900)
            #expect(thread.usage?.costMicros == steps * 1000)
        }
        #expect(ReadAPI.progress(state).overallPercent == 100)
        try await Task.sleep(for: .seconds(1))
        WorkflowTests.expectGapFreeSequence(system, task: task, afterDeduplication: true)
        // The runner still has a live instance (it sends heartbeats): it stops cleanly on SIGTERM all the same.
        runner.process.terminate()
        #expect(try await runner.waitForExit(timeout: .seconds(15)) == 0, "\(runner.output.suffix(2000))")
        let types = try await system.expectOutputsConform()
        #expect(
            types.isSuperset(of: [
                "zed.command.create_thread", "zed.command.deliver_message", "spectask.progress.snapshot",
            ])
        )
    }
}
