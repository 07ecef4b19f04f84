import Foundation
import SpecTaskDomain
import Testing

@Suite("TransitionError")
struct TransitionErrorTests {
    @Test("entity kinds have readable names")
    func displayNames() {
        #expect(
            EntityKind.allCases.map(\.displayName) == [
                "spec task", "work session", "Zed thread", "implementation task", "Zed instance",
            ]
        )
    }

    @Test("the thrown error is the one transitionError returns")
    func thrownEqualsReturned() {
        let expected = WorkSessionStatus.cancelled.transitionError(to: .pending, entityID: "ws-7")
        do {
            try WorkSessionStatus.cancelled.transition(to: .pending, entityID: "ws-7")
            Issue.record("expected a TransitionError")
        } catch {
            #expect(error == expected)
            #expect(error.description == error.message)
        }
    }

    @Test("round-trips through JSON")
    func codable() throws {
        let error = try #require(SpecTaskStatus.done.transitionError(to: .backlog, entityID: "st-1"))
        let decoded = try JSONDecoder().decode(TransitionError.self, from: JSONEncoder().encode(error))
        #expect(decoded == error)
        #expect(decoded.message == "spec task st-1 cannot go from done to backlog; done is terminal")
    }

    @Test("statuses are usable as JSON object keys")
    func dictionaryKeys() throws {
        let counts: [WorkSessionStatus: Int] = [.active: 2]
        let json = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
        #expect(json == #"{"active":2}"#)
    }
}
