/// Every event a Zed runner sends on `zed.events`. CloudEvent type `zed.event.<name>`, subject = spec task id,
/// extension `runnertoken` = the token the worker issued with the instance's `create_instance` command.
///
/// Each payload names the instance it speaks for; the worker applies an event only when that instance is the
/// spec task's and the token is the one issued for it.
public enum ZedEvent: Sendable, Hashable {
    case instanceReady(ZedInstanceReady)
    case instanceStopped(ZedInstanceStopped)
    case instanceDisconnected(ZedInstanceDisconnected)
    case instanceError(ZedInstanceError)
    case heartbeat(ZedHeartbeat)
    case threadCreated(ZedThreadCreated)
    case threadStatusChanged(ZedThreadStatusChanged)
    case threadActivity(ZedThreadActivity)
    case threadCompleted(ZedThreadCompleted)
    case threadFailed(ZedThreadFailed)
    case spawnRequested(ZedSpawnRequested)
    case coordinationMessage(ZedCoordinationMessage)
    case specsSubmitted(ZedSpecsSubmitted)
    case planningFailed(ZedPlanningFailed)
    case pathsClaimed(ZedPathsClaimed)
    case pathsReleased(ZedPathsReleased)

    public var name: String {
        switch self {
        case .instanceReady: "instance_ready"
        case .instanceStopped: "instance_stopped"
        case .instanceDisconnected: "instance_disconnected"
        case .instanceError: "instance_error"
        case .heartbeat: "heartbeat"
        case .threadCreated: "thread_created"
        case .threadStatusChanged: "thread_status_changed"
        case .threadActivity: "thread_activity"
        case .threadCompleted: "thread_completed"
        case .threadFailed: "thread_failed"
        case .spawnRequested: "spawn_requested"
        case .coordinationMessage: "coordination_message"
        case .specsSubmitted: "specs_submitted"
        case .planningFailed: "planning_failed"
        case .pathsClaimed: "paths_claimed"
        case .pathsReleased: "paths_released"
        }
    }

    /// The instance the runner speaks for; its token must match.
    public var instanceID: String {
        switch self {
        case .instanceReady(let event): event.instanceID
        case .instanceStopped(let event): event.instanceID
        case .instanceDisconnected(let event): event.instanceID
        case .instanceError(let event): event.instanceID
        case .heartbeat(let event): event.instanceID
        case .threadCreated(let event): event.instanceID
        case .threadStatusChanged(let event): event.instanceID
        case .threadActivity(let event): event.instanceID
        case .threadCompleted(let event): event.instanceID
        case .threadFailed(let event): event.instanceID
        case .spawnRequested(let event): event.instanceID
        case .coordinationMessage(let event): event.instanceID
        case .specsSubmitted(let event): event.instanceID
        case .planningFailed(let event): event.instanceID
        case .pathsClaimed(let event): event.instanceID
        case .pathsReleased(let event): event.instanceID
        }
    }

    public static let typePrefix = "zed.event."
    public var type: String { Self.typePrefix + name }
}

// MARK: - Instance

/// The runner opened the instance's workspace; threads can be created in it.
public struct ZedInstanceReady: Sendable, Hashable, Codable {
    public var instanceID: String
    public init(instanceID: String) { self.instanceID = instanceID }
}

/// The instance was closed on the runner's side: its threads and sessions end.
public struct ZedInstanceStopped: Sendable, Hashable, Codable {
    public var instanceID: String
    public var reason: String?
    public init(instanceID: String, reason: String? = nil) {
        self.instanceID = instanceID
        self.reason = reason
    }
}

/// The runner lost the instance for now (its active threads are disconnected); a heartbeat recovers it.
public struct ZedInstanceDisconnected: Sendable, Hashable, Codable {
    public var instanceID: String
    public var reason: String?
    public init(instanceID: String, reason: String? = nil) {
        self.instanceID = instanceID
        self.reason = reason
    }
}

/// The instance broke: its open threads fail, and their sessions with them.
public struct ZedInstanceError: Sendable, Hashable, Codable {
    public var instanceID: String
    public var error: String
    public init(instanceID: String, error: String) {
        self.instanceID = instanceID
        self.error = error
    }
}

/// "Still here", every few seconds: resource usage and what each thread is doing.
public struct ZedHeartbeat: Sendable, Hashable, Codable {
    /// One thread as the runner sees it.
    public struct Thread: Sendable, Hashable, Codable {
        public var workSessionID: String
        public var status: ZedThreadStatus
        public var progress: Int?
        public init(workSessionID: String, status: ZedThreadStatus, progress: Int? = nil) {
            self.workSessionID = workSessionID
            self.status = status
            self.progress = progress
        }
    }

    public var instanceID: String
    public var cpuPercent: Int?
    public var memoryMB: Int?
    public var uptimeSeconds: Int?
    public var threads: [Thread]?
    public init(
        instanceID: String,
        cpuPercent: Int? = nil,
        memoryMB: Int? = nil,
        uptimeSeconds: Int? = nil,
        threads: [Thread]? = nil
    ) {
        self.instanceID = instanceID
        self.cpuPercent = cpuPercent
        self.memoryMB = memoryMB
        self.uptimeSeconds = uptimeSeconds
        self.threads = threads
    }
}

