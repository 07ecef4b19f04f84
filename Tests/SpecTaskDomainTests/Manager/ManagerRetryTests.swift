import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: retrying work sessions")
struct ManagerRetryTests {
    @Test("retrying a failed session makes attempt 2, which starts, completes and finishes the task")
    func retryAfterFailure() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let first = try scenario.sessionID(task: 1)
        try scenario.reportThread(of: first, status: .failed)
        #expect(scenario.task.status == .implementationFailed)

        let emissions = try scenario.apply(.retryWorkSession(RetryWorkSession(workSessionID: first)))
        #expect(emissions.outcome?.created == CreatedIDs(workSessionIDs: ["ws-cmd-7-1"], zedThreadIDs: ["zt-cmd-7-1"]))
        #expect(scenario.task.status == .implementation)
        #expect(emissions.specTaskChanges.map(\.reason) == ["work session \(first) retried"])
        #expect(emissions.implementationTaskChanges.map(\.to) == [.pending, .assigned])

        let retry = try #require(scenario.state?.session("ws-cmd-7-1"))
        let original = try #require(scenario.state?.session(first))
        #expect(retry.attempt == 2)
        #expect(retry.name == original.name && retry.description == original.description)
        #expect(retry.implementationTaskIndex == 1)
        #expect(retry.status == .active)
        #expect(scenario.state?.implementationTask(1)?.assignedWorkSessionID == retry.id)
        let thread = try #require(emissions.createdThreads.first)
        #expect(thread.threadID == "zt-cmd-7-1")
        #expect(thread.initialPrompt.hasSuffix("This is attempt 2; an earlier attempt did not finish."))

        try scenario.finishTask(1)
        #expect(scenario.state?.session(retry.id)?.status == .completed)
        #expect(scenario.state?.implementationTask(1)?.status == .completed)
        #expect(scenario.task.status == .implementationReview)
    }

    @Test("a cancelled session can be retried with a chosen id while the task stays in implementation")
    func retryCancelled() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let first = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(first, .cancelled)
        #expect(scenario.task.status == .implementation)
        try scenario.apply(.retryWorkSession(RetryWorkSession(workSessionID: first, newWorkSessionID: "ws-schema-2")))
        #expect(scenario.state?.session("ws-schema-2")?.status == .active)
        #expect(scenario.emissions.specTaskChanges.isEmpty)
    }

    @Test("attempts count per task: retrying attempt 2 makes attempt 3")
    func thirdAttempt() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        try scenario.setSessionStatus(try scenario.sessionID(task: 1), .failed)
        try scenario.apply(.retryWorkSession(RetryWorkSession(workSessionID: try scenario.sessionID(task: 1))))
        try scenario.setSessionStatus(try scenario.sessionID(task: 1), .failed)
        try scenario.apply(.retryWorkSession(RetryWorkSession(workSessionID: try scenario.sessionID(task: 1))))
        #expect(scenario.state?.sessions(forTask: 1).map(\.attempt) == [1, 2, 3])
    }

    @Test("only a failed or cancelled session of an implementation task can be retried")
    func rejections() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let main = try scenario.sessionID(task: 1)
        let active = try scenario.reject(.retryWorkSession(RetryWorkSession(workSessionID: main)))
        #expect(
            active
                == Rejection(
                    .illegalTransition,
                    "work session \(main) is active; only a failed or cancelled work session can be retried"
                )
        )

        let unknown = try scenario.reject(.retryWorkSession(RetryWorkSession(workSessionID: "ws-x")))
        #expect(unknown.code == .unknownWorkSession)

        // A helper without a task, and a helper whose task got completed by the main session.
        try scenario.apply(
            .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: main, name: "Notes", workSessionID: "ws-notes"))
        )
        try scenario.apply(
            .spawnWorkSession(
                SpawnWorkSession(
                    parentWorkSessionID: main,
                    name: "Seed",
                    implementationTaskIndex: 1,
                    workSessionID: "ws-seed"
                )
            )
        )
        try scenario.setSessionStatus("ws-notes", .cancelled)
        try scenario.setSessionStatus("ws-seed", .cancelled)
        let noTask = try scenario.reject(.retryWorkSession(RetryWorkSession(workSessionID: "ws-notes")))
        #expect(noTask.code == .invalidArgument)
        #expect(noTask.message.contains("works on no implementation task"))

        try scenario.setSessionStatus(main, .completed)
        let done = try scenario.reject(.retryWorkSession(RetryWorkSession(workSessionID: "ws-seed")))
        #expect(
            done
                == Rejection(
                    .illegalTransition,
                    "implementation task 1 of spec task st-1 is already completed; there is nothing to retry"
                )
        )
    }

    @Test("a failure is retried once: a second retry while the first attempt runs is a conflict")
    func newerAttempt() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let first = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(first, .failed)
        try scenario.apply(.retryWorkSession(RetryWorkSession(workSessionID: first, newWorkSessionID: "ws-2")))
        let rejection = try scenario.reject(.retryWorkSession(RetryWorkSession(workSessionID: first)))
        #expect(
            rejection
                == Rejection(
                    .conflict,
                    "implementation task 1 already has a newer attempt, work session ws-2 (active); retry that one if it fails"
                )
        )
        let taken = try scenario.reject(
            .retryWorkSession(RetryWorkSession(workSessionID: "ws-2", newWorkSessionID: first))
        )
        #expect(taken.code == .illegalTransition, "ws-2 is active, so that is what is wrong first")
    }

    @Test("a chosen id that is taken is a conflict")
    func idTaken() throws {
        var scenario = try Scenario.implementing(plan: PlanFixtures.numberedSimple)
        let first = try scenario.sessionID(task: 1)
        try scenario.setSessionStatus(first, .failed)
        let rejection = try scenario.reject(
            .retryWorkSession(RetryWorkSession(workSessionID: first, newWorkSessionID: try scenario.sessionID(task: 2)))
        )
        #expect(rejection.code == .conflict)
    }

    @Test("no retry once the instance is stopped or the spec task is cancelled")
    func afterStopOrCancel() throws {
        var stopped = try Scenario.implementing(plan: PlanFixtures.freeForm)
        let session = try stopped.sessionID(task: 1)
        try stopped.apply(.stopZedInstance(StopZedInstance()))
        let afterStop = try stopped.reject(.retryWorkSession(RetryWorkSession(workSessionID: session)))
        #expect(afterStop.code == .illegalTransition)
        #expect(afterStop.message.contains("Zed instance zi-cmd-5-1 of spec task st-1 is stopped"))

        var cancelled = try Scenario.implementing(plan: PlanFixtures.freeForm)
        try cancelled.apply(.cancel(CancelSpecTask()))
        let afterCancel = try cancelled.reject(.retryWorkSession(RetryWorkSession(workSessionID: session)))
        #expect(
            afterCancel
                == Rejection(
                    .illegalTransition,
                    "retry_work_session needs spec task st-1 in implementation or implementation_failed; it is in cancelled"
                )
        )
    }
}
