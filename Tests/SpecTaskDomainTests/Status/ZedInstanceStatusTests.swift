import SpecTaskDomain
import Testing

@Suite("ZedInstanceStatus")
struct ZedInstanceStatusTests {
    @Test("transition table")
    func table() {
        expectTransitions(
            of: ZedInstanceStatus.self,
            toBe: [
                "pending": ["ready", "failed", "stopped"],
                "ready": ["disconnected", "failed", "stopped"],
                "disconnected": ["ready", "failed", "stopped"],
                "failed": ["stopped", "ready"],
                "stopped": [],
            ]
        )
    }

    @Test("only stopped is terminal; a failed instance can still recover")
    func terminal() {
        #expect(ZedInstanceStatus.allCases.filter(\.isTerminal) == [.stopped])
        #expect(!ZedInstanceStatus.failed.isTerminal)
        #expect(ZedInstanceStatus.failed.canTransition(to: .ready))
    }

    @Test("heartbeat timeout path: ready → disconnected → failed → ready (recovered) → stopped")
    func heartbeatPath() throws {
        var status = ZedInstanceStatus.ready
        for next: ZedInstanceStatus in [.disconnected, .failed, .ready, .stopped] {
            status = try status.transition(to: next, entityID: "zi-1")
        }
        #expect(status == .stopped)
        #expect(throws: TransitionError.self) { try status.transition(to: .ready, entityID: "zi-1") }
    }
}
