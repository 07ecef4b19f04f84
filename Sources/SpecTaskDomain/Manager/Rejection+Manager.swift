// The rejections the multi-session manager gives more than once, worded in one place.

extension Rejection {
    /// A status change the transition table does not allow, with the table's explanation.
    init(_ error: TransitionError) {
        self.init(.illegalTransition, error.message)
    }

    static func unknownSpecTask(_ specTaskID: String) -> Rejection {
        Rejection(.unknownSpecTask, "spec task \(specTaskID) does not exist; create it first")
    }

    static func unknownWorkSession(_ workSessionID: String, specTaskID: String) -> Rejection {
        Rejection(.unknownWorkSession, "work session \(workSessionID) does not exist in spec task \(specTaskID)")
    }

    static func unknownImplementationTask(_ index: Int, specTaskID: String, count: Int) -> Rejection {
        let known = count == 0 ? "it has no implementation tasks" : "its implementation tasks are 1...\(count)"
        return Rejection(
            .unknownImplementationTask,
            "spec task \(specTaskID) has no implementation task \(index); \(known)"
        )
    }

    /// A command that needs the spec task in another status.
    static func wrongStatus(
        _ commandName: String,
        specTaskID: String,
        status: SpecTaskStatus,
        needs allowed: [SpecTaskStatus]
    ) -> Rejection {
        let needed = allowed.map(\.rawValue).joined(separator: " or ")
        return Rejection(
            .illegalTransition,
            "\(commandName) needs spec task \(specTaskID) in \(needed); it is in \(status.rawValue)"
        )
    }

    static func idInUse(_ id: String, kind: EntityKind, specTaskID: String) -> Rejection {
        Rejection(
            .conflict,
            "\(kind.displayName) id \(id) is already used in spec task \(specTaskID); choose another id"
        )
    }
}
