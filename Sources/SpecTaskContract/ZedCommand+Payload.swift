import SpecTaskDomain

extension ZedCommand {
    /// Every Zed command name, in the order of the cases.
    public static let names = [
        "create_instance", "create_thread", "stop_thread", "stop_instance", "deliver_message", "budget_exceeded",
        "revise_specs",
        "claim_result",
    ]

    /// The command struct, as the CloudEvent `data`.
    var payload: any Encodable & Sendable {
        switch self {
        case .createInstance(let payload): payload
        case .createThread(let payload): payload
        case .stopThread(let payload): payload
        case .stopInstance(let payload): payload
        case .deliverMessage(let payload): payload
        case .budgetExceeded(let payload): payload
        case .reviseSpecs(let payload): payload
        case .claimResult(let payload): payload
        }
    }

    /// Reads the command of the named kind from the `data` of a whole message.
    ///
    /// - Returns: The command, or `nil` for a name that is not a Zed command.
    /// - Throws: `DecodingError` when `data` does not fit the kind.
    static func decode(name: String, message bytes: [UInt8]) throws -> ZedCommand? {
        switch name {
        case "create_instance": .createInstance(try MessageData.decode(from: bytes))
        case "create_thread": .createThread(try MessageData.decode(from: bytes))
        case "stop_thread": .stopThread(try MessageData.decode(from: bytes))
        case "stop_instance": .stopInstance(try MessageData.decode(from: bytes))
        case "deliver_message": .deliverMessage(try MessageData.decode(from: bytes))
        case "budget_exceeded": .budgetExceeded(try MessageData.decode(from: bytes))
        case "revise_specs": .reviseSpecs(try MessageData.decode(from: bytes))
        case "claim_result": .claimResult(try MessageData.decode(from: bytes))
        default: nil
        }
    }
}
