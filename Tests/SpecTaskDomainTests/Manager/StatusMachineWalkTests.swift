import Foundation
import SpecTaskDomain
import Testing

/// Every edge of every status machine is taken at least once by some command or Zed event: no status is a trap
/// that nothing leads into or out of. The tours below drive spec tasks through the manager, and every status
/// change they emit is recorded; the edges of the transition tables that no tour takes are listed with the reason
/// (what is still missing to reach them), and taking one of those fails the test too, so the list only shrinks.
@Suite("Status machines: every edge walked")
struct StatusMachineWalkTests {
    /// Edges of the tables that no command or event can take yet, and why.
    static let notYetReachable: [String: String] = [
        // A session lets go of its implementation task only through blocked (which blocks the task first) or by
        // ending (completed, or blocked for a retry); a pending task has no session that could block it.
        "implementation_task assigned → pending": "a session leaves its task only through blocked or its end",
        "implementation_task in_progress → pending": "a session leaves its task only through blocked or its end",
        "implementation_task pending → blocked": "only a session blocks its task, and a pending task has none",
        "implementation_task blocked → in_progress": "a resumed session takes its task back (assigned) first",
    ]

    @Test("the tours take every edge but the listed ones, and none of those")
    func everyEdge() throws {
        var walked = Set<String>()
        for (number, tour) in Self.tours.enumerated() {
            var walk = Walk()
            do {
                try tour(&walk)
            } catch {
                Issue.record("tour \(number + 1) stopped: \(error)")
            }
            walked.formUnion(walk.edges)
        }
        let all = Self.tableEdges()
        let missing = all.subtracting(walked).subtracting(Self.notYetReachable.keys)
        #expect(missing.isEmpty, "edges no tour takes:\n\(missing.sorted().joined(separator: "\n"))")
        let reachedNow = walked.intersection(Self.notYetReachable.keys)
        #expect(reachedNow.isEmpty, "listed as not reachable but taken: \(reachedNow.sorted())")
        #expect(walked.isSubset(of: all), "edges outside the tables: \(walked.subtracting(all).sorted())")
    }

    static func tableEdges() -> Set<String> {
        func edges<Status: LifecycleStatus>(_ name: String, _: Status.Type) -> [String] {
            Status.transitions.flatMap { from, targets in targets.map { "\(name) \(from.rawValue) → \($0.rawValue)" } }
        }
        return Set(
            edges("spec_task", SpecTaskStatus.self) + edges("work_session", WorkSessionStatus.self)
                + edges("zed_thread", ZedThreadStatus.self)
                + edges("implementation_task", ImplementationTaskStatus.self)
                + edges("zed_instance", ZedInstanceStatus.self)
        )
    }

    // MARK: - Tours

    static let plan = ManagerFixtures.fiveIndependentTasks
    static let session1 = ZedRun.session(1)
    static let session2 = ZedRun.session(2)
    static let instance = ZedRun.instanceID
    /// The planning session's instance and session when `start_planning` is the second command.
    static let planningInstance = "zi-cmd-2-1"
    static let planner = "ws-cmd-2-1"

