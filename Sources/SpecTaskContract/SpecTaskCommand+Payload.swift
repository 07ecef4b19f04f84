import SpecTaskDomain

/// The wire contract of each command: its name, the members of its `data`, and how `data` becomes the payload.
struct CommandShape: Sendable {
    /// The `<name>` of `spectask.command.<name>` or `zed.event.<name>`.
    let name: String
    /// The whole CloudEvent `type`.
    let type: String
    /// Every member `data` may have.
    let fields: [PayloadField]
    /// Builds the command from `data` that already passed ``fields``.
    let decode: @Sendable (_ data: JSONValue) throws -> SpecTaskCommand

    init<Payload: Decodable & Sendable>(
        _ name: String,
        _ payload: Payload.Type,
        _ wrap: @escaping @Sendable (Payload) -> SpecTaskCommand,
        _ fields: [PayloadField],
        typePrefix: String = SpecTaskCommand.typePrefix
    ) {
        self.name = name
        self.type = typePrefix + name
        self.fields = fields
        self.decode = { data in wrap(try JSONValueDecoder.decode(Payload.self, from: data)) }
    }

    /// The shape of a Zed event.
    static func zedEvent<Payload: Decodable & Sendable>(
        _ name: String,
        _ payload: Payload.Type,
        _ wrap: @escaping @Sendable (Payload) -> ZedEvent,
        _ fields: [PayloadField]
    ) -> CommandShape {
        CommandShape(name, payload, { .zedEvent(wrap($0)) }, fields, typePrefix: ZedEvent.typePrefix)
    }

    /// The names of the members that must be present.
    var requiredNames: [String] { fields.filter(\.isRequired).map(\.name) }
}

extension SpecTaskCommand {
    /// The payload struct, as the CloudEvent `data`.
    var payload: any Encodable & Sendable {
        switch self {
        case .create(let payload): payload
        case .startPlanning(let payload): payload
        case .submitSpecs(let payload): payload
        case .approveSpecs(let payload): payload
        case .requestChanges(let payload): payload
        case .startImplementation(let payload): payload
        case .spawnWorkSession(let payload): payload
        case .updateWorkSessionStatus(let payload): payload
        case .updateZedThread(let payload): payload
        case .stopZedInstance(let payload): payload
        case .approveImplementation(let payload): payload
        case .requestImplementationChanges(let payload): payload
        case .cancel(let payload): payload
        case .archive(let payload): payload
        case .setSharedContext(let payload): payload
        case .retryWorkSession(let payload): payload
        case .setConcurrencyLimit(let payload): payload
        case .setBudget(let payload): payload
        case .zedEvent(let event): event.payload
        }
    }

    /// Every command name, in the order of the cases.
    public static let names: [String] = shapes.map(\.name)

    /// The members the `data` of a command may have, or `nil` for an unknown name.
    ///
    /// - Parameter name: The `<name>` of `spectask.command.<name>`.
    /// - Returns: The members with their types and limits, in declaration order.
    public static func payloadFields(name: String) -> [PayloadField]? {
        shapesByName[name]?.fields
    }

    /// The members the `data` of any input may have, by its whole CloudEvent type, or `nil` for an unknown type.
    public static func payloadFields(type: String) -> [PayloadField]? {
        shapesByType[type]?.fields
    }

    static let shapesByName: [String: CommandShape] = Dictionary(uniqueKeysWithValues: shapes.map { ($0.name, $0) })
    /// Commands and Zed events, by CloudEvent type.
    static let shapesByType: [String: CommandShape] = Dictionary(
        uniqueKeysWithValues: (shapes + ZedEvent.shapes).map { ($0.type, $0) }
    )

    private static let sessionLimit = PayloadField.Kind.integer(1...10_000)
    private static let taskIndex = PayloadField.Kind.integer(1...10_000)

