import SpecTaskDomain
import Testing

/// Checks a status type against the transition table of the specification, written with raw
/// values so the snake_case names are checked too: every pair of statuses is tried, so both the
/// legal and the illegal transitions are covered.
func expectTransitions<Status: LifecycleStatus>(
    of _: Status.Type,
    toBe expected: [String: Set<String>],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        Set(Status.allCases.map(\.rawValue)) == Set(expected.keys),
        "every status has a row",
        sourceLocation: sourceLocation
    )
    #expect(Set(Status.transitions.keys) == Set(Status.allCases), sourceLocation: sourceLocation)
    for from in Status.allCases {
        for to in Status.allCases {
            let legal = expected[from.rawValue, default: []].contains(to.rawValue)
            #expect(
                from.canTransition(to: to) == legal,
                "\(from.rawValue) → \(to.rawValue) should be \(legal ? "legal" : "illegal")",
                sourceLocation: sourceLocation
            )
            #expect((from.transitionError(to: to) == nil) == legal, sourceLocation: sourceLocation)
        }
        #expect(
            from.isTerminal == expected[from.rawValue, default: []].isEmpty,
            "isTerminal of \(from.rawValue)",
            sourceLocation: sourceLocation
        )
    }
}
