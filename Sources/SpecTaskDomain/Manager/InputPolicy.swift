/// The rules about inputs that sit around the decision function: what an input's idempotency key is, which inputs
/// get an outcome, when an applied input is news for progress followers, which heartbeats a batch may skip, and which
/// ids a decision claims. Pure functions; the worker's batch applier only calls them.
public enum InputPolicy {
    /// A Zed event with its id scoped to its instance (`zed:<length of the instance id>:<instance id>:<id>`,
    /// unambiguous; command ids may not start with `zed:`); a command as it is.
    ///
    /// A Zed event decides under this id, so no runner can take an id another sender will use, and the ids it creates
    /// (spawned sessions, coordination entries) can not clash with another runner's or a command's.
    public static func scoped(_ command: IncomingCommand) -> IncomingCommand {
        guard case .zedEvent(let event) = command.command else { return command }
        var scoped = command
        scoped.id = "zed:\(event.instanceID.utf8.count):\(event.instanceID):\(command.id)"
        return scoped
    }

    /// The key an input is applied once under, or `nil` for heartbeats: applying one twice changes nothing, and
    /// recording each would grow the inbox by one row per instance every few seconds (the partition offsets still
    /// apply each once).
    public static func idempotencyKey(of command: IncomingCommand) -> String? {
        command.command.isHeartbeat ? nil : scoped(command).id
    }

    /// Whether a rejected input gets an outcome on `spectask.status`: a command does; a runner's Zed event does not
    /// (its record on `spectask.rejected` is the whole answer, and nobody waits on the status topic for it).
    public static func getsOutcome(_ command: IncomingCommand) -> Bool {
        !command.command.isZedEvent
    }

    /// The outcome of a command that could not be decoded, when enough of it was readable to address one: its id,
    /// its spec task and a command type (a `spectask.command.` type of at most 200 characters). `nil` when it is
    /// not a readable command: then its record on `spectask.rejected` is the whole answer.
    public static func outcomeOfMalformedCommand(
        id: String?,
        specTaskID: String?,
        type: String?,
        reason: String,
        code: String
    ) -> (specTaskID: String, outcome: CommandOutcome)? {
        guard let id, let specTaskID, let type, type.hasPrefix(SpecTaskCommand.typePrefix), type.count <= 200 else {
            return nil
        }
        return (specTaskID, CommandOutcome(commandID: id, commandType: type, reason: reason, code: code))
    }

    /// Whether an applied input is news for progress followers (a progress snapshot is published): always, except a
    /// heartbeat that changed no status (no emission) and no thread's progress.
    public static func isNews(
        _ command: IncomingCommand,
        previous: SpecTaskState?,
        new: SpecTaskState,
        emissions: [Emission]
    ) -> Bool {
        !command.command.isHeartbeat || !emissions.isEmpty || previous?.threadProgress != new.threadProgress
    }

    /// The key under which heartbeats of a batch supersede each other: only the last one of each instance of a spec
    /// task is applied, so a burst of heartbeats is one write. `nil` for anything that is not a heartbeat.
    public static func heartbeatKey(of command: IncomingCommand) -> String? {
        guard case .zedEvent(.heartbeat(let heartbeat)) = command.command else { return nil }
        return "\(command.specTaskID)\u{0}\(heartbeat.instanceID)"
    }

    /// The global ids a decision takes that the state before it did not have: work sessions, Zed threads and the Zed
    /// instance. They must not belong to another spec task.
    public static func newIDs(previous: SpecTaskState?, new: SpecTaskState) -> GlobalIDs {
        let oldSessions = Set(previous?.workSessions.map(\.id) ?? [])
        let oldThreads = Set(previous?.zedThreads.map(\.id) ?? [])
        return GlobalIDs(
            workSessions: new.workSessions.map(\.id).filter { !oldSessions.contains($0) },
            zedThreads: new.zedThreads.map(\.id).filter { !oldThreads.contains($0) },
            zedInstances: [new.zedInstance?.id].compactMap { $0 }.filter { $0 != previous?.zedInstance?.id }
        )
    }

    /// Global ids a decision takes, by kind.
    public struct GlobalIDs: Sendable, Hashable {
        public var workSessions: [String]
        public var zedThreads: [String]
        public var zedInstances: [String]

        public init(workSessions: [String] = [], zedThreads: [String] = [], zedInstances: [String] = []) {
            self.workSessions = workSessions
            self.zedThreads = zedThreads
            self.zedInstances = zedInstances
        }

        /// `work_session:<id>`, `zed_thread:<id>`, `zed_instance:<id>`: one namespace for the three kinds.
        public var keys: [String] {
            workSessions.map { "work_session:\($0)" } + zedThreads.map { "zed_thread:\($0)" }
                + zedInstances.map { "zed_instance:\($0)" }
        }

        public var isEmpty: Bool { workSessions.isEmpty && zedThreads.isEmpty && zedInstances.isEmpty }
    }

    /// The rejection reason for an id (a key of ``GlobalIDs/keys``) that spec task `owner` has already.
    public static func conflictReason(key: String, owner: String) -> String {
        let kind = String(key.prefix { $0 != ":" }.map { $0 == "_" ? " " : $0 })
        let id = key.drop { $0 != ":" }.dropFirst()
        return "\(kind) id \(id) is already used by spec task \(owner); choose another id"
    }
}