    static let shapes: [CommandShape] = [
        CommandShape(
            "create",
            CreateSpecTask.self,
            SpecTaskCommand.create,
            [
                .required("name", .name),
                .optional("description", .text),
                .optional("projectPath", .path),
                .optional("maxConcurrentSessions", sessionLimit),
            ]
        ),
        CommandShape(
            "start_planning",
            StartPlanning.self,
            SpecTaskCommand.startPlanning,
            [
                .optional("inZed", .boolean),
                .optional("agentConfig", .anyJSON),
                .optional("projectPath", .path),
                .optional("workspaceConfig", .anyJSON),
                .optional("zedInstanceID", .identifier),
                .optional("workSessionID", .identifier),
            ]
        ),
        CommandShape(
            "submit_specs",
            SubmitSpecs.self,
            SpecTaskCommand.submitSpecs,
            [
                .required("requirements", .text),
                .required("design", .text),
                .required("implementationPlan", .text),
            ]
        ),
        CommandShape(
            "approve_specs",
            ApproveSpecs.self,
            SpecTaskCommand.approveSpecs,
            [.required("approver", .name), .optional("comments", .text)]
        ),
        CommandShape(
            "request_changes",
            RequestChanges.self,
            SpecTaskCommand.requestChanges,
            [.optional("reviewer", .name), .required("comments", .text)]
        ),
        CommandShape(
            "start_implementation",
            StartImplementation.self,
            SpecTaskCommand.startImplementation,
            [
                .optional("projectPath", .path),
                .optional("workspaceConfig", .anyJSON),
                .optional("agentConfig", .anyJSON),
                .optional("maxConcurrentSessions", sessionLimit),
                .optional("zedInstanceID", .identifier),
                .optional("workSessionIDs", .array(of: .identifier, maxCount: 1000)),
            ]
        ),
        CommandShape(
            "spawn_work_session",
            SpawnWorkSession.self,
            SpecTaskCommand.spawnWorkSession,
            [
                .required("parentWorkSessionID", .identifier),
                .required("name", .name),
                .optional("description", .text),
                .optional("implementationTaskIndex", taskIndex),
                .optional("initialPrompt", .text),
                .optional("workSessionID", .identifier),
            ]
        ),
        CommandShape(
            "update_work_session_status",
            UpdateWorkSessionStatus.self,
            SpecTaskCommand.updateWorkSessionStatus,
            [
                .required("workSessionID", .identifier),
                .required("status", .oneOf(WorkSessionStatus.allCases.map(\.rawValue))),
                .optional("reason", .text),
            ]
        ),
        CommandShape(
            "update_zed_thread",
            UpdateZedThread.self,
            SpecTaskCommand.updateZedThread,
            [
                .required("workSessionID", .identifier),
                .optional("zedThreadExternalID", .identifier),
                .optional("status", .oneOf(ZedThreadStatus.allCases.map(\.rawValue))),
                .optional("progress", .integer(0...100)),
            ]
        ),
        CommandShape(
            "stop_zed_instance",
            StopZedInstance.self,
            SpecTaskCommand.stopZedInstance,
            [.optional("reason", .text)]
        ),
        CommandShape(
            "approve_implementation",
            ApproveImplementation.self,
            SpecTaskCommand.approveImplementation,
            [.required("approver", .name), .optional("comments", .text)]
        ),
        CommandShape(
            "request_implementation_changes",
            RequestImplementationChanges.self,
            SpecTaskCommand.requestImplementationChanges,
            [
                .optional("reviewer", .name),
                .required("comments", .text),
                .required("implementationTaskIndexes", .array(of: taskIndex, maxCount: 10_000)),
            ]
        ),
        CommandShape("cancel", CancelSpecTask.self, SpecTaskCommand.cancel, [.optional("reason", .text)]),
        CommandShape("archive", ArchiveSpecTask.self, SpecTaskCommand.archive, [.required("archived", .boolean)]),
        CommandShape(
            "set_shared_context",
            SetSharedContext.self,
            SpecTaskCommand.setSharedContext,
            [.required("key", .name), .optional("value", .text)]
        ),
        CommandShape(
            "retry_work_session",
            RetryWorkSession.self,
            SpecTaskCommand.retryWorkSession,
            [.required("workSessionID", .identifier), .optional("newWorkSessionID", .identifier)]
        ),
        CommandShape(
            "set_concurrency_limit",
            SetConcurrencyLimit.self,
            SpecTaskCommand.setConcurrencyLimit,
            [.optional("maxConcurrentSessions", sessionLimit)]
        ),
        CommandShape(
            "set_budget",
            SetBudget.self,
            SpecTaskCommand.setBudget,
            [.optional("maxTokens", PayloadField.count), .optional("maxCostMicros", PayloadField.count)]
        ),
    ]
}

extension PayloadField {
    /// Token counts, costs in micro-dollars, lines and files: non-negative, and far from overflowing a sum.
    public static let count = Kind.integer(0...1_000_000_000_000)
    static let percent = Kind.integer(0...100)
}

extension ZedEvent {
    /// The event struct, as the CloudEvent `data`.
    var payload: any Encodable & Sendable {
        switch self {
        case .instanceReady(let payload): payload
        case .instanceStopped(let payload): payload
        case .instanceDisconnected(let payload): payload
        case .instanceError(let payload): payload
        case .heartbeat(let payload): payload
        case .threadCreated(let payload): payload
        case .threadStatusChanged(let payload): payload
        case .threadActivity(let payload): payload
        case .threadCompleted(let payload): payload
        case .threadFailed(let payload): payload
        case .spawnRequested(let payload): payload
        case .coordinationMessage(let payload): payload
        case .specsSubmitted(let payload): payload
        case .planningFailed(let payload): payload
        case .pathsClaimed(let payload): payload
        case .pathsReleased(let payload): payload
        }
    }

