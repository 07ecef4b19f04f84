import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskStatus")
struct SpecTaskStatusTests {
    @Test("transition table")
    func table() {
        expectTransitions(
            of: SpecTaskStatus.self,
            toBe: [
                "backlog": ["spec_generation", "cancelled"],
                "spec_generation": ["spec_review", "spec_failed", "cancelled"],
                "spec_review": ["spec_approved", "spec_revision", "cancelled"],
                "spec_revision": ["spec_review", "spec_generation", "spec_failed", "cancelled"],
                "spec_approved": ["implementation", "cancelled"],
                "implementation": ["implementation_review", "implementation_failed", "cancelled"],
                "implementation_review": ["done", "implementation", "cancelled"],
                "spec_failed": ["spec_generation", "cancelled"],
                "implementation_failed": ["implementation", "cancelled"],
                "done": [],
                "cancelled": [],
            ]
        )
    }

    @Test("only done and cancelled are terminal")
    func terminal() {
        #expect(Set(SpecTaskStatus.allCases.filter(\.isTerminal)) == [.done, .cancelled])
    }

    @Test("every non-terminal status can be cancelled", arguments: SpecTaskStatus.allCases.filter { !$0.isTerminal })
    func cancellable(status: SpecTaskStatus) {
        #expect(status.canTransition(to: .cancelled))
    }

    @Test("the happy path from backlog to done is legal step by step")
    func happyPath() throws {
        var status = SpecTaskStatus.backlog
        for next: SpecTaskStatus in [
            .specGeneration, .specReview, .specRevision, .specReview, .specApproved, .implementation,
            .implementationReview, .implementation, .implementationReview, .done,
        ] {
            status = try status.transition(to: next, entityID: "st-1")
        }
        #expect(status == .done)
    }

    @Test("skipping approval is rejected with a readable message")
    func skipApproval() {
        #expect(throws: TransitionError.self) {
            try SpecTaskStatus.specReview.transition(to: .implementation, entityID: "st-9")
        }
        let error = SpecTaskStatus.specReview.transitionError(to: .implementation, entityID: "st-9")
        #expect(
            error?.message
                == "spec task st-9 cannot go from spec_review to implementation; "
                + "from spec_review it can go to cancelled, spec_approved, spec_revision"
        )
    }

    @Test("raw values are snake_case and round-trip through JSON")
    func rawValues() throws {
        #expect(SpecTaskStatus.implementationReview.rawValue == "implementation_review")
        #expect(SpecTaskStatus(rawValue: "spec_failed") == .specFailed)
        #expect(SpecTaskStatus(rawValue: "archived") == nil)  // archiving is a flag, not a status
        let encoded = try JSONEncoder().encode([SpecTaskStatus.specApproved])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["spec_approved"]"#)
        #expect(try JSONDecoder().decode([SpecTaskStatus].self, from: encoded) == [.specApproved])
    }
}
