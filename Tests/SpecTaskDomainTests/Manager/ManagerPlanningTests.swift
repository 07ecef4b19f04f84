import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: planning and spec review")
struct ManagerPlanningTests {
    private static let specs = SubmitSpecs(
        requirements: "Users can sign up and sign in.",
        design: "Tokens in HTTP-only cookies.",
        implementationPlan: PlanFixtures.authHeadings
    )

    private static func created() throws -> Scenario {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Implement user authentication")))
        return scenario
    }

    private static func inReview() throws -> Scenario {
        var scenario = try created()
        try scenario.apply(.startPlanning(StartPlanning()))
        try scenario.apply(.submitSpecs(specs))
        return scenario
    }

    @Test("start planning moves a backlog task to spec generation")
    func startPlanning() throws {
        var scenario = try Self.created()
        let emissions = try scenario.apply(.startPlanning(StartPlanning()))
        #expect(scenario.task.status == .specGeneration)
        #expect(scenario.task.updatedAt == ManagerFixtures.start.addingTimeInterval(2))
        let change = try #require(emissions.specTaskChanges.first)
        #expect(change.from == .backlog && change.to == .specGeneration && change.specTask == scenario.task)
    }

    @Test("start planning twice is an illegal transition with the table's explanation")
    func startPlanningTwice() throws {
        var scenario = try Self.created()
        try scenario.apply(.startPlanning(StartPlanning()))
        let rejection = try scenario.reject(.startPlanning(StartPlanning()))
        #expect(rejection.code == .illegalTransition)
        #expect(
            rejection.message
                == "spec task st-1 cannot go from spec_generation to spec_generation; from spec_generation it can go "
                + "to cancelled, spec_failed, spec_review"
        )
    }

    @Test("submitted specs are stored and the task goes to review")
    func submitSpecs() throws {
        let scenario = try Self.inReview()
        #expect(scenario.task.status == .specReview)
        #expect(scenario.task.requirements == Self.specs.requirements)
        #expect(scenario.task.design == Self.specs.design)
        #expect(scenario.task.implementationPlan == PlanFixtures.authHeadings)
        #expect(scenario.emissions.specTaskChanges.map(\.to) == [.specReview])
    }

    @Test("specs can not be submitted before planning started")
    func submitSpecsInBacklog() throws {
        var scenario = try Self.created()
        let rejection = try scenario.reject(.submitSpecs(Self.specs))
        #expect(rejection.code == .illegalTransition)
        #expect(rejection.message.hasPrefix("spec task st-1 cannot go from backlog to spec_review"))
    }

    @Test(
        "a plan that can not be parsed is rejected with the parser's message",
        arguments: [
            (PlanFixtures.invalidCycle, "dependency cycle between tasks 1 → 2 → 1"),
            ("## Task 1: Only\nDepends on: 7\n", "task 1 depends on task 7, which is not in the plan"),
            ("  \n\n", "the implementation plan is empty"),
        ]
    )
    func invalidPlan(plan: String, expectedMessage: String) throws {
        var scenario = try Self.created()
        try scenario.apply(.startPlanning(StartPlanning()))
        let rejection = try scenario.reject(
            .submitSpecs(SubmitSpecs(requirements: "r", design: "d", implementationPlan: plan))
        )
        #expect(rejection.code == .invalidPlan)
        #expect(rejection.message.contains(expectedMessage), "\(rejection.message)")
        #expect(rejection.message.contains("st-1"))
        #expect(scenario.task.status == .specGeneration, "a rejection leaves the state as it was")
    }

    @Test("approving the specs records the approver, the time and the comments")
    func approveSpecs() throws {
        var scenario = try Self.inReview()
        let emissions = try scenario.apply(.approveSpecs(ApproveSpecs(approver: " alice ", comments: "looks good")))
        #expect(scenario.task.status == .specApproved)
        #expect(scenario.task.approvedBy == "alice")
        #expect(scenario.task.approvedAt == ManagerFixtures.start.addingTimeInterval(4))
        #expect(scenario.task.approvalComments == "looks good")
        #expect(emissions.specTaskChanges.map(\.reason) == ["specs approved by alice"])
    }

    @Test("approval needs an approver and a task in review")
    func approveSpecsRejections() throws {
        var scenario = try Self.inReview()
        #expect(try scenario.reject(.approveSpecs(ApproveSpecs(approver: "  "))).code == .invalidArgument)
        try scenario.apply(.approveSpecs(ApproveSpecs(approver: "alice")))
        let twice = try scenario.reject(.approveSpecs(ApproveSpecs(approver: "bob")))
        #expect(twice.code == .illegalTransition)
        #expect(twice.message.hasPrefix("spec task st-1 cannot go from spec_approved to spec_approved"))
        #expect(scenario.task.approvedBy == "alice")
    }

    @Test("requesting changes counts revisions, keeps the comments, and a revision goes back to review")
    func requestChanges() throws {
        var scenario = try Self.inReview()
        let emissions = try scenario.apply(
            .requestChanges(RequestChanges(reviewer: "carol", comments: "add rate limiting"))
        )
        #expect(scenario.task.status == .specRevision)
        #expect(scenario.task.revisionCount == 1)
        #expect(scenario.task.approvalComments == "add rate limiting")
        #expect(emissions.specTaskChanges.map(\.reason) == ["changes requested by carol"])

        try scenario.apply(.submitSpecs(Self.specs))
        try scenario.apply(.requestChanges(RequestChanges(comments: "and lockout")))
        #expect(scenario.task.revisionCount == 2)

        // A revision may also go back to the planning agent for regeneration, as the table allows.
        try scenario.apply(.startPlanning(StartPlanning()))
        #expect(scenario.task.status == .specGeneration)
    }

    @Test("changes can only be requested in review")
    func requestChangesOutsideReview() throws {
        var scenario = try Self.created()
        let rejection = try scenario.reject(.requestChanges(RequestChanges(comments: "no")))
        #expect(rejection.code == .illegalTransition)
        #expect(scenario.task.revisionCount == 0)
    }
}
