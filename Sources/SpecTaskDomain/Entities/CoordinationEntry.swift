#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A message from one work session to another (or to all), kept in the spec task's coordination log.
public struct CoordinationEntry: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var specTaskID: String
    public var fromWorkSessionID: String
    /// The recipient; `nil` means every session of the spec task.
    public var toWorkSessionID: String?
    public var kind: CoordinationKind
    public var message: String
    /// The coordination message this one answers.
    public var replyTo: String?
    public var createdAt: Date

    /// Whether the message goes to every session rather than one.
    public var isBroadcast: Bool { toWorkSessionID == nil }

    /// Creates a coordination entry.
    public init(
        id: String,
        specTaskID: String,
        fromWorkSessionID: String,
        toWorkSessionID: String?,
        kind: CoordinationKind,
        message: String,
        replyTo: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.specTaskID = specTaskID
        self.fromWorkSessionID = fromWorkSessionID
        self.toWorkSessionID = toWorkSessionID
        self.kind = kind
        self.message = message
        self.replyTo = replyTo
        self.createdAt = createdAt
    }
}
