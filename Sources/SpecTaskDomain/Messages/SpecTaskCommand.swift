#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A command as the decision function sees it: parsed and validated, with its envelope's identity.
public struct IncomingCommand: Sendable, Hashable {
    /// The CloudEvent `id`: the idempotency key, and the correlation id of the command's outcome event.
    public var id: String
    /// The CloudEvent `subject`: the spec task the command is for.
    public var specTaskID: String
    /// Who sent it (CloudEvent extension `actor`), for the record.
    public var actor: String?
    /// When it is applied (the worker's clock; fixed in tests).
    public var time: Date
    public var command: SpecTaskCommand
    /// The CloudEvent extension `runnertoken`: what a Zed runner presents to prove which instance it speaks for.
    public var runnerToken: String?

    public init(
        id: String,
        specTaskID: String,
        actor: String? = nil,
        time: Date,
        command: SpecTaskCommand,
        runnerToken: String? = nil
    ) {
        self.id = id
        self.specTaskID = specTaskID
        self.actor = actor
        self.time = time
        self.command = command
        self.runnerToken = runnerToken
    }
}

/// Every input the multi-session manager applies: the commands of `spectask.commands` (CloudEvent `type`
/// `spectask.command.<name>`) and the events Zed runners send on `zed.events` (`zed.event.<name>`, see
/// ``ZedEvent``). The `data` is the payload.
public enum SpecTaskCommand: Sendable, Hashable {
    case create(CreateSpecTask)
    case startPlanning(StartPlanning)
    case submitSpecs(SubmitSpecs)
    case approveSpecs(ApproveSpecs)
    case requestChanges(RequestChanges)
    case startImplementation(StartImplementation)
    case spawnWorkSession(SpawnWorkSession)
    case updateWorkSessionStatus(UpdateWorkSessionStatus)
    case updateZedThread(UpdateZedThread)
    case stopZedInstance(StopZedInstance)
    case approveImplementation(ApproveImplementation)
    case requestImplementationChanges(RequestImplementationChanges)
    case cancel(CancelSpecTask)
    case archive(ArchiveSpecTask)
    case setSharedContext(SetSharedContext)
    case retryWorkSession(RetryWorkSession)
    case setConcurrencyLimit(SetConcurrencyLimit)
    case setBudget(SetBudget)
    /// An event from the runner of the spec task's Zed instance (already authenticated by the worker).
    case zedEvent(ZedEvent)

    /// The `<name>` of the CloudEvent type `spectask.command.<name>`.
    public var name: String {
        switch self {
        case .create: "create"
        case .startPlanning: "start_planning"
        case .submitSpecs: "submit_specs"
        case .approveSpecs: "approve_specs"
        case .requestChanges: "request_changes"
        case .startImplementation: "start_implementation"
        case .spawnWorkSession: "spawn_work_session"
        case .updateWorkSessionStatus: "update_work_session_status"
        case .updateZedThread: "update_zed_thread"
        case .stopZedInstance: "stop_zed_instance"
        case .approveImplementation: "approve_implementation"
        case .requestImplementationChanges: "request_implementation_changes"
        case .cancel: "cancel"
        case .archive: "archive"
        case .setSharedContext: "set_shared_context"
        case .retryWorkSession: "retry_work_session"
        case .setConcurrencyLimit: "set_concurrency_limit"
        case .setBudget: "set_budget"
        case .zedEvent(let event): event.name
        }
    }

    public static let typePrefix = "spectask.command."
    /// `spectask.command.<name>`, or `zed.event.<name>` for a Zed event.
    public var type: String {
        if case .zedEvent(let event) = self { return event.type }
        return Self.typePrefix + name
    }

    /// Whether this is a runner's heartbeat.
    public var isHeartbeat: Bool {
        if case .zedEvent(.heartbeat) = self { return true }
        return false
    }

    /// Whether this came from a Zed runner on `zed.events` rather than from `spectask.commands`.
    public var isZedEvent: Bool {
        if case .zedEvent = self { return true }
        return false
    }
}

// MARK: - Payloads (the CloudEvent `data`, camelCase keys)

/// Creates the spec task named by the envelope's subject, in `backlog`.
public struct CreateSpecTask: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    public var projectPath: String?
    public var maxConcurrentSessions: Int?
    public init(name: String, description: String? = nil, projectPath: String? = nil, maxConcurrentSessions: Int? = nil)
    {
        self.name = name
        self.description = description
        self.projectPath = projectPath
        self.maxConcurrentSessions = maxConcurrentSessions
    }
}

