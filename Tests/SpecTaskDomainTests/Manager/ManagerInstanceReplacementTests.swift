import Foundation
import SpecTaskDomain
import Testing

/// Zed instances that never answer: the ready timeout fails a pending instance with its sessions, and a retry
/// afterwards runs in a new instance that replaces the failed one.
@Suite("SpecTaskManager: instances that never answer, and their replacement")
struct ManagerInstanceReplacementTests {
    private static let instanceID = ZedRun.instanceID
    private static let timeouts = ZedInstanceTimeouts(
        ready: .seconds(120),
        heartbeat: .seconds(15),
        failAfter: .seconds(60)
    )
    /// When start_implementation (command 5) created the instance.
    private static let created = ManagerFixtures.start.addingTimeInterval(5)

    /// Three tasks, the third waiting on the first two: two sessions start at once, one waits.
    private static let plan = "## Task 1: Schema\n\n## Task 2: API\n\n## Task 3: UI\nDepends on: 1, 2\n"

    /// A task implementing `plan` whose instance timed out pending: its running sessions failed.
    private static func timedOut() throws -> ZedRun {
        var run = try ZedRun.implementing(plan: plan)
        let due = try #require(timeouts.due(for: try run.instance(), at: created.addingTimeInterval(120)))
        try run.send(due.event)
        return run
    }

    private static func createdInstances(_ emissions: [Emission]) -> [CreateZedInstance] {
        emissions.zedCommands.compactMap { if case .createInstance(let command) = $0 { command } else { nil } }
    }

    // MARK: - The ready timeout

    @Test("the ready timeout is due for a pending instance once it is as old as the timeout, and for no other")
    func readyTimeoutDue() throws {
        let run = try ZedRun.implementing(plan: Self.plan)
        let instance = try run.instance()
        #expect(instance.status == .pending && instance.createdAt == Self.created)

        #expect(Self.timeouts.due(for: instance, at: Self.created.addingTimeInterval(119.9)) == nil)
        let due = try #require(Self.timeouts.due(for: instance, at: Self.created.addingTimeInterval(121)))
        guard case .instanceError(let error) = due.event else {
            Issue.record("expected instance_error, got \(due.event)")
            return
        }
        #expect(error.instanceID == Self.instanceID)
        #expect(error.error == "no instance_ready from its runner within 120.0 seconds of its creation (waited 121 s)")
        #expect(due.silence == 121)
        // The same timeout has the same id whenever it is decided: it counts from the creation.
        #expect(due.id == "sweep.\(Self.instanceID).ready_timeout.\(Int64(Self.created.timeIntervalSince1970 * 1000))")
        #expect(Self.timeouts.due(for: instance, at: Self.created.addingTimeInterval(500))?.id == due.id)

        // Stored before creation times were recorded: never timed out. Reported ready, failed or stopped: not
        // this timeout.
        var unknownAge = instance
        unknownAge.createdAt = nil
        #expect(Self.timeouts.due(for: unknownAge, at: Self.created.addingTimeInterval(10_000)) == nil)
        for status in [ZedInstanceStatus.failed, .stopped] {
            var other = instance
            other.status = status
            #expect(Self.timeouts.due(for: other, at: Self.created.addingTimeInterval(10_000)) == nil)
        }
    }

    @Test("heartbeat timeouts: ready → disconnected after the timeout, disconnected → failed after fail-after")
    func heartbeatTimeoutsDue() throws {
        let heard = Self.created.addingTimeInterval(30)
        var instance = ZedInstance(id: "zi-1", specTaskID: "st-1", status: .ready, lastHeartbeatAt: heard)
        #expect(Self.timeouts.due(for: instance, at: heard.addingTimeInterval(14)) == nil)
        let disconnect = try #require(Self.timeouts.due(for: instance, at: heard.addingTimeInterval(16)))
        #expect(
            disconnect.event
                == .instanceDisconnected(
                    ZedInstanceDisconnected(instanceID: "zi-1", reason: "no heartbeat for 16 s (timeout 15.0 seconds)")
                )
        )
        #expect(disconnect.id == "sweep.zi-1.instance_disconnected.\(Int64(heard.timeIntervalSince1970 * 1000))")

