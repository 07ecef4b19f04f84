import SpecTaskDomain

extension StatusEvent {
    /// Every status event name, in the order of the cases.
    public static let names = [
        "command_applied", "command_rejected", "spec_task_changed", "work_session_changed", "zed_thread_changed",
        "implementation_task_changed", "zed_instance_changed", "shared_context_changed", "path_claim_changed",
    ]

    /// The CloudEvent types of a command's outcome: `command_applied`, `command_rejected`.
    public static let outcomeTypes: Set<String> = [typePrefix + "command_applied", typePrefix + "command_rejected"]

    /// Whether a record whose `ce_type` header (``KafkaBinding/typeHeader``) is `typeHeader` may be a command's
    /// outcome, read without parsing the record: true for an outcome's type, and when there is no such header.
    public static func mayBeOutcome(typeHeader: [UInt8]?) -> Bool {
        guard let typeHeader else { return true }
        return outcomeTypeHeaders.contains(typeHeader)
    }

    private static let outcomeTypeHeaders = Set(outcomeTypes.map { Array($0.utf8) })

    /// The change struct, as the CloudEvent `data`.
    var payload: any Encodable & Sendable {
        switch self {
        case .commandApplied(let payload): payload
        case .commandRejected(let payload): payload
        case .specTaskChanged(let payload): payload
        case .workSessionChanged(let payload): payload
        case .zedThreadChanged(let payload): payload
        case .implementationTaskChanged(let payload): payload
        case .zedInstanceChanged(let payload): payload
        case .sharedContextChanged(let payload): payload
        case .pathClaimChanged(let payload): payload
        }
    }

    /// Reads the event of the named kind from the `data` of a whole message.
    ///
    /// - Returns: The event, or `nil` for a name that is not a status event.
    /// - Throws: `DecodingError` when `data` does not fit the kind.
    static func decode(name: String, message bytes: [UInt8]) throws -> StatusEvent? {
        switch name {
        case "command_applied": .commandApplied(try MessageData.decode(from: bytes))
        case "command_rejected": .commandRejected(try MessageData.decode(from: bytes))
        case "spec_task_changed": .specTaskChanged(try MessageData.decode(from: bytes))
        case "work_session_changed": .workSessionChanged(try MessageData.decode(from: bytes))
        case "zed_thread_changed": .zedThreadChanged(try MessageData.decode(from: bytes))
        case "implementation_task_changed": .implementationTaskChanged(try MessageData.decode(from: bytes))
        case "zed_instance_changed": .zedInstanceChanged(try MessageData.decode(from: bytes))
        case "shared_context_changed": .sharedContextChanged(try MessageData.decode(from: bytes))
        case "path_claim_changed": .pathClaimChanged(try MessageData.decode(from: bytes))
        default: nil
        }
    }
}
