import Foundation
import SpecTaskContract
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
        .startPlanning(
            StartPlanning(
                inZed: true,
                agentConfig: .object(["model": .string("planner")]),
                projectPath: "/projects/app",
                workspaceConfig: workspaceConfig,
                zedInstanceID: "zed-1",
                workSessionID: "ws-plan"
            )
        ),
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
        .requestImplementationChanges(
            RequestImplementationChanges(
                reviewer: "bob",
                comments: "Handle expired tokens",
                implementationTaskIndexes: [2, 3]
            )
        ),
        .cancel(CancelSpecTask(reason: "superseded")),
        .archive(ArchiveSpecTask(archived: false)),
        .setSharedContext(SetSharedContext(key: "api.base_url", value: "https://api.example.com/v1")),
        .retryWorkSession(RetryWorkSession(workSessionID: "ws-2", newWorkSessionID: "ws-2b")),
        .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 4)),
        .setBudget(SetBudget(maxTokens: 2_000_000, maxCostMicros: 25_000_000)),
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
        .requestImplementationChanges(RequestImplementationChanges(comments: "", implementationTaskIndexes: [])),
        .cancel(CancelSpecTask()),
        .archive(ArchiveSpecTask()),
        .setSharedContext(SetSharedContext(key: "k", value: nil)),
        .retryWorkSession(RetryWorkSession(workSessionID: "ws-1")),
        .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: nil)),
        .setBudget(SetBudget()),
    ]

    // MARK: - Zed events

    /// The token of the sample instance `zed-1`, as its `create_instance` command carries it.
    static let runnerToken = "tok-0123456789abcdef"
    /// An input's W3C trace context, with a tracestate.
    static let trace = TraceContext(
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    )!

    /// Every Zed event, each with all its members set.
    static let zedEvents: [ZedEvent] = [
        .instanceReady(ZedInstanceReady(instanceID: "zed-1")),
        .instanceStopped(ZedInstanceStopped(instanceID: "zed-1", reason: "runner shut down")),
        .instanceDisconnected(ZedInstanceDisconnected(instanceID: "zed-1", reason: "network lost")),
        .instanceError(ZedInstanceError(instanceID: "zed-1", error: "workspace could not be opened")),
        .heartbeat(
            ZedHeartbeat(
                instanceID: "zed-1",
                cpuPercent: 250,
                memoryMB: 4096,
                uptimeSeconds: 3600,
                threads: [
                    ZedHeartbeat.Thread(workSessionID: "ws-1", status: .active, progress: 60),
                    ZedHeartbeat.Thread(workSessionID: "ws-2", status: .disconnected),
                ]
            )
        ),
        .threadCreated(ZedThreadCreated(instanceID: "zed-1", workSessionID: "ws-2", zedThreadExternalID: "zt-abc")),
        .threadStatusChanged(
            ZedThreadStatusChanged(instanceID: "zed-1", workSessionID: "ws-2", status: .disconnected, reason: "crash")
        ),
        .threadActivity(
            ZedThreadActivity(
                instanceID: "zed-1",
                workSessionID: "ws-2",
                kind: .testRun,
                summary: "Ran the API tests",
                filesChanged: 3,
                linesAdded: 120,
                linesRemoved: 7,
                testsRun: 42,
                testsPassed: 41,
                progress: 70,
                tokensIn: 12_000,
                tokensOut: 3_400,
                costMicros: 185_000
            )
        ),
        .threadCompleted(ZedThreadCompleted(instanceID: "zed-1", workSessionID: "ws-2", summary: "API done")),
        .threadFailed(ZedThreadFailed(instanceID: "zed-1", workSessionID: "ws-2", reason: "tests keep failing")),
        .spawnRequested(
            ZedSpawnRequested(
                instanceID: "zed-1",
                workSessionID: "ws-2",
                name: "Debug the login race",
                description: "Reproduce and fix",
                implementationTaskIndex: 2,
                initialPrompt: "Look at the session store first.",
                newWorkSessionID: "ws-9"
            )
        ),
        .coordinationMessage(
            ZedCoordinationMessage(
                instanceID: "zed-1",
                fromWorkSessionID: "ws-2",
                toWorkSessionID: "ws-1",
                kind: .response,
                message: "The schema is merged.",
                replyTo: "coord-7"
            )
        ),
        .specsSubmitted(
            ZedSpecsSubmitted(
                instanceID: "zed-1",
                workSessionID: "ws-plan",
                requirements: "Users sign in.",
                design: "REST over PostgreSQL.",
                implementationPlan: "## Task 1: Schema"
            )
        ),
        .planningFailed(ZedPlanningFailed(instanceID: "zed-1", workSessionID: "ws-plan", reason: "model unavailable")),
        .pathsClaimed(
            ZedPathsClaimed(
                instanceID: "zed-1",
                workSessionID: "ws-2",
                claimID: "claim-1",
                paths: ["Sources/API/**", "Package.swift"],
                reason: "adds the API routes"
            )
        ),
        .pathsReleased(ZedPathsReleased(instanceID: "zed-1", workSessionID: "ws-2", claimIDs: ["claim-1"])),
    ]

    /// Every Zed event with only its required members.
    static let minimalZedEvents: [ZedEvent] = [
        .instanceReady(ZedInstanceReady(instanceID: "z")),
        .instanceStopped(ZedInstanceStopped(instanceID: "z")),
        .instanceDisconnected(ZedInstanceDisconnected(instanceID: "z")),
        .instanceError(ZedInstanceError(instanceID: "z", error: "")),
        .heartbeat(ZedHeartbeat(instanceID: "z")),
        .threadCreated(ZedThreadCreated(instanceID: "z", workSessionID: "w", zedThreadExternalID: "x")),
        .threadStatusChanged(ZedThreadStatusChanged(instanceID: "z", workSessionID: "w", status: .pending)),
        .threadActivity(ZedThreadActivity(instanceID: "z", workSessionID: "w", kind: .other)),
        .threadCompleted(ZedThreadCompleted(instanceID: "z", workSessionID: "w")),
        .threadFailed(ZedThreadFailed(instanceID: "z", workSessionID: "w", reason: "")),
        .spawnRequested(ZedSpawnRequested(instanceID: "z", workSessionID: "w", name: "n")),
        .coordinationMessage(
            ZedCoordinationMessage(instanceID: "z", fromWorkSessionID: "w", kind: .broadcast, message: "")
        ),
        .specsSubmitted(
            ZedSpecsSubmitted(instanceID: "z", workSessionID: "w", requirements: "", design: "", implementationPlan: "")
        ),
        .planningFailed(ZedPlanningFailed(instanceID: "z", workSessionID: "w", reason: "")),
        .pathsClaimed(ZedPathsClaimed(instanceID: "z", workSessionID: "w", claimID: "c", paths: ["p"])),
        .pathsReleased(ZedPathsReleased(instanceID: "z", workSessionID: "w")),
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
        budget: Budget(maxTokens: 2_000_000, maxCostMicros: 25_000_000),
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
        lastActivityAt: later,
        usage: Usage(
            activities: 5,
            filesChanged: 4,
            linesAdded: 200,
            linesRemoved: 30,
            testsRun: 42,
            testsPassed: 41,
            tokensIn: 52_000,
            tokensOut: 9_100,
            costMicros: 1_250_000
        )
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

    static let zedInstance = ZedInstance(
        id: "zed-1",
        specTaskID: specTaskID,
        status: .ready,
        lastHeartbeatAt: later,
        resources: ResourceUsage(cpuPercent: 250, memoryMB: 4096, uptimeSeconds: 3600),
        lastError: "heartbeat timed out"
    )

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
        .pathClaimChanged(
            PathClaimChange(
                from: nil,
                to: .waiting,
                reason: "waits for ws-1",
                pathClaim: pathClaim,
                conflicts: [conflict]
            )
        ),
    ]

    static let pathClaim = PathClaim(
        id: "claim-1",
        specTaskID: specTaskID,
        workSessionID: "ws-2",
        threadID: "zt-2",
        paths: ["Sources/API/**", "Package.swift"],
        status: .waiting,
        reason: "adds the API routes",
        claimedAt: time,
        grantedAt: later
    )

    static let conflict = PathClaimConflict(
        workSessionID: "ws-1",
        threadID: "zt-1",
        claimID: "claim-0",
        heldPaths: ["Package.swift"],
        claimedPaths: ["Package.swift"]
    )

    /// Every Zed command.
    static let zedCommands: [ZedCommand] = [
        .createInstance(
            CreateZedInstance(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                projectPath: "/projects/app",
                workspaceConfig: workspaceConfig,
                runnerToken: runnerToken
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
                agentConfig: .object(["model": .string("large")]),
                phase: .implementation
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
        .deliverMessage(
            DeliverCoordinationMessage(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                messageID: "coord-8",
                workSessionID: "ws-1",
                threadID: "zt-1",
                fromWorkSessionID: "ws-2",
                kind: .response,
                message: "The schema is merged.",
                isBroadcast: false,
                replyTo: "coord-7"
            )
        ),
        .budgetExceeded(
            BudgetExceededNotice(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                workSessionID: "ws-2",
                threadID: "zt-2",
                reason: "61100 tokens used of a budget of 50000"
            )
        ),
        .reviseSpecs(
            ReviseSpecsOrder(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                workSessionID: "ws-plan",
                threadID: "zt-plan",
                reviewer: "alice",
                comments: "Add rate limiting.",
                revision: 1
            )
        ),
        .claimResult(
            ClaimResult(
                instanceID: "zed-1",
                specTaskID: specTaskID,
                workSessionID: "ws-2",
                threadID: "zt-2",
                claimID: "claim-1",
                paths: ["Sources/API/**", "Package.swift"],
                result: .waiting,
                conflicts: [conflict],
                reason: "waits for work session ws-1"
            )
        ),
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

    /// A valid Zed event message as text, with `data` and `runnertoken` given as JSON text (`nil` leaves the token
    /// out).
    static func zedEventJSON(
        type: String = "zed.event.heartbeat",
        subject: String = specTaskID,
        runnerToken: String? = #""tok-0123456789abcdef""#,
        data: String = #"{"instanceID":"zed-1"}"#
    ) -> String {
        let token = runnerToken.map { #","runnertoken":\#($0)"# } ?? ""
        return #"{"specversion":"1.0","id":"evt-1","source":"runner","type":"\#(type)","subject":"\#(subject)""#
            + #"\#(token),"data":\#(data)}"#
    }
}