        instance.status = .disconnected
        #expect(Self.timeouts.due(for: instance, at: heard.addingTimeInterval(59)) == nil)
        let fail = try #require(Self.timeouts.due(for: instance, at: heard.addingTimeInterval(61)))
        #expect(
            fail.event
                == .instanceError(
                    ZedInstanceError(instanceID: "zi-1", error: "no heartbeat for 61 s (fails after 60.0 seconds)")
                )
        )
        #expect(fail.id == "sweep.zi-1.instance_error.\(Int64(heard.timeIntervalSince1970 * 1000))")
    }

    @Test("a pending instance that times out fails with its running sessions, announced once; again it is a no-op")
    func readyTimeoutFailsOnce() throws {
        var run = try ZedRun.implementing(plan: Self.plan)
        let due = try #require(Self.timeouts.due(for: try run.instance(), at: Self.created.addingTimeInterval(120)))
        let emissions = try run.send(due.event)

        let instance = try run.instance()
        #expect(instance.status == .failed)
        #expect(instance.lastError?.hasPrefix("no instance_ready from its runner within") == true)
        #expect(
            emissions.zedInstanceChanges.map { "\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" } == ["pending→failed"]
        )
        // The two running sessions fail with their threads (told to stop); the waiting one can not start.
        #expect(
            emissions.sessionMoves == ["ws-cmd-5-1:active→failed", "ws-cmd-5-2:active→failed"]
        )
        #expect(emissions.threadMoves == ["zt-cmd-5-1:pending→failed", "zt-cmd-5-2:pending→failed"])
        #expect(emissions.stoppedThreads.map(\.threadID) == [ZedRun.thread(1), ZedRun.thread(2)])
        #expect(
            emissions.workSessionChanges.allSatisfy {
                $0.reason?.hasPrefix("Zed instance \(Self.instanceID) failed: no instance_ready") == true
            }
        )
        #expect(try run.session(ZedRun.session(3)).status == .pending)
        #expect(emissions.createdThreads.isEmpty)
        #expect(run.task.status == .implementationFailed)

        // Once applied, no timeout is due any more; a second sweeper's attempt changes nothing and says nothing.
        #expect(Self.timeouts.due(for: instance, at: Self.created.addingTimeInterval(1000)) == nil)
        let before = run.state
        #expect(try run.send(due.event).isEmpty)
        #expect(run.state == before)
    }

    // MARK: - Retry after the instance failed

    @Test("a retry after the instance failed runs in a new instance, with a new token and its thread")
    func retryReplacesFailedInstance() throws {
        var run = try Self.timedOut()
        let old = try run.instance()

        let emissions = try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: ZedRun.session(1))))
        let newID = "zi-cmd-7-1"
        let instance = try run.instance()
        #expect(instance.id == newID && instance.status == .pending)
        #expect(instance.createdAt == run.now, "its own ready timeout counts from now")
        #expect(emissions.outcome?.created.zedInstanceID == newID)
        #expect(run.task.status == .implementation)

        // The old instance: announced replaced (it stays failed in the record), its runner told to stop.
        let replaced = "Zed instance \(old.id) failed and was replaced by \(newID) (work session ws-cmd-5-1 retried)"
        #expect(
            emissions.zedInstanceChanges
                == [
                    ZedInstanceChange(from: .failed, to: .failed, reason: replaced, zedInstance: old),
                    ZedInstanceChange(
                        from: nil,
                        to: .pending,
                        reason: "replaces Zed instance \(old.id), which failed (work session ws-cmd-5-1 retried)",
                        zedInstance: instance
                    ),
                ]
        )
        #expect(
            emissions.stoppedInstances == [
                StopZedInstanceOrder(instanceID: old.id, specTaskID: "st-1", reason: replaced)
            ]
        )

        // The new one: create_instance with its own token, then the retry's thread in it.
        let create = try #require(Self.createdInstances(emissions).first)
        #expect(Self.createdInstances(emissions).count == 1)
        #expect(create.instanceID == newID && create.specTaskID == "st-1" && create.projectPath == "/repo")
        #expect(create.runnerToken == run.context.runnerToken(newID))
        #expect(create.runnerToken != run.context.runnerToken(old.id))
        let retry = "ws-cmd-7-1"
        #expect(emissions.sessionMoves == ["\(retry):nil→pending", "\(retry):pending→active"])
        #expect(emissions.createdThreads.map(\.instanceID) == [newID])
        #expect(emissions.createdThreads.map(\.workSessionID) == [retry])
        let commandOrder = emissions.zedCommands.map(\.name)
        #expect(commandOrder == ["stop_instance", "create_instance", "create_thread"])

        // The old runner's events are rejected; the new runner's are applied.
        #expect(try run.reject(.instanceReady(ZedInstanceReady(instanceID: old.id))).code == .unknownZedInstance)
        #expect(try run.reject(.heartbeat(ZedHeartbeat(instanceID: old.id))).code == .unknownZedInstance)
        let rejection = try run.reject(
            .threadCreated(ZedThreadCreated(instanceID: old.id, workSessionID: retry, zedThreadExternalID: "x"))
        )
        #expect(rejection.code == .unknownZedInstance)
        #expect(rejection.message.contains("its instance is \(newID)"))
        try run.send(.instanceReady(ZedInstanceReady(instanceID: newID)))
        try run.send(
            .threadCreated(ZedThreadCreated(instanceID: newID, workSessionID: retry, zedThreadExternalID: "t"))
        )
        #expect(try run.instance().status == .ready)
        #expect(try run.thread(ofSession: retry).status == .active)

        // The other failed session's retry uses the new instance as it is: no second replacement.
        let second = try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: ZedRun.session(2))))
        #expect(Self.createdInstances(second).isEmpty && second.zedInstanceChanges.isEmpty)
        #expect(second.createdThreads.map(\.instanceID) == [newID])
        #expect(second.outcome?.created.zedInstanceID == nil)
        let secondRetry = try #require(second.outcome?.created.workSessionIDs.first)

        // Sessions that never started open their threads in the new instance when their turn comes.
        for session in [retry, secondRetry] {
            try run.send(.threadCompleted(ZedThreadCompleted(instanceID: newID, workSessionID: session)))
        }
        #expect(run.emissions.createdThreads.map(\.workSessionID) == [ZedRun.session(3)])
        #expect(run.emissions.createdThreads.map(\.instanceID) == [newID])
    }

    @Test("the new instance is opened with the workspace configuration of the one it replaces")
    func replacementKeepsWorkspaceConfig() throws {
        let config = JSONValue.object(["theme": .string("dark")])
        var scenario = try Scenario.approved(plan: Self.plan)
        try scenario.apply(.startImplementation(StartImplementation(workspaceConfig: config)))
        var run = try ZedRun(scenario)
        #expect(try run.instance().workspaceConfig == config)
        try run.send(.instanceError(ZedInstanceError(instanceID: Self.instanceID, error: "no GPU")))
        let emissions = try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: ZedRun.session(1))))
        #expect(Self.createdInstances(emissions).map(\.workspaceConfig) == [config])
        #expect(try run.instance().workspaceConfig == config)
    }

    @Test("a session that still counted on a thread in the failed instance is cancelled when it is replaced")
    func replacementCancelsWorkStartedInTheOldInstance() throws {
        var run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 1)
        // Session 1 started, then went back to the queue (its thread stays hers); session 2 took the slot.
        try run.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: ZedRun.session(1), status: .blocked))
        )
        try run.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: ZedRun.session(1), status: .pending))
        )
        #expect(run.state.workSessions.prefix(2).map(\.status) == [.pending, .active])
        try run.send(.instanceError(ZedInstanceError(instanceID: Self.instanceID, error: "disk full")))
        #expect(run.state.workSessions.prefix(2).map(\.status) == [.pending, .failed])

        let emissions = try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: ZedRun.session(2))))
        let newID = "zi-cmd-9-1"
        #expect(emissions.sessionMoves.contains("ws-cmd-5-1:pending→cancelled"))
        #expect(emissions.threadMoves.contains("zt-cmd-5-1:pending→failed"))
        #expect(emissions.stoppedThreads.map(\.threadID) == [ZedRun.thread(1)])
        #expect(emissions.stoppedThreads.map(\.instanceID) == [Self.instanceID], "told to the old instance")
        #expect(
            run.state.workSessions.map(\.status) == [.cancelled, .failed, .pending, .pending, .pending, .active],
            "the retry runs in the new instance; the rest wait for the slot"
        )
        #expect(emissions.createdThreads.map(\.instanceID) == [newID])
    }

    @Test("a retry while the instance is not failed keeps it")
    func retryKeepsLiveInstance() throws {
        var run = try ZedRun.implementing(plan: Self.plan)
        try run.ready()
        try run.send(
            .threadFailed(ZedThreadFailed(instanceID: Self.instanceID, workSessionID: ZedRun.session(1), reason: "bug"))
        )
        let emissions = try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: ZedRun.session(1))))
        #expect(try run.instance().id == Self.instanceID)
        #expect(Self.createdInstances(emissions).isEmpty && emissions.stoppedInstances.isEmpty)
        #expect(emissions.createdThreads.map(\.instanceID) == [Self.instanceID])
    }
}
