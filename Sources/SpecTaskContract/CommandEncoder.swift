import SpecTaskDomain

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes a command as the CloudEvent a client puts on `spectask.commands` (`spectask send`, tests).
///
/// What it writes is what ``CommandDecoder`` reads: `type` `spectask.command.<name>`, `subject` the spec
/// task id, `data` the payload struct.
public enum CommandEncoder {
    /// Encodes one command.
    ///
    /// - Parameters:
    ///   - id: The event id, the command's idempotency key: resending with the same id applies it once.
    ///   - specTaskID: The spec task the command is for (the subject and the Kafka key).
    ///   - actor: Who sends it, for the record.
    ///   - source: The sending service, e.g. "spectask-cli".
    ///   - command: The command.
    ///   - time: When it was issued; left out when `nil`.
    /// - Returns: The message value.
    public static func encode(
        id: String,
        specTaskID: String,
        actor: String? = nil,
        source: String,
        command: SpecTaskCommand,
        time: Date? = nil,
        runnerToken: String? = nil
    ) -> [UInt8] {
        EventEncoder.encode(
            CloudEvent(
                id: id,
                source: source,
                type: command.type,
                subject: specTaskID,
                time: time.map(RFC3339.string(from:)),
                datacontenttype: EventEncoder.dataContentType,
                actor: actor,
                runnertoken: runnerToken
            ),
            payload: command.payload
        )
    }
}

extension CommandEncoder {
    /// Encodes one Zed event as a runner puts it on `zed.events`.
    ///
    /// - Parameter runnerToken: The token issued for `event.instanceID` with its `create_instance` command.
    public static func encode(
        id: String,
        specTaskID: String,
        source: String,
        event: ZedEvent,
        runnerToken: String?,
        time: Date? = nil
    ) -> [UInt8] {
        encode(
            id: id,
            specTaskID: specTaskID,
            source: source,
            command: .zedEvent(event),
            time: time,
            runnerToken: runnerToken
        )
    }
}
