import Foundation
import SpecTaskDomain
import Testing

/// The three workflows of the original design notes, at the level of the decision function.
@Suite("SpecTaskManager workflows")
struct ManagerWorkflowTests {
    @Test("simple task: a free-form plan is one task, one session, one thread, one instance, then review and done")
    func simpleTask() throws {
        var scenario = try Scenario.implementing(
            plan: PlanFixtures.freeForm,
            name: "Add contact form to website",
            start: StartImplementation(workspaceConfig: .object(["theme": .string("dark")]))
        )
        var state = try #require(scenario.state)
        #expect(state.task.status == .implementation)
        #expect(state.implementationTasks.count == 1)
        #expect(state.workSessions.count == 1)
        #expect(state.zedThreads.count == 1)
        let instance = try #require(state.zedInstance)
        let session = state.workSessions[0]
        let thread = state.zedThreads[0]
        #expect(session.name == #"Add a "Contact us" link to the footer that opens the existing contact page."#)
        #expect(session.status == .active)
        #expect(thread.workSessionID == session.id && thread.status == .pending)
        #expect(state.implementationTask(1)?.status == .assigned)
        #expect(state.implementationTask(1)?.assignedWorkSessionID == session.id)
        #expect(
            scenario.emissions.outcome?.created
                == CreatedIDs(
                    workSessionIDs: [session.id],
                    zedThreadIDs: [thread.id],
                    zedInstanceID: instance.id,
                    implementationTaskIndexes: [1]
                )
        )
        #expect(
            scenario.emissions.zedCommands.map(\.name) == ["create_instance", "create_thread"],
            "the instance is created before its thread"
        )

        try scenario.reportThread(of: session.id, status: .active, externalID: "zed-thread-42")
        #expect(scenario.state?.implementationTask(1)?.status == .inProgress)
        try scenario.reportThread(of: session.id, progress: 60)
        try scenario.reportThread(of: session.id, status: .completed)

        state = try #require(scenario.state)
        #expect(state.session(session.id)?.status == .completed)
        #expect(state.thread(ofSession: session.id)?.status == .completed)
        #expect(state.implementationTask(1)?.status == .completed)
        #expect(state.task.status == .implementationReview)
        #expect(scenario.emissions.specTaskChanges.last?.reason == "all implementation sessions completed")

        try scenario.apply(.approveImplementation(ApproveImplementation(approver: "bob", comments: "ship it")))
        state = try #require(scenario.state)
        #expect(state.task.status == .done)
        #expect(state.zedInstance?.status == .stopped)
        #expect(scenario.emissions.stoppedInstances.map(\.instanceID) == [instance.id])
        let progress = ProgressCalculator.snapshot(
            for: state.task,
            implementationTasks: state.implementationTasks,
            workSessions: state.workSessions,
            zedThreads: state.zedThreads,
            threadProgress: state.threadProgress
        )
        #expect(progress.overallPercent == 100)
    }

    @Test("complex task: five dependent tasks run in dependency order in one instance and all complete")
    func complexTask() throws {
        var scenario = try Scenario.implementing(
            plan: PlanFixtures.authHeadings,
            name: "Implement complete user authentication system",
            start: StartImplementation(agentConfig: .object(["model": .string("large")]))
        )
        var state = try #require(scenario.state)
        #expect(
            state.implementationTasks.map(\.title) == [
                "Database schema", "Backend API", "Frontend UI", "Security hardening", "End-to-end tests",
            ]
        )
        #expect(state.workSessions.map(\.name) == state.implementationTasks.map(\.title))
        #expect(state.workSessions.count == 5 && state.zedThreads.count == 5)
        #expect(state.activeTaskIndexes == [1], "tasks 2...5 all depend on task 1")
        var createdThreads = scenario.emissions.createdThreads
        #expect(createdThreads.map(\.implementationTaskIndex) == [1])
        #expect(createdThreads.first?.agentConfig == .object(["model": .string("large")]))

        try scenario.finishTask(1)
        #expect(scenario.state?.activeTaskIndexes == [2])
        createdThreads += scenario.emissions.createdThreads

        try scenario.finishTask(2)
        #expect(scenario.state?.activeTaskIndexes == [3, 4], "3 and 4 both wait only on 2")
        createdThreads += scenario.emissions.createdThreads

        try scenario.finishTask(4)
        #expect(scenario.state?.activeTaskIndexes == [3], "5 still waits on 3")
        #expect(scenario.state?.implementationTask(5)?.status == .pending)

        try scenario.finishTask(3)
        #expect(scenario.state?.activeTaskIndexes == [5])
        createdThreads += scenario.emissions.createdThreads
        #expect(scenario.state?.task.status == .implementation)

        try scenario.finishTask(5)
        state = try #require(scenario.state)
        #expect(createdThreads.map(\.implementationTaskIndex) == [1, 2, 3, 4, 5])
        #expect(createdThreads.allSatisfy { $0.agentConfig == .object(["model": .string("large")]) })
        #expect(state.task.status == .implementationReview)
        #expect(state.workSessions.count == 5 && state.workSessions.allSatisfy { $0.status == .completed })
        #expect(state.zedThreads.count == 5 && state.zedThreads.allSatisfy { $0.status == .completed })
        #expect(state.implementationTasks.allSatisfy { $0.status == .completed })
        #expect(state.zedInstance?.status == .pending, "one instance, still open for the review")
        #expect(Set(createdThreads.map(\.instanceID)) == [state.zedInstance!.id])

        let progress = ProgressCalculator.snapshot(
            for: state.task,
            implementationTasks: state.implementationTasks,
            workSessions: state.workSessions,
            zedThreads: state.zedThreads,
            threadProgress: state.threadProgress
        )
        #expect(progress.overallPercent == 100)
        #expect(progress.workSessionsByStatus[.completed] == 5)
    }

    @Test("interactive debugging: sessions spawn sessions three levels deep and the task ends with the last one")
    func interactiveDebugging() throws {
        let plan = "Investigate why the user dashboard is slow and fix the worst causes.\n"
        var scenario = try Scenario.implementing(plan: plan, name: "Debug performance issues in user dashboard")
        let main = try scenario.sessionID(task: 1)

        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(parentWorkSessionID: main, name: "Database profiling", workSessionID: "ws-db")
            )
        )
        #expect(scenario.emissions.outcome?.created.workSessionIDs == ["ws-db"])
        #expect(scenario.emissions.outcome?.created.zedThreadIDs.count == 1)
        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(parentWorkSessionID: main, name: "Frontend optimization", workSessionID: "ws-frontend")
            )
        )
        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(
                    parentWorkSessionID: "ws-db",
                    name: "Query optimization",
                    initialPrompt: "Rewrite the three slowest dashboard queries.",
                    workSessionID: "ws-query"
                )
            )
        )
        #expect(
            scenario.emissions.createdThreads.first?.initialPrompt == "Rewrite the three slowest dashboard queries."
        )
        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(parentWorkSessionID: "ws-query", name: "Index tuning", workSessionID: "ws-index")
            )
        )

        var state = try #require(scenario.state)
        #expect(state.workSessions.count == 5 && state.zedThreads.count == 5)
        #expect(state.activeSessions.count == 5, "without a limit every spawned session starts at once")
        let parents = Dictionary(uniqueKeysWithValues: state.workSessions.map { ($0.id, $0.parentWorkSessionID) })
        #expect(
            parents == [main: nil, "ws-db": main, "ws-frontend": main, "ws-query": "ws-db", "ws-index": "ws-query"]
        )
        #expect(state.workSessions.allSatisfy { $0.spawnedByWorkSessionID == $0.parentWorkSessionID })
        #expect(state.workSessions.allSatisfy { $0.implementationTaskIndex == nil || $0.id == main })

        // The main session finishing does not end the task while its spawned sessions still run.
        try scenario.reportThread(of: main, status: .completed)
        #expect(scenario.state?.task.status == .implementation)
        for id in ["ws-index", "ws-query", "ws-frontend"] {
            try scenario.setSessionStatus(id, .completed)
            #expect(scenario.state?.task.status == .implementation)
        }
        try scenario.setSessionStatus("ws-db", .completed)
        state = try #require(scenario.state)
        #expect(state.task.status == .implementationReview)
        #expect(state.zedThreads.allSatisfy { $0.status == .completed })
    }
}