    static let tours: [@Sendable (inout Walk) throws -> Void] = [
        // The spec side, cancelled from each status on the way.
        { walk in
            try walk.create()
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            try walk.create()
            try walk.command(.startPlanning(StartPlanning()))
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            try walk.toReview()
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            try walk.toReview()
            try walk.command(.requestChanges(RequestChanges(comments: "more detail")))
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            // Revision → review by new specs, and revision → generation by planning again.
            try walk.toReview()
            try walk.command(.requestChanges(RequestChanges(comments: "more detail")))
            try walk.submitSpecs()
            try walk.command(.requestChanges(RequestChanges(comments: "start over")))
            try walk.command(.startPlanning(StartPlanning()))
            try walk.submitSpecs()
            try walk.command(.approveSpecs(ApproveSpecs(approver: "ann")))
            try walk.command(.cancel(CancelSpecTask()))
        },
        // The planning session fails while generating (then plans again) and while revising; spec_failed cancelled.
        { walk in
            try walk.create()
            try walk.command(.startPlanning(StartPlanning(inZed: true)))
            try walk.event(
                .planningFailed(ZedPlanningFailed(instanceID: planningInstance, workSessionID: planner, reason: "x"))
            )
            try walk.command(.startPlanning(StartPlanning(inZed: true)))
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            try walk.create()
            try walk.command(.startPlanning(StartPlanning(inZed: true)))
            try walk.event(
                .specsSubmitted(
                    ZedSpecsSubmitted(
                        instanceID: planningInstance,
                        workSessionID: planner,
                        requirements: "R",
                        design: "D",
                        implementationPlan: plan
                    )
                )
            )
            try walk.command(.requestChanges(RequestChanges(comments: "more detail")))
            try walk.event(
                .planningFailed(ZedPlanningFailed(instanceID: planningInstance, workSessionID: planner, reason: "x"))
            )
            try walk.command(.cancel(CancelSpecTask()))
        },
        // Implementation: all done, review, changes, review again, done.
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            for index in 1...5 { try walk.finish(ZedRun.session(index)) }
            try walk.command(
                .requestImplementationChanges(
                    RequestImplementationChanges(comments: "again", implementationTaskIndexes: [1])
                )
            )
            try walk.finish(try walk.newestSession(task: 1))
            try walk.command(.approveImplementation(ApproveImplementation(approver: "ann")))
        },
        // Review cancelled; implementation cancelled with sessions pending, active and blocked.
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            for index in 1...5 { try walk.finish(ZedRun.session(index)) }
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            try walk.implementing(limit: 2)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.session(session2, .blocked)
            try walk.command(.cancel(CancelSpecTask()))
        },
        // A failure: the task fails; a retry brings it back; a blocked session resumes.
        { walk in
            try walk.implementing(limit: 1)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.created(session1)
            try walk.event(
                .threadFailed(ZedThreadFailed(instanceID: instance, workSessionID: session1, reason: "crash"))
            )
            try walk.command(.retryWorkSession(RetryWorkSession(workSessionID: session1)))
            try walk.command(.cancel(CancelSpecTask()))
        },
        { walk in
            // Without a limit the scheduler starts a session put back in the queue at once.
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.session(session1, .blocked)
            try walk.session(session1, .active)
            try walk.session(session1, .blocked)
            try walk.session(session1, .pending)
            try walk.session(session1, .blocked)
            try walk.session(session1, .failed)
        },
        { walk in
            try walk.implementing(limit: 1)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.created(session1)
            try walk.session(session1, .failed)
        },
        { walk in
            try walk.implementing(limit: 1)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.created(session1)
            try walk.session(session1, .cancelled)
        },
        // A one-task plan whose only session fails: the spec task fails; a retry brings it back, or it is cancelled.
        { walk in
            try walk.implementing(plan: PlanFixtures.freeForm)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.created(session1)
            try walk.event(.threadFailed(ZedThreadFailed(instanceID: instance, workSessionID: session1, reason: "x")))
            try walk.command(.retryWorkSession(RetryWorkSession(workSessionID: session1)))
            try walk.finish(try walk.newestSession(task: 1))
        },
        { walk in
            try walk.implementing(plan: PlanFixtures.freeForm)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.session(session1, .failed)
            try walk.command(.cancel(CancelSpecTask()))
        },
        // A waiting session blocked by hand; a blocked session whose thread reports it is working.
        { walk in
            try walk.implementing(limit: 1)
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.session(session2, .blocked)
            try walk.session(session1, .blocked)
            try walk.event(
                .threadStatusChanged(
                    ZedThreadStatusChanged(instanceID: instance, workSessionID: session1, status: .active)
                )
            )
        },
        // A disconnected thread closed by cancelling the spec task.
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.created(session1)
            try walk.event(
                .threadStatusChanged(
                    ZedThreadStatusChanged(instanceID: instance, workSessionID: session1, status: .disconnected)
                )
            )
            try walk.command(.cancel(CancelSpecTask()))
        },
        // Threads that finish before they report, and threads that come and go.
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.event(.threadCompleted(ZedThreadCompleted(instanceID: instance, workSessionID: session1)))
            try walk.event(
                .threadFailed(ZedThreadFailed(instanceID: instance, workSessionID: session2, reason: "no start"))
            )
            try walk.created(ZedRun.session(3))
            try walk.event(
                .threadStatusChanged(
                    ZedThreadStatusChanged(
                        instanceID: instance,
                        workSessionID: ZedRun.session(3),
                        status: .disconnected
                    )
                )
            )
            try walk.created(ZedRun.session(3))
            try walk.event(
                .threadStatusChanged(
                    ZedThreadStatusChanged(
                        instanceID: instance,
                        workSessionID: ZedRun.session(3),
                        status: .disconnected
                    )
                )
            )
            try walk.event(
                .threadFailed(ZedThreadFailed(instanceID: instance, workSessionID: ZedRun.session(3), reason: "lost"))
            )
        },
        // The instance: lost and back, failed and back, stopped from each status.
        { walk in
            try walk.implementing()
            try walk.command(.stopZedInstance(StopZedInstance()))
        },
        { walk in
            try walk.implementing()
            try walk.event(.instanceError(ZedInstanceError(instanceID: instance, error: "no workspace")))
            try walk.event(.heartbeat(ZedHeartbeat(instanceID: instance)))
            try walk.event(.instanceDisconnected(ZedInstanceDisconnected(instanceID: instance)))
            try walk.event(.heartbeat(ZedHeartbeat(instanceID: instance)))
            try walk.event(.instanceDisconnected(ZedInstanceDisconnected(instanceID: instance)))
            try walk.event(.instanceError(ZedInstanceError(instanceID: instance, error: "gone")))
            try walk.command(.stopZedInstance(StopZedInstance()))
        },
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.created(session1)
            try walk.event(.instanceError(ZedInstanceError(instanceID: instance, error: "crash")))
        },
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.event(.instanceDisconnected(ZedInstanceDisconnected(instanceID: instance)))
            try walk.command(.stopZedInstance(StopZedInstance()))
        },
        { walk in
            try walk.implementing()
            try walk.event(.instanceReady(ZedInstanceReady(instanceID: instance)))
            try walk.command(.stopZedInstance(StopZedInstance()))
        },
    ]
}

