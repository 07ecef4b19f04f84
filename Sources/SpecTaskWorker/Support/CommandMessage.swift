import Foundation
import SpecTaskContract
import SpecTaskDomain

/// A command for `spectask.commands` built from its name and its data as JSON: what `spectask send` and the
/// dashboard's human gate publish, validated exactly as the worker will validate it.
public enum CommandMessage {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The command's short name (`approve_specs`) from a short name or a full type (`spectask.command.approve_specs`);
    /// throws when no command has that name.
    public static func name(_ command: String) throws(Problem) -> String {
        let name =
            command.hasPrefix(SpecTaskCommand.typePrefix)
            ? String(command.dropFirst(SpecTaskCommand.typePrefix.count)) : command
        guard SpecTaskCommand.names.contains(name) else {
            throw Problem(
                description:
                    "unknown command '\(command.prefix(100))'; known: \(SpecTaskCommand.names.joined(separator: ", "))"
            )
        }
        return name
    }

    /// The CloudEvent of a command, as bytes.
    ///
    /// - Parameters:
    ///   - command: The short name or the full type.
    ///   - task: The spec task (the subject).
    ///   - data: The command's data members.
    ///   - id: The command id (idempotency key); a new UUID when `nil`.
    ///   - actor: Who sends it.
    ///   - source: The sending program, e.g. `spectask-cli`.
    public static func build(
        command: String,
        task: String,
        data: [String: JSONValue],
        id: String? = nil,
        actor: String,
        source: String,
        time: Date = Date()
    ) throws(Problem) -> [UInt8] {
        let name = try name(command)
        return CloudEvent(
            id: id ?? UUID().uuidString.lowercased(),
            source: source,
            type: SpecTaskCommand.typePrefix + name,
            subject: task,
            time: RFC3339.string(from: time),
            datacontenttype: "application/json",
            data: .object(data),
            actor: actor
        ).jsonBytes()
    }

    /// Builds and validates a command as the worker will (`CommandDecoder`): nothing invalid is published.
    public static func validated(
        command: String,
        task: String,
        data: [String: JSONValue],
        id: String? = nil,
        actor: String,
        source: String
    ) throws -> (bytes: [UInt8], command: IncomingCommand) {
        let bytes = try build(command: command, task: task, data: data, id: id, actor: actor, source: source)
        return (bytes, try CommandDecoder.decode(bytes, appliedAt: Date()).get())
    }
}
