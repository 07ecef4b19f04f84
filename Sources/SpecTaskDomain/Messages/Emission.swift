/// Something the decision function wants published after the transaction commits (through the outbox).
public enum Emission: Sendable, Hashable {
    /// To `spectask.status`, key = spec task id. The store adds the per-task sequence number.
    case status(StatusEvent)
    /// To `zed.commands`, key = Zed instance id.
    case zed(ZedCommand)
    /// A message between threads, appended to the spec task's coordination log.
    case coordination(CoordinationEntry)
}

/// Events on `spectask.status`. CloudEvent type `spectask.status.<name>`.
public enum StatusEvent: Sendable, Hashable {
    /// Exactly one of `commandApplied` / `commandRejected` per command, correlated by the command's id.
    case commandApplied(CommandOutcome)
    case commandRejected(CommandOutcome)
    case specTaskChanged(SpecTaskChange)
    case workSessionChanged(WorkSessionChange)
    case zedThreadChanged(ZedThreadChange)
    case implementationTaskChanged(ImplementationTaskChange)
    case zedInstanceChanged(ZedInstanceChange)
    case sharedContextChanged(SharedContextChange)
    case pathClaimChanged(PathClaimChange)

    public var name: String {
        switch self {
        case .commandApplied: "command_applied"
        case .commandRejected: "command_rejected"
        case .specTaskChanged: "spec_task_changed"
        case .workSessionChanged: "work_session_changed"
        case .zedThreadChanged: "zed_thread_changed"
        case .implementationTaskChanged: "implementation_task_changed"
        case .zedInstanceChanged: "zed_instance_changed"
        case .sharedContextChanged: "shared_context_changed"
        case .pathClaimChanged: "path_claim_changed"
        }
    }

    public static let typePrefix = "spectask.status."
    public var type: String { Self.typePrefix + name }
}

/// The ids a command created, so its sender can follow them.
public struct CreatedIDs: Sendable, Hashable, Codable {
    public var workSessionIDs: [String]
    public var zedThreadIDs: [String]
    public var zedInstanceID: String?
    public var implementationTaskIndexes: [Int]

    public init(
        workSessionIDs: [String] = [],
        zedThreadIDs: [String] = [],
        zedInstanceID: String? = nil,
        implementationTaskIndexes: [Int] = []
    ) {
        self.workSessionIDs = workSessionIDs
        self.zedThreadIDs = zedThreadIDs
        self.zedInstanceID = zedInstanceID
        self.implementationTaskIndexes = implementationTaskIndexes
    }
}

public struct CommandOutcome: Sendable, Hashable, Codable {
    public var commandID: String
    /// The command's CloudEvent type.
    public var commandType: String
    /// Set when rejected: what was wrong, in a sentence.
    public var reason: String?
    /// Set when rejected: a stable code (`Rejection.Code`).
    public var code: String?
    public var created: CreatedIDs

    public init(
        commandID: String,
        commandType: String,
        reason: String? = nil,
        code: String? = nil,
        created: CreatedIDs = CreatedIDs()
    ) {
        self.commandID = commandID
        self.commandType = commandType
        self.reason = reason
        self.code = code
        self.created = created
    }
}

/// A status change (`from` is nil when the entity was created) with the entity as it is now.
public struct SpecTaskChange: Sendable, Hashable, Codable {
    public var from: SpecTaskStatus?
    public var to: SpecTaskStatus
    public var reason: String?
    public var specTask: SpecTask
    public init(from: SpecTaskStatus?, to: SpecTaskStatus, reason: String? = nil, specTask: SpecTask) {
        self.from = from
        self.to = to
        self.reason = reason
        self.specTask = specTask
    }
}

public struct WorkSessionChange: Sendable, Hashable, Codable {
    public var from: WorkSessionStatus?
    public var to: WorkSessionStatus
    public var reason: String?
    public var workSession: WorkSession
    public init(from: WorkSessionStatus?, to: WorkSessionStatus, reason: String? = nil, workSession: WorkSession) {
        self.from = from
        self.to = to
        self.reason = reason
        self.workSession = workSession
    }
}

public struct ZedThreadChange: Sendable, Hashable, Codable {
    public var from: ZedThreadStatus?
    public var to: ZedThreadStatus
    public var reason: String?
    public var zedThread: ZedThread
    public init(from: ZedThreadStatus?, to: ZedThreadStatus, reason: String? = nil, zedThread: ZedThread) {
        self.from = from
        self.to = to
        self.reason = reason
        self.zedThread = zedThread
    }
}

public struct ImplementationTaskChange: Sendable, Hashable, Codable {
    public var from: ImplementationTaskStatus?
    public var to: ImplementationTaskStatus
    public var reason: String?
    public var implementationTask: ImplementationTask
    public init(
        from: ImplementationTaskStatus?,
        to: ImplementationTaskStatus,
        reason: String? = nil,
        implementationTask: ImplementationTask
    ) {
        self.from = from
        self.to = to
        self.reason = reason
        self.implementationTask = implementationTask
    }
}

public struct ZedInstanceChange: Sendable, Hashable, Codable {
    public var from: ZedInstanceStatus?
    public var to: ZedInstanceStatus
    public var reason: String?
    public var zedInstance: ZedInstance
    public init(from: ZedInstanceStatus?, to: ZedInstanceStatus, reason: String? = nil, zedInstance: ZedInstance) {
        self.from = from
        self.to = to
        self.reason = reason
        self.zedInstance = zedInstance
    }
}

