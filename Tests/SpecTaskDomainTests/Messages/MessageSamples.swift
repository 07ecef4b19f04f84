import Foundation
import SpecTaskDomain

/// One sample of every message type, with every optional member set where the type has one.
enum MessageSamples {
    static let specTaskID = "st-auth.1"
    static let time = Date(timeIntervalSince1970: 1_740_830_400.125)
    static let later = Date(timeIntervalSince1970: 1_740_834_000.5)

    static let workspaceConfig: JSONValue = .object([
        "env": .object(["RUST_LOG": .string("debug")]),
        "ports": .array([.number(3000), .number(8080.5)]),
        "readonly": .bool(false),
        "extra": .null,
    ])

    // MARK: - Commands

    /// Every command, each with all its members set.
    static let commands: [SpecTaskCommand] = [
        .create(
            CreateSpecTask(
                name: "Implement user authentication",
                description: "Login, logout, sessions",
                projectPath: "/projects/app",
                maxConcurrentSessions: 3
            )
        ),
        .startPlanning(StartPlanning()),
        .submitSpecs(
            SubmitSpecs(
                requirements: "# Requirements\nUsers log in.",
                design: "# Design\nJWT.",
                implementationPlan: "## Task 1: Schema\n## Task 2: API\nDepends on: 1"
            )
        ),
        .approveSpecs(ApproveSpecs(approver: "alice", comments: "Looks good")),
        .requestChanges(RequestChanges(reviewer: "bob", comments: "Add rate limiting")),
        .startImplementation(
            StartImplementation(
                projectPath: "/projects/app",
                workspaceConfig: workspaceConfig,
                agentConfig: .object(["model": .string("large"), "temperature": .number(0.2)]),
                maxConcurrentSessions: 2,
                zedInstanceID: "zed-1",
                workSessionIDs: ["ws-1", "ws-2"]
            )
        ),
        .spawnWorkSession(
            SpawnWorkSession(
                parentWorkSessionID: "ws-1",
                name: "Debug the login race",
                description: "Reproduce and fix",
                implementationTaskIndex: 2,
                initialPrompt: "Look at the session store first.",
                workSessionID: "ws-9"
            )
        ),
        .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: "ws-1", status: .blocked, reason: "waiting")),
        .updateZedThread(
            UpdateZedThread(workSessionID: "ws-1", zedThreadExternalID: "zt-abc", status: .active, progress: 40)
        ),
        .stopZedInstance(StopZedInstance(reason: "done for today")),
        .approveImplementation(ApproveImplementation(approver: "alice", comments: "Ship it")),
        .cancel(CancelSpecTask(reason: "superseded")),
        .archive(ArchiveSpecTask(archived: false)),
        .setSharedContext(SetSharedContext(key: "api.base_url", value: "https://api.example.com/v1")),
        .retryWorkSession(RetryWorkSession(workSessionID: "ws-2", newWorkSessionID: "ws-2b")),
        .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 4)),
    ]

    /// Every command with only its required members.
    static let minimalCommands: [SpecTaskCommand] = [
        .create(CreateSpecTask(name: "n")),
        .startPlanning(StartPlanning()),
        .submitSpecs(SubmitSpecs(requirements: "", design: "", implementationPlan: "")),
        .approveSpecs(ApproveSpecs(approver: "a")),
        .requestChanges(RequestChanges(comments: "")),
        .startImplementation(StartImplementation()),
        .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: "ws-1", name: "n")),
        .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: "ws-1", status: .completed)),
        .updateZedThread(UpdateZedThread(workSessionID: "ws-1")),
        .stopZedInstance(StopZedInstance()),
        .approveImplementation(ApproveImplementation(approver: "a")),
        .cancel(CancelSpecTask()),
        .archive(ArchiveSpecTask()),
        .setSharedContext(SetSharedContext(key: "k", value: nil)),
        .retryWorkSession(RetryWorkSession(workSessionID: "ws-1")),
        .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: nil)),
    ]

    // MARK: - Entities

    static let specTask = SpecTask(
        id: specTaskID,
        name: "Implement user authentication",
        description: "Login, logout, sessions",
        status: .specApproved,
        requirements: "R",
        design: "D",
        implementationPlan: "P",
        approvedBy: "alice",
        approvedAt: later,
        approvalComments: "ok",
        revisionCount: 1,
        projectPath: "/projects/app",
        maxConcurrentSessions: 2,
        agentConfig: .object(["model": .string("large")]),
        createdAt: time,
        updatedAt: later
    )

    static let workSession = WorkSession(
        id: "ws-2",
        specTaskID: specTaskID,
        name: "API",
        description: "Build the API",
        status: .active,
        phase: .implementation,
        implementationTaskIndex: 2,
        parentWorkSessionID: "ws-1",
        spawnedByWorkSessionID: "ws-1",
        attempt: 2,
        initialPrompt: "Build the API.",
        createdAt: time,
        updatedAt: later,
        startedAt: later,
        completedAt: nil
    )

    static let zedThread = ZedThread(
        id: "zt-2",
        workSessionID: "ws-2",
        specTaskID: specTaskID,
        zedThreadExternalID: "zed-thread-77",
        status: .active,
        lastActivityAt: later
    )

    static let implementationTask = ImplementationTask(
        specTaskID: specTaskID,
        index: 2,
        title: "API",
        description: "Endpoints",
        acceptanceCriteria: "Tests pass",
        effort: .medium,
        dependsOn: [1],
        parallel: true,
        checklist: [
            ChecklistItem(number: "2.1", title: "Routes", state: .done, requirements: ["1.1"], details: ["GET /me"]),
            ChecklistItem(number: "2.2", title: "Auth middleware", state: .inProgress),
        ],
        requirements: ["1.1", "2.3"],
        status: .inProgress,
        assignedWorkSessionID: "ws-2"
    )

    static let zedInstance = ZedInstance(id: "zed-1", specTaskID: specTaskID, status: .ready, lastHeartbeatAt: later)

    // MARK: - Outputs

    /// Every status event.
    static let statusEvents: [StatusEvent] = [
        .commandApplied(
            CommandOutcome(
                commandID: "cmd-7",
                commandType: "spectask.command.start_implementation",
                created: CreatedIDs(
                    workSessionIDs: ["ws-1", "ws-2"],
                    zedThreadIDs: ["zt-1", "zt-2"],
                    zedInstanceID: "zed-1",
                    implementationTaskIndexes: [1, 2]
                )
            )
        ),
        .commandRejected(
            CommandOutcome(
                commandID: "cmd-8",
                commandType: "spectask.command.approve_specs",
                reason: "spec task st-auth.1 cannot go from backlog to spec_approved",
                code: "illegal_transition"
            )
        ),
        .specTaskChanged(SpecTaskChange(from: .specReview, to: .specApproved, reason: "approved", specTask: specTask)),
        .workSessionChanged(WorkSessionChange(from: nil, to: .active, workSession: workSession)),
        .zedThreadChanged(ZedThreadChange(from: .pending, to: .active, reason: "runner report", zedThread: zedThread)),
        .implementationTaskChanged(
            ImplementationTaskChange(from: .assigned, to: .inProgress, implementationTask: implementationTask)
        ),
        .zedInstanceChanged(ZedInstanceChange(from: .pending, to: .ready, zedInstance: zedInstance)),
        .sharedContextChanged(SharedContextChange(key: "api.base_url", value: "https://api.example.com/v1")),
    ]

    /// Every Zed command.
    static let zedCommands: [ZedCommand] = [
        .createInstance(
            CreateZedInstance(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                projectPath: "/projects/app",
                workspaceConfig: workspaceConfig,
                runnerToken: "tok-0123456789abcdef"
            )
        ),
        .createThread(
            CreateZedThread(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                workSessionID: "ws-2",
                threadID: "zt-2",
                name: "API",
                description: "Build the API",
                implementationTaskIndex: 2,
                implementationTaskTitle: "API",
                initialPrompt: "Implement task 2.",
                agentConfig: .object(["model": .string("large")])
            )
        ),
        .stopThread(
            StopZedThread(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                workSessionID: "ws-2",
                threadID: "zt-2",
                reason: "work session cancelled"
            )
        ),
        .stopInstance(StopZedInstanceOrder(instanceID: "zed-1", specTaskID: specTaskID, reason: "spec task done")),
    ]

    static let progress = ProgressCalculator.snapshot(
        for: specTask,
        implementationTasks: [
            ImplementationTask(specTaskID: specTaskID, index: 1, title: "Schema", status: .completed),
            implementationTask,
        ],
        workSessions: [workSession],
        zedThreads: [zedThread],
        threadProgress: ["zt-2": 35]
    )

    static let rejected = RejectedRecord(
        original: Array(#"{"specversion":"1.0","id":"e-1","type":"spectask.command.fly"}"#.utf8) + [0xFF, 0x00],
        topic: "spectask.commands",
        partition: 3,
        offset: 1_234_567,
        key: specTaskID,
        code: "unknown_type",
        reason: "unknown command type 'spectask.command.fly'",
        eventID: "e-1",
        specTaskID: specTaskID
    )

    // MARK: - Helpers

    /// A valid command message as text, with `data` given as JSON text.
    static func commandJSON(
        type: String = "spectask.command.create",
        subject: String = specTaskID,
        data: String = #"{"name":"Auth"}"#
    ) -> String {
        #"{"specversion":"1.0","id":"evt-1","source":"tests","type":"\#(type)","subject":"\#(subject)","data":\#(data)}"#
    }
}
