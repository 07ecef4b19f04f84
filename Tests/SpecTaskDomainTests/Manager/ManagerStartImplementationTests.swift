import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: starting implementation")
struct ManagerStartImplementationTests {
    @Test("the plan becomes tasks, one instance, one session and thread per task, announced in a stable order")
    func emissionOrder() throws {
        let scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let names = scenario.emissions.map { emission -> String in
            switch emission {
            case .status(let event):
                switch event {
                case .workSessionChanged(let change): "\(event.name) \(change.workSession.id) \(change.to)"
                case .implementationTaskChanged(let change):
                    "\(event.name) \(change.implementationTask.index) \(change.to)"
                case .zedThreadChanged(let change): "\(event.name) \(change.zedThread.id) \(change.to)"
                default: event.name
                }
            case .zed(let command): command.type
            case .coordination(let entry): "coordination \(entry.id)"
            }
        }
        #expect(
            names == [
                "command_applied",
                "spec_task_changed",
                "implementation_task_changed 1 pending",
                "implementation_task_changed 2 pending",
                "implementation_task_changed 3 pending",
                "implementation_task_changed 4 pending",
                "implementation_task_changed 5 pending",
                "zed_instance_changed",
                "zed.command.create_instance",
                "work_session_changed ws-cmd-5-1 pending",
                "zed_thread_changed zt-cmd-5-1 pending",
                "work_session_changed ws-cmd-5-2 pending",
                "zed_thread_changed zt-cmd-5-2 pending",
                "work_session_changed ws-cmd-5-3 pending",
                "zed_thread_changed zt-cmd-5-3 pending",
                "work_session_changed ws-cmd-5-4 pending",
                "zed_thread_changed zt-cmd-5-4 pending",
                "work_session_changed ws-cmd-5-5 pending",
                "zed_thread_changed zt-cmd-5-5 pending",
                "work_session_changed ws-cmd-5-1 active",
                "implementation_task_changed 1 assigned",
                "zed.command.create_thread",
            ]
        )
        let creations = scenario.emissions.workSessionChanges.filter { $0.from == nil }
        #expect(creations.count == 5)
        #expect(scenario.emissions.specTaskChanges.first?.from == .specApproved)
        #expect(scenario.emissions.specTaskChanges.first?.reason == "implementation started with 5 work sessions")
        #expect(
            scenario.emissions.outcome?.created
                == CreatedIDs(
                    workSessionIDs: (1...5).map { "ws-cmd-5-\($0)" },
                    zedThreadIDs: (1...5).map { "zt-cmd-5-\($0)" },
                    zedInstanceID: "zi-cmd-5-1",
                    implementationTaskIndexes: [1, 2, 3, 4, 5]
                )
        )
    }

    @Test("the sessions carry their task: name, description, index, first attempt, implementation phase")
    func sessionsFromPlan() throws {
        let scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let state = try #require(scenario.state)
        let time = ManagerFixtures.start.addingTimeInterval(5)
        for (session, task) in zip(state.workSessions, state.implementationTasks) {
            #expect(session.name == task.title)
            #expect(session.description == task.description)
            #expect(session.implementationTaskIndex == task.index)
            #expect(session.attempt == 1)
            #expect(session.phase == .implementation)
            #expect(session.parentWorkSessionID == nil && session.spawnedByWorkSessionID == nil)
            #expect(session.createdAt == time)
            #expect(state.thread(ofSession: session.id)?.status == .pending)
        }
        #expect(state.implementationTask(5)?.dependsOn == [3, 4])
        #expect(state.workSessions[0].startedAt == time)
        #expect(state.workSessions[1].startedAt == nil)
    }

    @Test("the instance and first thread commands carry the project, configs, token and a prompt from the task")
    func zedCommands() throws {
        let scenario = try Scenario.implementing(
            plan: PlanFixtures.authHeadings,
            start: StartImplementation(
                projectPath: "/work/auth",
                workspaceConfig: .object(["formatOnSave": .bool(true)]),
                agentConfig: .object(["model": .string("large")]),
                maxConcurrentSessions: 4
            )
        )
        #expect(
            scenario.emissions.zedCommands.first
                == .createInstance(
                    CreateZedInstance(
                        instanceID: "zi-cmd-5-1",
                        specTaskID: "st-1",
                        projectPath: "/work/auth",
                        workspaceConfig: .object(["formatOnSave": .bool(true)]),
                        runnerToken: "token-for-zi-cmd-5-1"
                    )
                )
        )
        let thread = try #require(scenario.emissions.createdThreads.first)
        #expect(
            thread
                == CreateZedThread(
                    instanceID: "zi-cmd-5-1",
                    specTaskID: "st-1",
                    workSessionID: "ws-cmd-5-1",
                    threadID: "zt-cmd-5-1",
                    name: "Database schema",
                    description: "Tables for users, credentials and sessions, with migrations.",
                    implementationTaskIndex: 1,
                    implementationTaskTitle: "Database schema",
                    initialPrompt: """
                        Implement task 1 of the plan for "Implement user authentication": Database schema.

                        Tables for users, credentials and sessions, with migrations.

                        Acceptance criteria: migrations apply on an empty database and roll back cleanly;
                        unique index on the normalised email.
                        """,
                    agentConfig: .object(["model": .string("large")])
                )
        )
        #expect(scenario.task.projectPath == "/work/auth")
        #expect(scenario.task.maxConcurrentSessions == 4)
        #expect(scenario.task.agentConfig == .object(["model": .string("large")]))
    }

    @Test("without a project path in the command the task's own is used")
    func projectPathFromTask() throws {
        let scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        guard case .createInstance(let instance) = scenario.emissions.zedCommands.first else {
            Issue.record("no create_instance")
            return
        }
        #expect(instance.projectPath == "/repo")
        #expect(instance.workspaceConfig == nil)
        #expect(scenario.emissions.createdThreads.first?.agentConfig == nil)
    }

    @Test("a Kiro plan's sub-tasks become each task's checklist and are listed in its prompt")
    func kiroChecklist() throws {
        let scenario = try Scenario.implementing(plan: PlanFixtures.kiroTasks, name: "Speed up the dashboard")
        let state = try #require(scenario.state)
        #expect(state.implementationTasks.count == 4)
        #expect(state.activeTaskIndexes == [1, 2, 3, 4], "Kiro tasks without dependencies all start")
        let prompt = try #require(
            scenario.emissions.createdThreads.first { $0.implementationTaskIndex == 2 }?.initialPrompt
        )
        #expect(
            prompt.hasPrefix(#"Implement task 2 of the plan for "Speed up the dashboard": Optimise database access."#)
        )
        #expect(
            prompt.hasSuffix(
                "Checklist:\n- 2.1 Add composite index for the activity feed query\n- 2.2 Remove N+1 queries in the widgets loader (done)"
            )
        )
    }

    @Test("client-chosen ids are used for the instance and the sessions")
    func clientChosenIDs() throws {
        let scenario = try Scenario.implementing(
            plan: PlanFixtures.numberedSimple,
            start: StartImplementation(
                zedInstanceID: "zi-main",
                workSessionIDs: ["ws-form", "ws-endpoint", "ws-tests"]
            )
        )
        let state = try #require(scenario.state)
        #expect(state.zedInstance?.id == "zi-main")
        #expect(state.workSessions.map(\.id) == ["ws-form", "ws-endpoint", "ws-tests"])
        #expect(state.zedThreads.map(\.id) == ["zt-cmd-5-1", "zt-cmd-5-2", "zt-cmd-5-3"])
        #expect(scenario.emissions.outcome?.created.workSessionIDs == ["ws-form", "ws-endpoint", "ws-tests"])
        #expect(scenario.emissions.outcome?.created.zedInstanceID == "zi-main")
    }

    @Test(
        "work session ids must be one per task, distinct and not blank",
        arguments: [
            (["ws-a", "ws-b"], "has 2 ids, but the plan of spec task st-1 has 3 implementation tasks"),
            (["ws-a", "ws-b", "ws-c", "ws-d"], "has 4 ids"),
            (["ws-a", "ws-b", "ws-a"], "names work session ws-a twice"),
            (["ws-a", "", "ws-c"], "is empty"),
        ]
    )
    func invalidSessionIDs(ids: [String], expectedMessage: String) throws {
        var scenario = try Scenario.approved(plan: PlanFixtures.numberedSimple)
        let rejection = try scenario.reject(.startImplementation(StartImplementation(workSessionIDs: ids)))
        #expect(rejection.code == .invalidArgument)
        #expect(rejection.message.contains(expectedMessage), "\(rejection.message)")
        #expect(scenario.task.status == .specApproved)
    }

    @Test("a blank instance id or a limit outside 1...1000 is rejected")
    func invalidArguments() throws {
        var scenario = try Scenario.approved(plan: PlanFixtures.freeForm)
        #expect(
            try scenario.reject(.startImplementation(StartImplementation(zedInstanceID: " "))).code == .invalidArgument
        )
        #expect(
            try scenario.reject(.startImplementation(StartImplementation(maxConcurrentSessions: 0))).code
                == .invalidArgument
        )
        #expect(
            try scenario.reject(.startImplementation(StartImplementation(maxConcurrentSessions: 1001))).code
                == .invalidArgument
        )
    }

    @Test("implementation starts only from approved specs, and only once")
    func wrongStatus() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        try scenario.apply(.startPlanning(StartPlanning()))
        try scenario.apply(
            .submitSpecs(SubmitSpecs(requirements: "r", design: "d", implementationPlan: PlanFixtures.freeForm))
        )
        let early = try scenario.reject(.startImplementation(StartImplementation()))
        #expect(
            early
                == Rejection(
                    .illegalTransition,
                    "start_implementation needs spec task st-1 in spec_approved; it is in spec_review"
                )
        )

        try scenario.apply(.approveSpecs(ApproveSpecs(approver: "alice")))
        try scenario.apply(.startImplementation(StartImplementation()))
        let again = try scenario.reject(.startImplementation(StartImplementation()))
        #expect(again.code == .illegalTransition)
        #expect(again.message.hasSuffix("it is in implementation"))
        #expect(scenario.state?.workSessions.count == 1)
    }

    @Test("a numbered plan without dependencies starts every session at once when there is no limit")
    func noLimit() throws {
        let scenario = try Scenario.implementing(plan: PlanFixtures.numberedSimple)
        #expect(scenario.state?.activeTaskIndexes == [1, 2, 3])
        #expect(scenario.emissions.createdThreads.map(\.threadID) == ["zt-cmd-5-1", "zt-cmd-5-2", "zt-cmd-5-3"])
    }
}