/// backlog, spec_failed or spec_revision → spec_generation: the planning agent starts.
///
/// Planning runs outside spectask (a planner that answers with `submit_specs`) or as the planning session: a
/// thread on the spec task's Zed instance (created now if the task has none) that answers with
/// `zed.event.specs_submitted`. `inZed` chooses; absent, the worker's default does (`SPECTASK_PLANNING_IN_ZED`).
public struct StartPlanning: Sendable, Hashable, Codable {
    /// Run planning as a session on the spec task's Zed instance; absent: the worker's default.
    public var inZed: Bool?
    /// The planning agent's configuration for its thread; absent: the worker's default, else the task's agent's.
    public var agentConfig: JSONValue?
    public var projectPath: String?
    /// For the Zed instance, when this creates it.
    public var workspaceConfig: JSONValue?
    /// Client-chosen id of the Zed instance, when this creates it; generated when absent.
    public var zedInstanceID: String?
    /// Client-chosen id of the planning session; generated when absent.
    public var workSessionID: String?
    public init(
        inZed: Bool? = nil,
        agentConfig: JSONValue? = nil,
        projectPath: String? = nil,
        workspaceConfig: JSONValue? = nil,
        zedInstanceID: String? = nil,
        workSessionID: String? = nil
    ) {
        self.inZed = inZed
        self.agentConfig = agentConfig
        self.projectPath = projectPath
        self.workspaceConfig = workspaceConfig
        self.zedInstanceID = zedInstanceID
        self.workSessionID = workSessionID
    }
}

/// The planning agent's output: spec_generation or spec_revision → spec_review.
public struct SubmitSpecs: Sendable, Hashable, Codable {
    public var requirements: String
    public var design: String
    public var implementationPlan: String
    public init(requirements: String, design: String, implementationPlan: String) {
        self.requirements = requirements
        self.design = design
        self.implementationPlan = implementationPlan
    }
}

/// spec_review → spec_approved.
public struct ApproveSpecs: Sendable, Hashable, Codable {
    public var approver: String
    public var comments: String?
    public init(approver: String, comments: String? = nil) {
        self.approver = approver
        self.comments = comments
    }
}

/// spec_review → spec_revision; the revision count goes up.
public struct RequestChanges: Sendable, Hashable, Codable {
    public var reviewer: String?
    public var comments: String
    public init(reviewer: String? = nil, comments: String) {
        self.reviewer = reviewer
        self.comments = comments
    }
}

/// spec_approved → implementation: parse the plan, create the implementation tasks, one Zed instance,
/// one work session + thread per task, and start those whose dependencies are done (within the limit).
public struct StartImplementation: Sendable, Hashable, Codable {
    public var projectPath: String?
    public var workspaceConfig: JSONValue?
    public var agentConfig: JSONValue?
    /// Most sessions active at once; `nil` keeps the task's setting (no limit by default).
    public var maxConcurrentSessions: Int?
    /// Client-chosen id of the Zed instance; generated when absent.
    public var zedInstanceID: String?
    /// Client-chosen work session ids, one per implementation task in plan order; generated when absent.
    public var workSessionIDs: [String]?
    public init(
        projectPath: String? = nil,
        workspaceConfig: JSONValue? = nil,
        agentConfig: JSONValue? = nil,
        maxConcurrentSessions: Int? = nil,
        zedInstanceID: String? = nil,
        workSessionIDs: [String]? = nil
    ) {
        self.projectPath = projectPath
        self.workspaceConfig = workspaceConfig
        self.agentConfig = agentConfig
        self.maxConcurrentSessions = maxConcurrentSessions
        self.zedInstanceID = zedInstanceID
        self.workSessionIDs = workSessionIDs
    }
}

/// A running session asks for another one (nested spawning), optionally for an implementation task.
public struct SpawnWorkSession: Sendable, Hashable, Codable {
    public var parentWorkSessionID: String
    public var name: String
    public var description: String?
    public var implementationTaskIndex: Int?
    public var initialPrompt: String?
    /// Client-chosen id of the new session; generated when absent.
    public var workSessionID: String?
    public init(
        parentWorkSessionID: String,
        name: String,
        description: String? = nil,
        implementationTaskIndex: Int? = nil,
        initialPrompt: String? = nil,
        workSessionID: String? = nil
    ) {
        self.parentWorkSessionID = parentWorkSessionID
        self.name = name
        self.description = description
        self.implementationTaskIndex = implementationTaskIndex
        self.initialPrompt = initialPrompt
        self.workSessionID = workSessionID
    }
}

