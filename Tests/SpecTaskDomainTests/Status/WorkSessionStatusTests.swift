import SpecTaskDomain
import Testing

@Suite("WorkSessionStatus")
struct WorkSessionStatusTests {
    @Test("transition table")
    func table() {
        expectTransitions(
            of: WorkSessionStatus.self,
            toBe: [
                "pending": ["active", "cancelled", "blocked"],
                "active": ["completed", "failed", "cancelled", "blocked"],
                "blocked": ["active", "pending", "failed", "cancelled"],
                "completed": [],
                "failed": [],
                "cancelled": [],
            ]
        )
    }

    @Test("completed, failed and cancelled are terminal")
    func terminal() {
        #expect(Set(WorkSessionStatus.allCases.filter(\.isTerminal)) == [.completed, .failed, .cancelled])
    }

    @Test("a completed session cannot become active again")
    func completedToActive() throws {
        let error = try #require(WorkSessionStatus.completed.transitionError(to: .active, entityID: "ws-1"))
        #expect(error.entityKind == .workSession)
        #expect(error.entityID == "ws-1")
        #expect(error.from == "completed")
        #expect(error.to == "active")
        #expect(error.allowed.isEmpty)
        #expect(error.message == "work session ws-1 cannot go from completed to active; completed is terminal")
        #expect(error.message.hasPrefix("work session ws-1 cannot go from completed to active"))
    }

    @Test("a blocked session may resume, requeue, fail or be cancelled")
    func blocked() throws {
        for next: WorkSessionStatus in [.active, .pending, .failed, .cancelled] {
            #expect(try WorkSessionStatus.blocked.transition(to: next) == next)
        }
        #expect(!WorkSessionStatus.blocked.canTransition(to: .completed))
    }

    @Test("no status transitions to itself", arguments: WorkSessionStatus.allCases)
    func noSelfTransition(status: WorkSessionStatus) {
        #expect(!status.canTransition(to: status))
    }

    @Test("phases have snake_case raw values")
    func phases() {
        #expect(WorkSessionPhase.allCases.map(\.rawValue) == ["planning", "implementation", "validation"])
    }
}
