import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: spawning work sessions")
struct ManagerSpawnTests {
    @Test("a spawned session gets generated ids, a thread, its parent links and starts at once without a limit")
    func spawn() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let main = try scenario.sessionID(task: 1)
        let emissions = try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(
                    parentWorkSessionID: main,
                    name: "  Database profiling ",
                    description: "Find slow queries"
                )
            )
        )
        #expect(emissions.outcome?.created == CreatedIDs(workSessionIDs: ["ws-cmd-6-1"], zedThreadIDs: ["zt-cmd-6-1"]))
        let session = try #require(scenario.state?.session("ws-cmd-6-1"))
        #expect(session.name == "Database profiling")
        #expect(session.description == "Find slow queries")
        #expect(session.parentWorkSessionID == main && session.spawnedByWorkSessionID == main)
        #expect(session.attempt == 1 && session.phase == .implementation && session.implementationTaskIndex == nil)
        #expect(session.status == .active)
        #expect(scenario.state?.thread(ofSession: session.id)?.id == "zt-cmd-6-1")
        #expect(
            emissions.workSessionChanges.map { "\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" } == [
                "nil→pending", "pending→active",
            ]
        )
        let thread = try #require(emissions.createdThreads.first)
        #expect(
            thread.initialPrompt
                == "Work on \"Database profiling\" for \"Implement user authentication\".\n\nFind slow queries"
        )
    }

    @Test("a session spawned for an implementation task helps without taking the task over")
    func spawnForTask() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let main = try scenario.sessionID(task: 1)
        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(
                    parentWorkSessionID: main,
                    name: "Seed data",
                    implementationTaskIndex: 1,
                    workSessionID: "ws-seed"
                )
            )
        )
        #expect(scenario.state?.session("ws-seed")?.status == .active)
        #expect(scenario.emissions.createdThreads.first?.implementationTaskTitle == "Database schema")
        #expect(scenario.state?.implementationTask(1)?.assignedWorkSessionID == main)

        try scenario.setSessionStatus("ws-seed", .completed)
        #expect(
            scenario.state?.implementationTask(1)?.status == .assigned,
            "the helper finishing does not finish the task"
        )
        #expect(scenario.state?.activeTaskIndexes == [1])

        try scenario.setSessionStatus(main, .completed)
        #expect(scenario.state?.implementationTask(1)?.status == .completed)
        #expect(scenario.state?.activeTaskIndexes == [2])
    }

    @Test("spawning needs the task in implementation")
    func wrongStatus() throws {
        var scenario = try Scenario.approved(plan: PlanFixtures.freeForm)
        let rejection = try scenario.reject(
            .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: "ws-1", name: "Helper"))
        )
        #expect(
            rejection
                == Rejection(
                    .illegalTransition,
                    "spawn_work_session needs spec task st-1 in implementation; it is in spec_approved"
                )
        )
    }

    @Test("the parent must exist and be active")
    func parent() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let unknown = try scenario.reject(
            .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: "ws-x", name: "Helper"))
        )
        #expect(unknown == Rejection(.unknownWorkSession, "work session ws-x does not exist in spec task st-1"))

        let waiting = try scenario.sessionID(task: 2)
        let pending = try scenario.reject(
            .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: waiting, name: "Helper"))
        )
        #expect(
            pending
                == Rejection(
                    .illegalTransition,
                    "work session \(waiting) is pending; only an active work session can spawn another"
                )
        )
    }

    @Test("the implementation task must exist, the name must be given, a chosen id must be free")
    func arguments() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let main = try scenario.sessionID(task: 1)
        let unknownTask = try scenario.reject(
            .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: main, name: "Helper", implementationTaskIndex: 9))
        )
        #expect(
            unknownTask
                == Rejection(
                    .unknownImplementationTask,
                    "spec task st-1 has no implementation task 9; its implementation tasks are 1...5"
                )
        )

        let blank = try scenario.reject(.spawnWorkSession(SpawnWorkSession(parentWorkSessionID: main, name: " ")))
        #expect(blank.code == .invalidArgument)

        let taken = try scenario.reject(
            .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: main, name: "Helper", workSessionID: main))
        )
        #expect(
            taken
                == Rejection(.conflict, "work session id \(main) is already used in spec task st-1; choose another id")
        )
        #expect(scenario.state?.workSessions.count == 5)
    }
}