public struct UpdateWorkSessionStatus: Sendable, Hashable, Codable {
    public var workSessionID: String
    public var status: WorkSessionStatus
    public var reason: String?
    public init(workSessionID: String, status: WorkSessionStatus, reason: String? = nil) {
        self.workSessionID = workSessionID
        self.status = status
        self.reason = reason
    }
}

/// Creates or updates the Zed thread of a work session: its external Zed thread id and/or its status.
public struct UpdateZedThread: Sendable, Hashable, Codable {
    public var workSessionID: String
    public var zedThreadExternalID: String?
    public var status: ZedThreadStatus?
    public var progress: Int?
    public init(
        workSessionID: String,
        zedThreadExternalID: String? = nil,
        status: ZedThreadStatus? = nil,
        progress: Int? = nil
    ) {
        self.workSessionID = workSessionID
        self.zedThreadExternalID = zedThreadExternalID
        self.status = status
        self.progress = progress
    }
}

/// Stops (deletes) the task's Zed instance: stop commands to the runner, threads and sessions closed.
public struct StopZedInstance: Sendable, Hashable, Codable {
    public var reason: String?
    public init(reason: String? = nil) { self.reason = reason }
}

/// implementation_review → done.
public struct ApproveImplementation: Sendable, Hashable, Codable {
    public var approver: String
    public var comments: String?
    public init(approver: String, comments: String? = nil) {
        self.approver = approver
        self.comments = comments
    }
}

/// implementation_review → implementation: the named implementation tasks are reopened, each with a new work session
/// (its next attempt) whose thread gets the reviewer's comments with the task's prompt.
public struct RequestImplementationChanges: Sendable, Hashable, Codable {
    public var reviewer: String?
    public var comments: String
    /// The implementation tasks to do again, by their index in the plan (1-based); at least one.
    public var implementationTaskIndexes: [Int]
    public init(reviewer: String? = nil, comments: String, implementationTaskIndexes: [Int]) {
        self.reviewer = reviewer
        self.comments = comments
        self.implementationTaskIndexes = implementationTaskIndexes
    }
}

/// Any non-terminal status → cancelled; everything below is stopped.
public struct CancelSpecTask: Sendable, Hashable, Codable {
    public var reason: String?
    public init(reason: String? = nil) { self.reason = reason }
}

/// Sets or clears the archived flag.
public struct ArchiveSpecTask: Sendable, Hashable, Codable {
    public var archived: Bool
    public init(archived: Bool = true) { self.archived = archived }
}

/// Sets a shared-context entry readable by all sessions of the task; a `nil` value clears it.
public struct SetSharedContext: Sendable, Hashable, Codable {
    public var key: String
    public var value: String?
    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// A new attempt for a failed or cancelled session's implementation task, with its own thread.
public struct RetryWorkSession: Sendable, Hashable, Codable {
    public var workSessionID: String
    /// Client-chosen id of the new session; generated when absent.
    public var newWorkSessionID: String?
    public init(workSessionID: String, newWorkSessionID: String? = nil) {
        self.workSessionID = workSessionID
        self.newWorkSessionID = newWorkSessionID
    }
}

/// Changes how many sessions may be active at once (`nil`: no limit).
public struct SetConcurrencyLimit: Sendable, Hashable, Codable {
    public var maxConcurrentSessions: Int?
    public init(maxConcurrentSessions: Int?) { self.maxConcurrentSessions = maxConcurrentSessions }
}

/// Sets the spec task's usage budget; a `nil` limit means none. When the usage of its threads reaches the budget,
/// no new work session starts until the budget is raised (running threads are told, and go on).
public struct SetBudget: Sendable, Hashable, Codable {
    /// Tokens in + out over all threads of the task.
    public var maxTokens: Int?
    /// Cost over all threads of the task, in millionths of a US dollar.
    public var maxCostMicros: Int?
    public init(maxTokens: Int? = nil, maxCostMicros: Int? = nil) {
        self.maxTokens = maxTokens
        self.maxCostMicros = maxCostMicros
    }
}
