/// The wire contract of each command: its name, the members of its `data`, and how `data` becomes the payload.
struct CommandShape: Sendable {
    /// The `<name>` of `spectask.command.<name>`.
    let name: String
    /// Every member `data` may have.
    let fields: [PayloadField]
    /// Builds the command from `data` that already passed ``fields``.
    let decode: @Sendable (_ data: [UInt8]) throws -> SpecTaskCommand

    init<Payload: Decodable & Sendable>(
        _ name: String,
        _ payload: Payload.Type,
        _ wrap: @escaping @Sendable (Payload) -> SpecTaskCommand,
        _ fields: [PayloadField]
    ) {
        self.name = name
        self.fields = fields
        self.decode = { data in wrap(try MessageJSON.decode(Payload.self, from: data)) }
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
        case .cancel(let payload): payload
        case .archive(let payload): payload
        case .setSharedContext(let payload): payload
        case .retryWorkSession(let payload): payload
        case .setConcurrencyLimit(let payload): payload
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

    static let shapesByName: [String: CommandShape] = Dictionary(uniqueKeysWithValues: shapes.map { ($0.name, $0) })

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
        CommandShape("start_planning", StartPlanning.self, SpecTaskCommand.startPlanning, []),
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
                .optional("workSessionIDs", .stringArray(itemLength: 1...128, maxCount: 1000)),
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
    ]
}
