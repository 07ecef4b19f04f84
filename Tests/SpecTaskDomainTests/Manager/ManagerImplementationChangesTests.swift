import Foundation
import SpecTaskDomain
import Testing

/// request_implementation_changes: implementation_review → implementation, with the named tasks done again.
@Suite("SpecTaskManager: a reviewer asks for changes to the implementation")
struct ManagerImplementationChangesTests {
    /// The five-task authentication plan, every task finished: the spec task is in implementation_review.
    private static func inReview() throws -> Scenario {
        var scenario = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        for index in [1, 2, 3, 4, 5] { try scenario.finishTask(index) }
        #expect(scenario.task.status == .implementationReview)
        return scenario
    }

    @Test("the named tasks reopen with new sessions that carry the comments; completing them is review again")
    func reopenAndFinish() throws {
        var scenario = try Self.inReview()
        let firstAttempts = [2, 4].map { scenario.state?.sessions(forTask: $0).last }
        let emissions = try scenario.apply(
            .requestImplementationChanges(
                RequestImplementationChanges(
                    reviewer: "bob",
                    comments: "Refresh tokens must expire.",
                    implementationTaskIndexes: [4, 2]
                )
            )
        )
        #expect(scenario.task.status == .implementation)
        #expect(
            emissions.specTaskChanges.map(\.reason)
                == ["changes requested by bob on implementation tasks 4, 2: Refresh tokens must expire."]
        )
        // Task 4 depends on task 2, which is not completed any more: its new session waits for it.
        #expect(
            scenario.state?.implementationTasks.map(\.status) == [
                .completed, .assigned, .completed, .pending, .completed,
            ]
        )
        for (index, first) in zip([2, 4], firstAttempts) {
            let sessions = try #require(scenario.state?.sessions(forTask: index))
            #expect(sessions.map(\.attempt) == [1, 2])
            #expect(sessions.last?.name == first?.name)
        }
        let revision2 = try scenario.sessionID(task: 2)
        #expect(scenario.state?.session(revision2)?.status == .active)
        #expect(scenario.state?.implementationTask(2)?.assignedWorkSessionID == revision2)
        #expect(scenario.state?.session(try scenario.sessionID(task: 4))?.status == .pending)
        // The new thread gets the task's own prompt, then the comments; a revision is not a retry of a failure.
        let comment = "The reviewer, bob, asked for changes to the finished work: Refresh tokens must expire."
        let prompt = try #require(emissions.createdThreads.first?.initialPrompt)
        #expect(emissions.createdThreads.count == 1)
        #expect(prompt.hasPrefix("Implement task 2 of the plan"))
        #expect(prompt.hasSuffix(comment))
        #expect(!prompt.contains("did not finish"))

        try scenario.finishTask(2)
        #expect(scenario.task.status == .implementation, "task 4 is still to be changed")
        let revision4 = try scenario.sessionID(task: 4)
        #expect(scenario.state?.session(revision4)?.status == .active)
        #expect(scenario.emissions.createdThreads.first?.initialPrompt.hasSuffix(comment) == true)
        try scenario.finishTask(4)
        #expect(scenario.task.status == .implementationReview)
        try scenario.apply(.approveImplementation(ApproveImplementation(approver: "bob")))
        #expect(scenario.task.status == .done)
    }

    @Test("a second round of changes makes attempt 3")
    func secondRound() throws {
        var scenario = try Self.inReview()
        let request = RequestImplementationChanges(comments: "Again.", implementationTaskIndexes: [5])
        try scenario.apply(.requestImplementationChanges(request))
        try scenario.finishTask(5)
        try scenario.apply(.requestImplementationChanges(request))
        #expect(scenario.state?.sessions(forTask: 5).map(\.attempt) == [1, 2, 3])
        #expect(
            scenario.emissions.createdThreads.first?.initialPrompt.hasSuffix(
                "The reviewer asked for changes to the finished work: Again."
            ) == true
        )
    }

    @Test("an instance that failed during the review is replaced: the reopened task runs in a new one")
    func failedInstanceReplaced() throws {
        var run = try ZedRun(Self.inReview())
        let old = try #require(run.state.zedInstance?.id)
        _ = try run.send(.instanceError(ZedInstanceError(instanceID: old, error: "the machine went away")))
        #expect(run.state.zedInstance?.status == .failed)
        #expect(run.state.task.status == .implementationReview)

        let emissions = try run.apply(
            .requestImplementationChanges(
                RequestImplementationChanges(comments: "again", implementationTaskIndexes: [1])
            )
        )
        let instance = try #require(run.state.zedInstance)
        #expect(instance.id != old)
        #expect(instance.status == .pending)
        #expect(
            emissions.zedCommands.contains {
                if case .stopInstance(let stop) = $0 { stop.instanceID == old } else { false }
            }
        )
        let created = emissions.zedCommands.compactMap {
            if case .createInstance(let create) = $0 { create } else { nil }
        }
        #expect(created.map(\.instanceID) == [instance.id])
        #expect(emissions.createdThreads.map(\.instanceID) == [instance.id], "the reopened task's thread runs in it")
    }

    @Test("rejected: not in review, no comments, no tasks, unknown or repeated tasks; nothing changes")
    func rejections() throws {
        var implementing = try Scenario.implementing(plan: PlanFixtures.authHeadings)
        let early = try implementing.reject(
            .requestImplementationChanges(RequestImplementationChanges(comments: "x", implementationTaskIndexes: [1]))
        )
        #expect(early.code == .illegalTransition)
        #expect(early.message.contains("request_implementation_changes"))
        #expect(early.message.contains("implementation_review"))

        var scenario = try Self.inReview()
        let before = scenario.state
        let cases: [(RequestImplementationChanges, Rejection.Code, String)] = [
            (.init(comments: "  \n", implementationTaskIndexes: [1]), .invalidArgument, "has no comments"),
            (.init(comments: "x", implementationTaskIndexes: []), .invalidArgument, "names no implementation task"),
            (.init(comments: "x", implementationTaskIndexes: [2, 2]), .invalidArgument, "names a task twice"),
            (.init(comments: "x", implementationTaskIndexes: [1, 9]), .unknownImplementationTask, "9"),
        ]
        for (request, code, text) in cases {
            let rejection = try scenario.reject(.requestImplementationChanges(request))
            #expect(rejection.code == code, "\(request)")
            #expect(rejection.message.contains(text), "\(rejection.message)")
        }
        #expect(scenario.state == before)
    }
}
