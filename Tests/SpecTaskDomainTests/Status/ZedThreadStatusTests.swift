import SpecTaskDomain
import Testing

@Suite("ZedThreadStatus")
struct ZedThreadStatusTests {
    @Test("transition table")
    func table() {
        expectTransitions(
            of: ZedThreadStatus.self,
            toBe: [
                "pending": ["active", "failed", "completed"],
                "active": ["disconnected", "completed", "failed"],
                "disconnected": ["active", "failed"],
                "completed": [],
                "failed": [],
            ]
        )
    }

    @Test("completed and failed are terminal")
    func terminal() {
        #expect(Set(ZedThreadStatus.allCases.filter(\.isTerminal)) == [.completed, .failed])
    }

    @Test("a disconnected thread recovers but cannot complete without reconnecting")
    func disconnected() throws {
        #expect(try ZedThreadStatus.disconnected.transition(to: .active) == .active)
        #expect(throws: TransitionError.self) { try ZedThreadStatus.disconnected.transition(to: .completed) }
    }

    @Test("the message names the kind without an id when none is given")
    func messageWithoutID() {
        #expect(
            ZedThreadStatus.failed.transitionError(to: .active)?.message
                == "Zed thread cannot go from failed to active; failed is terminal"
        )
    }
}