    /// Every Zed event name, in the order of the cases.
    public static let names: [String] = shapes.map(\.name)

    private static let instance = PayloadField.required("instanceID", .identifier)
    private static let session = PayloadField.required("workSessionID", .identifier)
    private static let threadStatus = PayloadField.Kind.oneOf(ZedThreadStatus.allCases.map(\.rawValue))

    static let shapes: [CommandShape] = instanceShapes + pathClaimShapes

    private static let instanceShapes: [CommandShape] = [
        .zedEvent("instance_ready", ZedInstanceReady.self, ZedEvent.instanceReady, [instance]),
        .zedEvent(
            "instance_stopped",
            ZedInstanceStopped.self,
            ZedEvent.instanceStopped,
            [instance, .optional("reason", .text)]
        ),
        .zedEvent(
            "instance_disconnected",
            ZedInstanceDisconnected.self,
            ZedEvent.instanceDisconnected,
            [instance, .optional("reason", .text)]
        ),
        .zedEvent(
            "instance_error",
            ZedInstanceError.self,
            ZedEvent.instanceError,
            [instance, .required("error", .text)]
        ),
        .zedEvent(
            "heartbeat",
            ZedHeartbeat.self,
            ZedEvent.heartbeat,
            [
                instance,
                .optional("cpuPercent", .integer(0...100_000)),
                .optional("memoryMB", .integer(0...100_000_000)),
                .optional("uptimeSeconds", PayloadField.count),
                .optional(
                    "threads",
                    .objects(
                        [session, .required("status", threadStatus), .optional("progress", PayloadField.percent)],
                        maxCount: 1000
                    )
                ),
            ]
        ),
        .zedEvent(
            "thread_created",
            ZedThreadCreated.self,
            ZedEvent.threadCreated,
            [instance, session, .required("zedThreadExternalID", .identifier)]
        ),
        .zedEvent(
            "thread_status_changed",
            ZedThreadStatusChanged.self,
            ZedEvent.threadStatusChanged,
            [instance, session, .required("status", threadStatus), .optional("reason", .text)]
        ),
        .zedEvent(
            "thread_activity",
            ZedThreadActivity.self,
            ZedEvent.threadActivity,
            [
                instance,
                session,
                .required("kind", .oneOf(ZedThreadActivity.Kind.allCases.map(\.rawValue))),
                .optional("summary", .text),
                .optional("filesChanged", PayloadField.count),
                .optional("linesAdded", PayloadField.count),
                .optional("linesRemoved", PayloadField.count),
                .optional("testsRun", PayloadField.count),
                .optional("testsPassed", PayloadField.count),
                .optional("progress", PayloadField.percent),
                .optional("tokensIn", PayloadField.count),
                .optional("tokensOut", PayloadField.count),
                .optional("costMicros", PayloadField.count),
            ]
        ),
        .zedEvent(
            "thread_completed",
            ZedThreadCompleted.self,
            ZedEvent.threadCompleted,
            [instance, session, .optional("summary", .text)]
        ),
        .zedEvent(
            "thread_failed",
            ZedThreadFailed.self,
            ZedEvent.threadFailed,
            [instance, session, .required("reason", .text)]
        ),
        .zedEvent(
            "spawn_requested",
            ZedSpawnRequested.self,
            ZedEvent.spawnRequested,
            [
                instance,
                session,
                .required("name", .name),
                .optional("description", .text),
                .optional("implementationTaskIndex", .integer(1...10_000)),
                .optional("initialPrompt", .text),
                .optional("newWorkSessionID", .identifier),
            ]
        ),
        .zedEvent(
            "coordination_message",
            ZedCoordinationMessage.self,
            ZedEvent.coordinationMessage,
            [
                instance,
                .required("fromWorkSessionID", .identifier),
                .optional("toWorkSessionID", .identifier),
                .required("kind", .oneOf(CoordinationKind.allCases.map(\.rawValue))),
                .required("message", .text),
                .optional("replyTo", .identifier),
            ]
        ),
        .zedEvent(
            "specs_submitted",
            ZedSpecsSubmitted.self,
            ZedEvent.specsSubmitted,
            [
                instance,
                session,
                .required("requirements", .text),
                .required("design", .text),
                .required("implementationPlan", .text),
            ]
        ),
        .zedEvent(
            "planning_failed",
            ZedPlanningFailed.self,
            ZedEvent.planningFailed,
            [instance, session, .required("reason", .text)]
        ),
    ]
}
