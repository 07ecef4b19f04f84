import SpecTaskDomain
import Testing

@Suite("ImplementationTaskStatus")
struct ImplementationTaskStatusTests {
    @Test("transition table")
    func table() {
        expectTransitions(
            of: ImplementationTaskStatus.self,
            toBe: [
                "pending": ["assigned", "blocked"],
                "assigned": ["in_progress", "completed", "blocked", "pending"],
                "in_progress": ["completed", "blocked", "pending"],
                "blocked": ["pending", "assigned", "in_progress"],
                "completed": ["pending"],
            ]
        )
    }

    @Test("none is terminal: a reviewer can reopen a completed task")
    func terminal() {
        #expect(ImplementationTaskStatus.allCases.filter(\.isTerminal).isEmpty)
        #expect(ImplementationTaskStatus.completed.allowedTransitions == [.pending])
    }

    @Test("a retry puts an in-progress task back to pending, then it is assigned again")
    func retry() throws {
        var status = ImplementationTaskStatus.inProgress
        status = try status.transition(to: .pending, entityID: "3")
        status = try status.transition(to: .assigned, entityID: "3")
        #expect(status == .assigned)
    }

    @Test("a pending task cannot complete without being assigned")
    func pendingToCompleted() {
        let error = ImplementationTaskStatus.pending.transitionError(to: .completed, entityID: "2")
        #expect(
            error?.message
                == "implementation task 2 cannot go from pending to completed; from pending it can go to assigned, blocked"
        )
    }
}