// MARK: - Threads

/// The runner created the thread of a work session; Zed's own id for it comes with it. The thread is active.
public struct ZedThreadCreated: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    public var zedThreadExternalID: String
    public init(instanceID: String, workSessionID: String, zedThreadExternalID: String) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.zedThreadExternalID = zedThreadExternalID
    }
}

public struct ZedThreadStatusChanged: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    public var status: ZedThreadStatus
    public var reason: String?
    public init(instanceID: String, workSessionID: String, status: ZedThreadStatus, reason: String? = nil) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.status = status
        self.reason = reason
    }
}

/// What a thread's agent just did. Counts are for this activity alone; the worker keeps the sums.
public struct ZedThreadActivity: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case codeEdit = "code_edit"
        case fileCreate = "file_create"
        case testRun = "test_run"
        case gitCommit = "git_commit"
        case message
        case other
    }

    public var instanceID: String
    public var workSessionID: String
    public var kind: Kind
    public var summary: String?
    public var filesChanged: Int?
    public var linesAdded: Int?
    public var linesRemoved: Int?
    public var testsRun: Int?
    public var testsPassed: Int?
    /// The thread's progress after this activity, 0...100.
    public var progress: Int?
    public var tokensIn: Int?
    public var tokensOut: Int?
    /// Cost in millionths of a US dollar, so sums stay exact.
    public var costMicros: Int?

    public init(
        instanceID: String,
        workSessionID: String,
        kind: Kind,
        summary: String? = nil,
        filesChanged: Int? = nil,
        linesAdded: Int? = nil,
        linesRemoved: Int? = nil,
        testsRun: Int? = nil,
        testsPassed: Int? = nil,
        progress: Int? = nil,
        tokensIn: Int? = nil,
        tokensOut: Int? = nil,
        costMicros: Int? = nil
    ) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.kind = kind
        self.summary = summary
        self.filesChanged = filesChanged
        self.linesAdded = linesAdded
        self.linesRemoved = linesRemoved
        self.testsRun = testsRun
        self.testsPassed = testsPassed
        self.progress = progress
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.costMicros = costMicros
    }
}

public struct ZedThreadCompleted: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    public var summary: String?
    public init(instanceID: String, workSessionID: String, summary: String? = nil) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.summary = summary
    }
}

public struct ZedThreadFailed: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    public var reason: String
    public init(instanceID: String, workSessionID: String, reason: String) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.reason = reason
    }
}

/// A thread asks for another work session, exactly as `spectask.command.spawn_work_session` does.
public struct ZedSpawnRequested: Sendable, Hashable, Codable {
    public var instanceID: String
    /// The requesting thread's work session: the parent of the new one.
    public var workSessionID: String
    public var name: String
    public var description: String?
    public var implementationTaskIndex: Int?
    public var initialPrompt: String?
    /// The id the new session should have; generated when absent.
    public var newWorkSessionID: String?
    public init(
        instanceID: String,
        workSessionID: String,
        name: String,
        description: String? = nil,
        implementationTaskIndex: Int? = nil,
        initialPrompt: String? = nil,
        newWorkSessionID: String? = nil
    ) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.name = name
        self.description = description
        self.implementationTaskIndex = implementationTaskIndex
        self.initialPrompt = initialPrompt
        self.newWorkSessionID = newWorkSessionID
    }
}

/// A message from one thread to another, or to every thread of the task when `toWorkSessionID` is absent.
public struct ZedCoordinationMessage: Sendable, Hashable, Codable {
    public var instanceID: String
    public var fromWorkSessionID: String
    public var toWorkSessionID: String?
    public var kind: CoordinationKind
    public var message: String
    /// The coordination message this one answers (a response to a request).
    public var replyTo: String?
    public init(
        instanceID: String,
        fromWorkSessionID: String,
        toWorkSessionID: String? = nil,
        kind: CoordinationKind,
        message: String,
        replyTo: String? = nil
    ) {
        self.instanceID = instanceID
        self.fromWorkSessionID = fromWorkSessionID
        self.toWorkSessionID = toWorkSessionID
        self.kind = kind
        self.message = message
        self.replyTo = replyTo
    }
}

// MARK: - Planning

/// The planning session's thread wrote the specs: applied as `spectask.command.submit_specs` is
/// (spec_generation or spec_revision → spec_review). The session stays open for the reviewer's answer.
public struct ZedSpecsSubmitted: Sendable, Hashable, Codable {
    public var instanceID: String
    /// The planning session whose thread wrote them.
    public var workSessionID: String
    public var requirements: String
    public var design: String
    public var implementationPlan: String
    public init(
        instanceID: String,
        workSessionID: String,
        requirements: String,
        design: String,
        implementationPlan: String
    ) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.requirements = requirements
        self.design = design
        self.implementationPlan = implementationPlan
    }
}

/// The planning session's thread gave up: the session fails and the spec task goes to spec_failed, from where
/// `start_planning` starts planning again.
public struct ZedPlanningFailed: Sendable, Hashable, Codable {
    public var instanceID: String
    public var workSessionID: String
    public var reason: String
    public init(instanceID: String, workSessionID: String, reason: String) {
        self.instanceID = instanceID
        self.workSessionID = workSessionID
        self.reason = reason
    }
}
