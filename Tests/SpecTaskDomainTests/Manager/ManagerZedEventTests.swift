import Foundation
import SpecTaskDomain
import Testing

/// The events of the spec task's Zed runner (`zed.events`) about its instance and its threads.
@Suite("SpecTaskManager: Zed runner events")
struct ManagerZedEventTests {
    private static let instanceID = ZedRun.instanceID
    private static func session(_ task: Int) -> String { ZedRun.session(task) }
    private static func thread(_ task: Int) -> String { ZedRun.thread(task) }

    // MARK: - instance_ready

    @Test("instance_ready: pending → ready with the heartbeat time; again it is no news; no outcome")
    func instanceReady() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        #expect(try run.instance().status == .pending)

        let emissions = try run.send(.instanceReady(ZedInstanceReady(instanceID: Self.instanceID)))
        let instance = try run.instance()
        #expect(
            instance
                == ZedInstance(
                    id: Self.instanceID,
                    specTaskID: "st-1",
                    status: .ready,
                    lastHeartbeatAt: run.now,
                    createdAt: run.now.addingTimeInterval(-1)
                ),
            "created by start_implementation, a second earlier"
        )
        #expect(emissions.outcome == nil)
        #expect(
            emissions == [
                .status(
                    .zedInstanceChanged(
                        ZedInstanceChange(
                            from: .pending,
                            to: .ready,
                            reason: "Zed instance ready",
                            zedInstance: instance
                        )
                    )
                )
            ]
        )

        let before = run.state
        let again = try run.send(.instanceReady(ZedInstanceReady(instanceID: Self.instanceID)))
        #expect(again.isEmpty)
        var expected = before
        expected.zedInstance?.lastHeartbeatAt = run.now
        #expect(run.state == expected, "only the heartbeat time moves")
    }

    // MARK: - heartbeat

    @Test("heartbeat: the time and the resources are stored, without status events")
    func heartbeatResources() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        let emissions = try run.send(
            .heartbeat(ZedHeartbeat(instanceID: Self.instanceID, cpuPercent: 37, memoryMB: 2048, uptimeSeconds: 120))
        )
        #expect(emissions.isEmpty)
        let instance = try run.instance()
        #expect(instance.status == .ready)
        #expect(instance.lastHeartbeatAt == run.now)
        #expect(instance.resources == ResourceUsage(cpuPercent: 37, memoryMB: 2048, uptimeSeconds: 120))

        try run.send(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID, cpuPercent: 5)))
        #expect(try run.instance().resources == ResourceUsage(cpuPercent: 5), "each heartbeat replaces the last")
        #expect(try run.instance().lastHeartbeatAt == run.now)
    }

    @Test("heartbeat before instance_ready: the runner is there, so the instance is ready")
    func heartbeatMakesReady() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        let emissions = try run.send(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID, memoryMB: 512)))
        let instance = try run.instance()
        #expect(instance.status == .ready && instance.lastHeartbeatAt == run.now)
        #expect(emissions.zedInstanceChanges.map(\.from) == [.pending])
        #expect(emissions.zedInstanceChanges.map(\.reason) == ["Zed instance ready"])
        #expect(emissions.count == 1)
    }

    @Test("heartbeat: thread progress only for started, unfinished threads of this task; the rest is skipped")
    func heartbeatProgress() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        let first = Self.session(1)
        let second = Self.session(2)
        let emissions = try run.send(
            .heartbeat(
                ZedHeartbeat(
                    instanceID: Self.instanceID,
                    threads: [
                        .init(workSessionID: first, status: .active, progress: 40),
                        .init(workSessionID: second, status: .active, progress: 70),
                        .init(workSessionID: "ws-of-another-task", status: .active, progress: 90),
                        .init(workSessionID: Self.session(3), status: .pending),
                    ]
                )
            )
        )
        #expect(emissions.isEmpty)
        #expect(run.state.threadProgress == [Self.thread(1): 40])
        #expect(try run.thread(ofSession: first).status == .pending, "a heartbeat reports; it changes no status")

        try run.threadCreated(first)
        try run.threadCompleted(first)
        #expect(run.state.threadProgress == [Self.thread(1): 100])
        #expect(try run.session(second).status == .active)

        try run.send(
            .heartbeat(
                ZedHeartbeat(
                    instanceID: Self.instanceID,
                    threads: [
                        .init(workSessionID: first, status: .active, progress: 10),
                        .init(workSessionID: second, status: .active, progress: 30),
                    ]
                )
            )
        )
        #expect(
            run.state.threadProgress == [Self.thread(1): 100, Self.thread(2): 30],
            "a completed thread keeps its 100"
        )
        #expect(run.emissions.isEmpty)
    }

    @Test("a heartbeat after a disconnection brings the instance and its disconnected threads back")
    func heartbeatRecovers() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        try run.threadCreated(Self.session(1), externalID: "zed-1")
        try run.threadCreated(Self.session(2), externalID: "zed-2")
        let lost = try run.send(.instanceDisconnected(ZedInstanceDisconnected(instanceID: Self.instanceID)))
        #expect(lost.zedInstanceChanges.map(\.reason) == ["the runner reported the Zed instance disconnected"])
        #expect(run.state.zedThreads.map(\.status) == [.disconnected, .disconnected, .pending])

        let emissions = try run.send(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID, cpuPercent: 12)))
        let instance = try run.instance()
        #expect(instance.status == .ready && instance.lastHeartbeatAt == run.now)
        #expect(instance.resources == ResourceUsage(cpuPercent: 12))
        #expect(emissions.count == 3)
        let change = try #require(emissions.zedInstanceChanges.first)
        #expect(change.from == .disconnected && change.to == .ready && change.zedInstance.status == .ready)
        #expect(change.reason == "heartbeat received after the instance was lost")
        #expect(
            emissions.zedThreadChanges == [
                ZedThreadChange(
                    from: .disconnected,
                    to: .active,
                    reason: "Zed instance zi-cmd-5-1 is back",
                    zedThread: try run.thread(ofSession: Self.session(1))
                ),
                ZedThreadChange(
                    from: .disconnected,
                    to: .active,
                    reason: "Zed instance zi-cmd-5-1 is back",
                    zedThread: try run.thread(ofSession: Self.session(2))
                ),
            ]
        )
        #expect(run.state.zedThreads.map(\.status) == [.active, .active, .pending])
        #expect(run.state.workSessions.map(\.status) == [.active, .active, .active])
    }

    @Test("any thread report after a disconnection brings the instance back first, then is applied")
    func threadReportRecovers() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        try run.threadCreated(Self.session(1))
        try run.threadCreated(Self.session(2))
        try run.send(.instanceDisconnected(ZedInstanceDisconnected(instanceID: Self.instanceID)))

        // A disconnected thread can not complete; its runner reporting it completed shows it is back.
        let emissions = try run.threadCompleted(Self.session(1), summary: "finished offline")
        #expect(try run.instance().status == .ready)
        #expect(try run.instance().lastHeartbeatAt == run.now)
        #expect(emissions.zedInstanceChanges.map(\.reason) == ["the runner reported again after the instance was lost"])
        #expect(
            emissions.threadMoves == [
                "zt-cmd-5-1:disconnected→active", "zt-cmd-5-2:disconnected→active", "zt-cmd-5-1:active→completed",
            ]
        )
        #expect(emissions.sessionMoves == ["ws-cmd-5-1:active→completed"])
        #expect(try run.session(Self.session(2)).status == .active)

        // The same for an instance that failed; what failed with it stays failed.
        try run.send(.instanceError(ZedInstanceError(instanceID: Self.instanceID, error: "crash")))
        #expect(try run.instance().status == .failed)
        let activity = try run.send(ZedRun.spending(Self.session(2), tokensIn: 7))
        #expect(try run.instance().status == .ready && run.instance().lastError == "crash")
        #expect(activity.zedInstanceChanges.map(\.from) == [.failed])
        #expect(activity.threadMoves.isEmpty && activity.sessionMoves.isEmpty)
        #expect(try run.thread(ofSession: Self.session(2)).usage?.tokensIn == 7, "spent even after it failed")
    }

    @Test("one thread reported disconnected while the instance stays ready can still complete or fail")
    func singleThreadDisconnection() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        try run.threadCreated(Self.session(1))
        try run.threadCreated(Self.session(2))
        for session in [Self.session(1), Self.session(2)] {
            try run.send(
                .threadStatusChanged(
                    ZedThreadStatusChanged(instanceID: Self.instanceID, workSessionID: session, status: .disconnected)
                )
            )
        }
        #expect(try run.thread(ofSession: Self.session(1)).status == .disconnected)
        #expect(try run.instance().status == .ready)

        let completed = try run.threadCompleted(Self.session(1))
        #expect(completed.threadMoves == ["zt-cmd-5-1:disconnected→active", "zt-cmd-5-1:active→completed"])
        #expect(try run.session(Self.session(1)).status == .completed)
        let failed = try run.send(
            .threadFailed(ZedThreadFailed(instanceID: Self.instanceID, workSessionID: Self.session(2), reason: "oom"))
        )
        #expect(failed.threadMoves == ["zt-cmd-5-2:disconnected→active", "zt-cmd-5-2:active→failed"])
        #expect(try run.session(Self.session(2)).status == .failed)
    }

    @Test("heartbeat (or instance_stopped) on a stopped instance changes nothing")
    func heartbeatWhenStopped() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        try run.apply(.stopZedInstance(StopZedInstance(reason: "no longer needed")))
        #expect(try run.instance().status == .stopped)
        let before = run.state

        let emissions = try run.send(
            .heartbeat(
                ZedHeartbeat(
                    instanceID: Self.instanceID,
                    cpuPercent: 1,
                    threads: [.init(workSessionID: Self.session(1), status: .active, progress: 50)]
                )
            )
        )
        #expect(emissions.isEmpty)
        #expect(run.state == before)

        try run.send(.instanceStopped(ZedInstanceStopped(instanceID: Self.instanceID)))
        #expect(run.emissions.isEmpty)
        #expect(run.state == before)
    }

    // MARK: - instance_disconnected

    @Test("instance_disconnected: instance and active threads disconnected, sessions stay; nothing starts meanwhile")
    func disconnected() throws {
        var run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 2)
        try run.ready()
        try run.threadCreated(Self.session(1))
        let emissions = try run.send(
            .instanceDisconnected(
                ZedInstanceDisconnected(instanceID: Self.instanceID, reason: "runner lost its connection")
            )
        )
        let instance = try run.instance()
        #expect(instance.status == .disconnected)
        #expect(
            emissions == [
                .status(
                    .zedInstanceChanged(
                        ZedInstanceChange(
                            from: .ready,
                            to: .disconnected,
                            reason: "runner lost its connection",
                            zedInstance: instance
                        )
                    )
                ),
                .status(
                    .zedThreadChanged(
                        ZedThreadChange(
                            from: .active,
                            to: .disconnected,
                            reason: "Zed instance zi-cmd-5-1 disconnected",
                            zedThread: try run.thread(ofSession: Self.session(1))
                        )
                    )
                ),
            ]
        )
        #expect(try run.thread(ofSession: Self.session(2)).status == .pending, "only active threads disconnect")
        #expect(run.state.activeTaskIndexes == [1, 2])
        #expect(try run.implementationTask(1).status == .inProgress)

        // A raised limit and a freed slot would each start sessions; not while the instance is away.
        try run.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 3)))
        #expect(run.emissions.workSessionChanges.isEmpty && run.emissions.createdThreads.isEmpty)
        try run.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: Self.session(2), status: .completed))
        )
        #expect(run.emissions.sessionMoves == ["ws-cmd-5-2:active→completed"])
        #expect(run.emissions.createdThreads.isEmpty)
        #expect(run.state.activeTaskIndexes == [1])
        #expect(run.state.sessions(forTask: 3).map(\.status) == [.pending])

        // The heartbeat that brings the instance back starts them in the same decision.
        let back = try run.send(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID)))
        #expect(run.state.activeTaskIndexes == [1, 3, 4])
        #expect(back.threadMoves == ["zt-cmd-5-1:disconnected→active"])
        #expect(back.sessionMoves == ["ws-cmd-5-3:pending→active", "ws-cmd-5-4:pending→active"])
        #expect(back.createdThreads.map(\.workSessionID) == [Self.session(3), Self.session(4)])
    }

    @Test("thread_status_changed: the runner's own status report, with its reason")
    func threadStatusChanged() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        try run.threadCreated(Self.session(1))
        let emissions = try run.send(
            .threadStatusChanged(
                ZedThreadStatusChanged(
                    instanceID: Self.instanceID,
                    workSessionID: Self.session(1),
                    status: .disconnected,
                    reason: "agent process restarting"
                )
            )
        )
        let thread = try run.thread(ofSession: Self.session(1))
        #expect(thread.status == .disconnected)
        #expect(
            emissions == [
                .status(
                    .zedThreadChanged(
                        ZedThreadChange(
                            from: .active,
                            to: .disconnected,
                            reason: "agent process restarting",
                            zedThread: thread
                        )
                    )
                )
            ]
        )
        #expect(try run.session(Self.session(1)).status == .active, "the session waits for its thread")
    }

    // MARK: - instance_error

    @Test("instance_error: running and blocked sessions fail with their threads; nothing else can run")
    func instanceError() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        try run.threadCreated(Self.session(1))
        try run.apply(
            .updateWorkSessionStatus(
                UpdateWorkSessionStatus(workSessionID: Self.session(2), status: .blocked, reason: "waiting on review")
            )
        )
        // Session 3 is active; its thread has not reported yet.

        let emissions = try run.send(
            .instanceError(ZedInstanceError(instanceID: Self.instanceID, error: "GPU on fire"))
        )
        let reason = "Zed instance zi-cmd-5-1 failed: GPU on fire"
        let instance = try run.instance()
        #expect(instance.status == .failed && instance.lastError == "GPU on fire")
        #expect(
            emissions.first
                == .status(
                    .zedInstanceChanged(
                        ZedInstanceChange(from: .ready, to: .failed, reason: "GPU on fire", zedInstance: instance)
                    )
                )
        )
        #expect(
            emissions.sessionMoves == [
                "ws-cmd-5-1:active→failed", "ws-cmd-5-2:blocked→failed", "ws-cmd-5-3:active→failed",
            ]
        )
        #expect(emissions.workSessionChanges.allSatisfy { $0.reason == reason })
        #expect(
            emissions.threadMoves == [
                "zt-cmd-5-1:active→failed", "zt-cmd-5-2:pending→failed", "zt-cmd-5-3:pending→failed",
            ]
        )
        #expect(emissions.zedThreadChanges.allSatisfy { $0.reason == reason })
        #expect(emissions.stoppedThreads.map(\.threadID) == [Self.thread(1), Self.thread(2), Self.thread(3)])
        #expect(emissions.stoppedThreads.allSatisfy { $0.reason == reason })
        #expect(emissions.taskMoves == ["1:in_progress→blocked", "3:assigned→blocked"], "task 2 was blocked already")
        #expect(run.state.implementationTasks.map(\.status) == [.blocked, .blocked, .blocked])
        #expect(
            emissions.specTaskChanges.map { "\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" } == [
                "implementation→implementation_failed"
            ]
        )
        #expect(
            emissions.specTaskChanges.first?.reason
                == "work session ws-cmd-5-1 (implementation task 1) and work session ws-cmd-5-2 (implementation task 2) "
                + "and work session ws-cmd-5-3 (implementation task 3) failed and no other work session can go on; "
                + "retry to continue"
        )
        #expect(emissions.last.map { if case .status(.specTaskChanged) = $0 { true } else { false } } == true)

        // A later heartbeat brings the instance back; what failed stays failed.
        let failedState = run.state
        let back = try run.send(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID)))
        let recovered = try run.instance()
        #expect(recovered.status == .ready)
        #expect(recovered.lastError == "GPU on fire", "kept for the record")
        #expect(back.count == 1)
        #expect(back.zedInstanceChanges.map(\.from) == [.failed])
        #expect(back.zedInstanceChanges.map(\.reason) == ["heartbeat received after the instance was lost"])
        #expect(run.state.workSessions == failedState.workSessions)
        #expect(run.state.zedThreads == failedState.zedThreads)
        #expect(run.task.status == .implementationFailed)
    }

    @Test("instance_error with pending sessions: they can not start on a failed instance, so the task fails")
    func instanceErrorWithQueue() throws {
        var run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 1)
        try run.ready()
        let emissions = try run.send(.instanceError(ZedInstanceError(instanceID: Self.instanceID, error: "disk full")))
        #expect(emissions.sessionMoves == ["ws-cmd-5-1:active→failed"])
        #expect(emissions.createdThreads.isEmpty, "the freed slot is not used on a failed instance")
        #expect(run.state.workSessions.map(\.status) == [.failed, .pending, .pending, .pending, .pending])
        #expect(run.task.status == .implementationFailed)

        // A retry does not wait for the failed instance: it runs in a new one (ManagerInstanceReplacementTests).
        try run.apply(.retryWorkSession(RetryWorkSession(workSessionID: Self.session(1), newWorkSessionID: "ws-retry")))
        #expect(run.task.status == .implementation)
        #expect(try run.session("ws-retry").status == .active)
        #expect(run.emissions.createdThreads.map(\.instanceID) == ["zi-cmd-8-1"])
        #expect(try run.reject(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID))).code == .unknownZedInstance)
    }

    // MARK: - instance_stopped

    @Test("instance_stopped: every session is cancelled and every thread failed; then only heartbeats pass")
    func instanceStopped() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        try run.threadCreated(Self.session(1))
        let emissions = try run.send(
            .instanceStopped(ZedInstanceStopped(instanceID: Self.instanceID, reason: "runner shut down"))
        )
        let reason = "Zed instance stopped by its runner: runner shut down"
        let instance = try run.instance()
        #expect(instance.status == .stopped)
        #expect(
            emissions.last
                == .status(
                    .zedInstanceChanged(
                        ZedInstanceChange(from: .ready, to: .stopped, reason: reason, zedInstance: instance)
                    )
                )
        )
        #expect(emissions.zedInstanceChanges.count == 1)
        #expect(emissions.sessionMoves == (1...5).map { "ws-cmd-5-\($0):\($0 == 1 ? "active" : "pending")→cancelled" })
        #expect(emissions.workSessionChanges.allSatisfy { $0.reason == reason })
        #expect(emissions.threadMoves == (1...5).map { "zt-cmd-5-\($0):\($0 == 1 ? "active" : "pending")→failed" })
        #expect(emissions.zedThreadChanges.allSatisfy { $0.reason == "Zed instance stopped" })
        #expect(emissions.taskMoves == ["1:in_progress→blocked"], "only task 1 had a session")
        #expect(emissions.stoppedInstances.isEmpty, "the runner stopped it itself")
        #expect(
            !emissions.contains { if case .zed(.stopThread) = $0 { true } else { false } },
            "no stop_thread to a runner that closed its threads itself"
        )
        #expect(emissions.createdThreads.isEmpty)
        #expect(emissions.specTaskChanges.isEmpty)
        #expect(run.state.workSessions.allSatisfy { $0.status == .cancelled })
        #expect(run.state.zedThreads.allSatisfy { $0.status == .failed })
        #expect(run.task.status == .implementation, "stopping the editor is not cancelling the work")

        let activity = try run.reject(ZedRun.spending(Self.session(1), tokensIn: 10))
        #expect(
            activity
                == Rejection(
                    .illegalTransition,
                    "Zed instance zi-cmd-5-1 of spec task st-1 is stopped; zed.event.thread_activity is not applied"
                )
        )
        #expect(
            try run.reject(.instanceReady(ZedInstanceReady(instanceID: Self.instanceID))).code == .illegalTransition
        )
        let created = try run.reject(
            .threadCreated(
                ZedThreadCreated(instanceID: Self.instanceID, workSessionID: Self.session(1), zedThreadExternalID: "z")
            )
        )
        #expect(created.code == .illegalTransition)
        let before = run.state
        try run.send(.heartbeat(ZedHeartbeat(instanceID: Self.instanceID)))
        #expect(run.emissions.isEmpty && run.state == before)
    }

    // MARK: - Whose events

    @Test("an event naming another instance is rejected, whatever it is")
    func otherInstance() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        try run.threadCreated(Self.session(1))
        let other = "zi-somebody-else"
        let session = Self.session(1)
        let events: [ZedEvent] = [
            .instanceReady(ZedInstanceReady(instanceID: other)),
            .instanceStopped(ZedInstanceStopped(instanceID: other)),
            .instanceDisconnected(ZedInstanceDisconnected(instanceID: other)),
            .instanceError(ZedInstanceError(instanceID: other, error: "x")),
            .heartbeat(ZedHeartbeat(instanceID: other, threads: [.init(workSessionID: session, status: .active)])),
            .threadCreated(ZedThreadCreated(instanceID: other, workSessionID: session, zedThreadExternalID: "z")),
            .threadStatusChanged(ZedThreadStatusChanged(instanceID: other, workSessionID: session, status: .failed)),
            .threadActivity(ZedThreadActivity(instanceID: other, workSessionID: session, kind: .other, tokensIn: 5)),
            .threadCompleted(ZedThreadCompleted(instanceID: other, workSessionID: session)),
            .threadFailed(ZedThreadFailed(instanceID: other, workSessionID: session, reason: "x")),
            .spawnRequested(ZedSpawnRequested(instanceID: other, workSessionID: session, name: "Helper")),
            .coordinationMessage(
                ZedCoordinationMessage(instanceID: other, fromWorkSessionID: session, kind: .broadcast, message: "hi")
            ),
        ]
        let before = run.state
        for event in events {
            let rejection = try run.reject(event)
            #expect(
                rejection
                    == Rejection(
                        .unknownZedInstance,
                        "Zed instance zi-somebody-else is not the instance of spec task st-1 (its instance is zi-cmd-5-1)"
                    ),
                "\(event.name)"
            )
        }
        #expect(run.state == before)
    }

    @Test("before implementation there is no instance, so every event is for an unknown one")
    func noInstance() throws {
        var run = try ZedRun(Scenario.approved(plan: PlanFixtures.freeForm))
        let rejection = try run.reject(.instanceReady(ZedInstanceReady(instanceID: "zi-1")))
        #expect(
            rejection
                == Rejection(
                    .unknownZedInstance,
                    "Zed instance zi-1 is not the instance of spec task st-1 (it has no Zed instance)"
                )
        )
    }

    @Test("an event naming a work session the task does not have is rejected")
    func unknownWorkSession() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        let id = Self.instanceID
        let events: [ZedEvent] = [
            .threadCreated(ZedThreadCreated(instanceID: id, workSessionID: "ws-x", zedThreadExternalID: "z")),
            .threadStatusChanged(ZedThreadStatusChanged(instanceID: id, workSessionID: "ws-x", status: .active)),
            .threadActivity(ZedThreadActivity(instanceID: id, workSessionID: "ws-x", kind: .codeEdit, tokensIn: 3)),
            .threadCompleted(ZedThreadCompleted(instanceID: id, workSessionID: "ws-x")),
            .threadFailed(ZedThreadFailed(instanceID: id, workSessionID: "ws-x", reason: "x")),
            .spawnRequested(ZedSpawnRequested(instanceID: id, workSessionID: "ws-x", name: "Helper")),
            .coordinationMessage(
                ZedCoordinationMessage(instanceID: id, fromWorkSessionID: "ws-x", kind: .notification, message: "hi")
            ),
        ]
        let before = run.state
        for event in events {
            let rejection = try run.reject(event)
            #expect(
                rejection == Rejection(.unknownWorkSession, "work session ws-x does not exist in spec task st-1"),
                "\(event.name)"
            )
        }
        #expect(run.state == before)
    }

    // MARK: - Threads

    @Test("thread_created: the thread is active with Zed's id and its implementation task in progress")
    func threadCreated() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.freeForm)
        try run.ready()
        try run.threadCreated(Self.session(1), externalID: "zed-42")
        let thread = try run.thread(ofSession: Self.session(1))
        #expect(
            thread
                == ZedThread(
                    id: Self.thread(1),
                    workSessionID: Self.session(1),
                    specTaskID: "st-1",
                    zedThreadExternalID: "zed-42",
                    status: .active,
                    lastActivityAt: run.now
                )
        )
        let task = try run.implementationTask(1)
        #expect(task.status == .inProgress && task.assignedWorkSessionID == Self.session(1))
        #expect(
            run.emissions == [
                .status(
                    .zedThreadChanged(
                        ZedThreadChange(from: .pending, to: .active, reason: "Zed thread created", zedThread: thread)
                    )
                ),
                .status(
                    .implementationTaskChanged(
                        ImplementationTaskChange(
                            from: .assigned,
                            to: .inProgress,
                            reason: "work session ws-cmd-5-1 is working on it",
                            implementationTask: task
                        )
                    )
                ),
            ]
        )
    }

    @Test("thread_completed: thread, session and task complete; the last one moves the task to review")
    func threadCompleted() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        for index in 1...3 {
            try run.threadCreated(Self.session(index), externalID: "zed-\(index)")
        }
        for index in 1...3 {
            let session = Self.session(index)
            try run.threadCompleted(session, summary: "done \(index)")
            let thread = try run.thread(ofSession: session)
            let completedSession = try run.session(session)
            let task = try run.implementationTask(index)
            #expect(thread.status == .completed)
            #expect(completedSession.status == .completed && completedSession.completedAt == run.now)
            #expect(task.status == .completed)
            #expect(run.state.threadProgress[thread.id] == 100)
            var expected: [Emission] = [
                .status(
                    .zedThreadChanged(
                        ZedThreadChange(from: .active, to: .completed, reason: "done \(index)", zedThread: thread)
                    )
                ),
                .status(
                    .workSessionChanged(
                        WorkSessionChange(
                            from: .active,
                            to: .completed,
                            reason: "Zed thread \(thread.id) completed",
                            workSession: completedSession
                        )
                    )
                ),
                .status(
                    .implementationTaskChanged(
                        ImplementationTaskChange(
                            from: .inProgress,
                            to: .completed,
                            reason: "work session \(session) completed",
                            implementationTask: task
                        )
                    )
                ),
            ]
            if index == 3 {
                expected.append(
                    .status(
                        .specTaskChanged(
                            SpecTaskChange(
                                from: .implementation,
                                to: .implementationReview,
                                reason: "all implementation sessions completed",
                                specTask: run.task
                            )
                        )
                    )
                )
            }
            #expect(run.emissions == expected, "completing session \(index)")
        }
        #expect(run.task.status == .implementationReview)
    }

    @Test("thread_failed: the session fails with the runner's reason and its task is blocked")
    func threadFailed() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.numberedSimple)
        try run.ready()
        for index in 1...3 {
            try run.threadCreated(Self.session(index))
        }
        let emissions = try run.send(
            .threadFailed(
                ZedThreadFailed(
                    instanceID: Self.instanceID,
                    workSessionID: Self.session(2),
                    reason: "agent crashed: out of memory"
                )
            )
        )
        let thread = try run.thread(ofSession: Self.session(2))
        let session = try run.session(Self.session(2))
        let task = try run.implementationTask(2)
        #expect(thread.status == .failed && session.status == .failed && task.status == .blocked)
        #expect(
            emissions == [
                .status(
                    .zedThreadChanged(
                        ZedThreadChange(
                            from: .active,
                            to: .failed,
                            reason: "agent crashed: out of memory",
                            zedThread: thread
                        )
                    )
                ),
                .status(
                    .workSessionChanged(
                        WorkSessionChange(
                            from: .active,
                            to: .failed,
                            reason: "Zed thread zt-cmd-5-2 failed: agent crashed: out of memory",
                            workSession: session
                        )
                    )
                ),
                .status(
                    .implementationTaskChanged(
                        ImplementationTaskChange(
                            from: .inProgress,
                            to: .blocked,
                            reason: "work session ws-cmd-5-2 failed",
                            implementationTask: task
                        )
                    )
                ),
            ]
        )
        #expect(run.task.status == .implementation, "the other sessions go on")

        try run.threadCompleted(Self.session(1))
        try run.threadCompleted(Self.session(3))
        #expect(run.task.status == .implementationFailed)
        #expect(
            run.emissions.specTaskChanges.map(\.reason) == [
                "work session ws-cmd-5-2 (implementation task 2) failed and no other work session can go on; "
                    + "retry to continue"
            ]
        )
    }

    // MARK: - spawn_requested

    @Test("spawn_requested: a child session of the requester with its thread, exactly as spawn_work_session")
    func spawnRequested() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        try run.threadCreated(Self.session(1))
        let request = ZedSpawnRequested(
            instanceID: Self.instanceID,
            workSessionID: Self.session(1),
            name: "  Seed data ",
            description: "Fixtures for the schema",
            implementationTaskIndex: 1,
            initialPrompt: "Write seed data for the users table."
        )
        let spawn = SpawnWorkSession(
            parentWorkSessionID: Self.session(1),
            name: "  Seed data ",
            description: "Fixtures for the schema",
            implementationTaskIndex: 1,
            initialPrompt: "Write seed data for the users table."
        )
        // The same input as a command, decided on the same state under the same id and time.
        let event = run.incoming(.zedEvent(.spawnRequested(request)))
        var command = event
        command.command = .spawnWorkSession(spawn)
        let asCommand = SpecTaskManager.decide(run.state, command, context: run.context)

        let emissions = try run.send(.spawnRequested(request))
        let childID = "ws-\(run.lastCommandID)-1"
        let child = try run.session(childID)
        #expect(child.parentWorkSessionID == Self.session(1) && child.spawnedByWorkSessionID == Self.session(1))
        #expect(child.name == "Seed data" && child.implementationTaskIndex == 1 && child.status == .active)
        #expect(try run.thread(ofSession: childID).id == "zt-\(run.lastCommandID)-1")
        #expect(emissions.sessionMoves == ["\(childID):nil→pending", "\(childID):pending→active"])
        #expect(emissions.threadMoves == ["zt-\(run.lastCommandID)-1:nil→pending"])
        #expect(emissions.createdThreads.map(\.initialPrompt) == ["Write seed data for the users table."])
        #expect(
            try run.implementationTask(1).assignedWorkSessionID == Self.session(1),
            "the helper does not take the task over"
        )
        guard case .applied(let commandState, let commandEmissions) = asCommand else {
            Issue.record("spawn_work_session was rejected: \(asCommand)")
            return
        }
        var expectedState = commandState
        expectedState.zedInstance?.lastHeartbeatAt = run.now  // the runner's request is also a sign of life
        #expect(run.state == expectedState)
        #expect(Array(commandEmissions.dropFirst()) == emissions)

        try run.send(
            .spawnRequested(
                ZedSpawnRequested(
                    instanceID: Self.instanceID,
                    workSessionID: childID,
                    name: "Grandchild",
                    newWorkSessionID: "ws-chosen"
                )
            )
        )
        #expect(try run.session("ws-chosen").parentWorkSessionID == childID)
    }

    @Test("spawn_requested from a session that is not active is rejected")
    func spawnFromInactive() throws {
        var run = try ZedRun.implementing(plan: PlanFixtures.authHeadings)
        try run.ready()
        let pending = try run.reject(
            .spawnRequested(ZedSpawnRequested(instanceID: Self.instanceID, workSessionID: Self.session(2), name: "H"))
        )
        #expect(
            pending
                == Rejection(
                    .illegalTransition,
                    "work session ws-cmd-5-2 is pending; only an active work session can spawn another"
                )
        )
        try run.threadCompleted(Self.session(1))
        let before = run.state
        let completed = try run.reject(
            .spawnRequested(ZedSpawnRequested(instanceID: Self.instanceID, workSessionID: Self.session(1), name: "H"))
        )
        #expect(completed.code == .illegalTransition)
        #expect(completed.message.hasPrefix("work session ws-cmd-5-1 is completed"))
        #expect(run.state == before)
    }

    // MARK: - Determinism

    @Test("deciding the same event twice on the same state gives equal decisions")
    func determinism() throws {
        var run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 3)
        try run.ready()
        try run.threadCreated(Self.session(1))
        try run.apply(.setBudget(SetBudget(maxTokens: 100)))
        let id = Self.instanceID
        let session = Self.session(1)
        let events: [ZedEvent] = [
            .heartbeat(
                ZedHeartbeat(
                    instanceID: id,
                    cpuPercent: 3,
                    threads: [.init(workSessionID: session, status: .active, progress: 5)]
                )
            ),
            .threadActivity(
                ZedThreadActivity(instanceID: id, workSessionID: session, kind: .testRun, testsRun: 4, tokensIn: 150)
            ),
            .threadCompleted(ZedThreadCompleted(instanceID: id, workSessionID: session, summary: "ok")),
            .spawnRequested(ZedSpawnRequested(instanceID: id, workSessionID: session, name: "Helper")),
            .coordinationMessage(
                ZedCoordinationMessage(instanceID: id, fromWorkSessionID: session, kind: .broadcast, message: "hi")
            ),
            .instanceError(ZedInstanceError(instanceID: id, error: "boom")),
            .instanceStopped(ZedInstanceStopped(instanceID: id)),
            .threadFailed(ZedThreadFailed(instanceID: id, workSessionID: "ws-x", reason: "x")),
        ]
        for event in events {
            let incoming = run.incoming(.zedEvent(event))
            let first = SpecTaskManager.decide(run.state, incoming, context: run.context)
            let second = SpecTaskManager.decide(run.state, incoming, context: run.context)
            #expect(first == second, "\(event.name)")
        }
    }
}