public struct SharedContextChange: Sendable, Hashable, Codable {
    public var key: String
    /// `nil` when the entry was cleared.
    public var value: String?
    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// Instructions to Zed runners on `zed.commands`. CloudEvent type `zed.command.<name>`, key = instance id.
public enum ZedCommand: Sendable, Hashable {
    case createInstance(CreateZedInstance)
    case createThread(CreateZedThread)
    case stopThread(StopZedThread)
    case stopInstance(StopZedInstanceOrder)
    case deliverMessage(DeliverCoordinationMessage)
    case budgetExceeded(BudgetExceededNotice)
    case reviseSpecs(ReviseSpecsOrder)
    case claimResult(ClaimResult)

    public var name: String {
        switch self {
        case .createInstance: "create_instance"
        case .createThread: "create_thread"
        case .stopThread: "stop_thread"
        case .stopInstance: "stop_instance"
        case .deliverMessage: "deliver_message"
        case .budgetExceeded: "budget_exceeded"
        case .reviseSpecs: "revise_specs"
        case .claimResult: "claim_result"
        }
    }

    public var instanceID: String {
        switch self {
        case .createInstance(let command): command.instanceID
        case .createThread(let command): command.instanceID
        case .stopThread(let command): command.instanceID
        case .stopInstance(let command): command.instanceID
        case .deliverMessage(let command): command.instanceID
        case .budgetExceeded(let command): command.instanceID
        case .reviseSpecs(let command): command.instanceID
        case .claimResult(let command): command.instanceID
        }
    }

    public static let typePrefix = "zed.command."
    public var type: String { Self.typePrefix + name }
}

public struct CreateZedInstance: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var projectPath: String?
    public var workspaceConfig: JSONValue?
    /// The token the runner must put on every `zed.events` message of this instance.
    public var runnerToken: String
    public init(
        instanceID: String,
        specTaskID: String,
        projectPath: String?,
        workspaceConfig: JSONValue?,
        runnerToken: String
    ) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.projectPath = projectPath
        self.workspaceConfig = workspaceConfig
        self.runnerToken = runnerToken
    }
}

public struct CreateZedThread: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var workSessionID: String
    public var threadID: String
    public var name: String
    public var description: String
    public var implementationTaskIndex: Int?
    public var implementationTaskTitle: String?
    public var initialPrompt: String
    public var agentConfig: JSONValue?
    /// `planning` for the planning session's thread, which answers with `zed.event.specs_submitted`;
    /// absent in messages from before there were planning sessions, which means `implementation`.
    public var phase: WorkSessionPhase?
    public init(
        instanceID: String,
        specTaskID: String,
        workSessionID: String,
        threadID: String,
        name: String,
        description: String,
        implementationTaskIndex: Int?,
        implementationTaskTitle: String?,
        initialPrompt: String,
        agentConfig: JSONValue?,
        phase: WorkSessionPhase? = .implementation
    ) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.name = name
        self.description = description
        self.implementationTaskIndex = implementationTaskIndex
        self.implementationTaskTitle = implementationTaskTitle
        self.initialPrompt = initialPrompt
        self.agentConfig = agentConfig
        self.phase = phase
    }
}

public struct StopZedThread: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var workSessionID: String
    public var threadID: String
    public var reason: String
    public init(instanceID: String, specTaskID: String, workSessionID: String, threadID: String, reason: String) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.reason = reason
    }
}

public struct StopZedInstanceOrder: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var reason: String
    public init(instanceID: String, specTaskID: String, reason: String) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.reason = reason
    }
}

/// A coordination message for one thread (a broadcast is one of these per receiving thread).
public struct DeliverCoordinationMessage: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    /// The coordination log entry's id: the same for every receiver of a broadcast.
    public var messageID: String
    public var workSessionID: String
    public var threadID: String
    public var fromWorkSessionID: String
    public var kind: CoordinationKind
    public var message: String
    public var isBroadcast: Bool
    public var replyTo: String?
    public init(
        instanceID: String,
        specTaskID: String,
        messageID: String,
        workSessionID: String,
        threadID: String,
        fromWorkSessionID: String,
        kind: CoordinationKind,
        message: String,
        isBroadcast: Bool,
        replyTo: String?
    ) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.messageID = messageID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.fromWorkSessionID = fromWorkSessionID
        self.kind = kind
        self.message = message
        self.isBroadcast = isBroadcast
        self.replyTo = replyTo
    }
}

/// Tells a running thread that its spec task's budget is used up: it may finish, but no new session starts.
public struct BudgetExceededNotice: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var workSessionID: String
    public var threadID: String
    public var reason: String
    public init(instanceID: String, specTaskID: String, workSessionID: String, threadID: String, reason: String) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.reason = reason
    }
}

/// Tells the planning session's thread to revise the specs it submitted: a reviewer asked for changes, or the
/// implementation plan it submitted can not be used. It answers with `zed.event.specs_submitted` again.
public struct ReviseSpecsOrder: Sendable, Hashable, Codable {
    public var instanceID: String
    public var specTaskID: String
    public var workSessionID: String
    public var threadID: String
    /// Who asked for the changes; absent when the worker itself sends the specs back (an unusable plan).
    public var reviewer: String?
    public var comments: String
    /// How many times a reviewer has asked for changes to this spec task's specs so far.
    public var revision: Int
    public init(
        instanceID: String,
        specTaskID: String,
        workSessionID: String,
        threadID: String,
        reviewer: String?,
        comments: String,
        revision: Int
    ) {
        self.instanceID = instanceID
        self.specTaskID = specTaskID
        self.workSessionID = workSessionID
        self.threadID = threadID
        self.reviewer = reviewer
        self.comments = comments
        self.revision = revision
    }
}