/// One tour: a spec task driven through the manager, every status change it emits recorded as an edge.
struct Walk {
    private var scenario = Scenario()
    private var run: ZedRun?
    private(set) var edges: Set<String> = []

    mutating func command(_ command: SpecTaskCommand, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if run != nil {
            record(try run!.apply(command, sourceLocation: sourceLocation))
        } else {
            record(try scenario.apply(command, sourceLocation: sourceLocation))
        }
    }

    mutating func event(_ event: ZedEvent, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if run == nil { run = try ZedRun(scenario, sourceLocation: sourceLocation) }
        record(try run!.send(event, sourceLocation: sourceLocation))
    }

    mutating func create() throws {
        try command(.create(CreateSpecTask(name: "Walk", projectPath: "/repo")))
    }

    mutating func submitSpecs(plan: String = StatusMachineWalkTests.plan) throws {
        try command(.submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: plan)))
    }

    mutating func toReview(plan: String = StatusMachineWalkTests.plan) throws {
        try create()
        try command(.startPlanning(StartPlanning()))
        try submitSpecs(plan: plan)
    }

    mutating func implementing(plan: String = StatusMachineWalkTests.plan, limit: Int? = nil) throws {
        try toReview(plan: plan)
        try command(.approveSpecs(ApproveSpecs(approver: "ann")))
        try command(.startImplementation(StartImplementation(maxConcurrentSessions: limit)))
    }

    mutating func session(_ id: String, _ status: WorkSessionStatus) throws {
        try command(.updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: id, status: status)))
    }

    mutating func created(_ session: String) throws {
        let instance = StatusMachineWalkTests.instance
        try event(
            .threadCreated(
                ZedThreadCreated(instanceID: instance, workSessionID: session, zedThreadExternalID: "zed-\(session)")
            )
        )
    }

    /// The runner reports the session's thread created, then completed.
    mutating func finish(_ session: String) throws {
        try created(session)
        try event(
            .threadCompleted(ZedThreadCompleted(instanceID: StatusMachineWalkTests.instance, workSessionID: session))
        )
    }

    func newestSession(task index: Int) throws -> String {
        let state = try #require(run?.state ?? scenario.state)
        return try #require(state.workSessions.filter { $0.implementationTaskIndex == index }.last?.id)
    }

    private mutating func record(_ emissions: [Emission]) {
        func add<Status: LifecycleStatus>(_ name: String, _ from: Status?, _ to: Status) {
            if let from, from != to { edges.insert("\(name) \(from.rawValue) → \(to.rawValue)") }
        }
        for change in emissions.specTaskChanges { add("spec_task", change.from, change.to) }
        for change in emissions.workSessionChanges { add("work_session", change.from, change.to) }
        for change in emissions.zedThreadChanges { add("zed_thread", change.from, change.to) }
        for change in emissions.implementationTaskChanges { add("implementation_task", change.from, change.to) }
        for change in emissions.zedInstanceChanges { add("zed_instance", change.from, change.to) }
    }
}
