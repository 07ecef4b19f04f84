#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What applying one command to one spec task comes to.
public enum Decision: Sendable, Hashable {
    /// The new state and what to publish; the emissions start with the command's `commandApplied` outcome.
    case applied(SpecTaskState, [Emission])
    /// Nothing changes; the worker publishes a `commandRejected` outcome and a `spectask.rejected` record.
    case rejected(Rejection)
}

/// Why a command can not be applied, as a code for programs and a sentence for people.
public struct Rejection: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let unknownSpecTask = Code(rawValue: "unknown_spec_task")
        public static let alreadyExists = Code(rawValue: "already_exists")
        public static let illegalTransition = Code(rawValue: "illegal_transition")
        public static let unknownWorkSession = Code(rawValue: "unknown_work_session")
        public static let unknownImplementationTask = Code(rawValue: "unknown_implementation_task")
        public static let invalidPlan = Code(rawValue: "invalid_plan")
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        public static let conflict = Code(rawValue: "conflict")
        /// A Zed event names an instance that is not the spec task's.
        public static let unknownZedInstance = Code(rawValue: "unknown_zed_instance")
        /// A coordination message or path claim from a work session whose thread is closed (completed, failed or
        /// cancelled).
        public static let senderClosed = Code(rawValue: "sender_closed")
        /// specs_submitted or planning_failed from a work session that is not the spec task's open planning session.
        public static let notPlanningSession = Code(rawValue: "not_planning_session")
        /// A claimed path that is not a workspace-relative path or glob (``ClaimPattern``).
        public static let invalidPath = Code(rawValue: "invalid_path")
        /// A claim beyond ``ClaimLimits``: too many paths held in the task, or too costly to check.
        public static let claimLimitExceeded = Code(rawValue: "claim_limit_exceeded")
        /// A Zed event without the runner token issued for its instance, or with another one.
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// What the decision function needs from outside besides the state and the command; deterministic in tests.
public struct DecisionContext: Sendable {
    /// A new id for an entity the command creates, e.g. `makeID("ws", 2)` → `ws-<command id>-2`.
    /// Derived from the command id, so applying the same command to the same state gives the same ids.
    public var makeID: @Sendable (_ prefix: String, _ ordinal: Int, _ commandID: String) -> String
    /// The token a runner must present on `zed.events` for this instance.
    public var runnerToken: @Sendable (_ instanceID: String) -> String
    /// How `start_planning` plans when the command does not say.
    public var planning: PlanningDefaults

    public init(
        makeID: @escaping @Sendable (_ prefix: String, _ ordinal: Int, _ commandID: String) -> String =
            DecisionContext.derivedID,
        runnerToken: @escaping @Sendable (_ instanceID: String) -> String,
        planning: PlanningDefaults = PlanningDefaults()
    ) {
        self.makeID = makeID
        self.runnerToken = runnerToken
        self.planning = planning
    }

    /// `ws-<command id>-2`; a command id longer than 100 characters is replaced by its 64-bit FNV-1a hash, so
    /// derived ids stay within the 128 characters an id may have in later commands.
    public static let derivedID: @Sendable (String, Int, String) -> String = { prefix, ordinal, commandID in
        let stem = commandID.count <= 100 ? commandID : String(fnv1a(commandID), radix: 16)
        return "\(prefix)-\(stem)-\(ordinal)"
    }

    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// The worker's defaults for `start_planning` (`SPECTASK_PLANNING_IN_ZED`, `SPECTASK_PLANNING_AGENT_CONFIG`).
public struct PlanningDefaults: Sendable, Hashable {
    /// Whether planning runs as a session on the spec task's Zed instance when the command does not say.
    public var inZed: Bool
    /// The planning agent's configuration when the command gives none.
    public var agentConfig: JSONValue?

    /// Planning outside Zed (an upstream planner answers with `submit_specs`), as before planning sessions.
    public init(inZed: Bool = false, agentConfig: JSONValue? = nil) {
        self.inZed = inZed
        self.agentConfig = agentConfig
    }
}
