#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One unit of agent work inside a spec task, mapped 1:1 to a Zed thread.
public struct WorkSession: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var specTaskID: String
    public var name: String
    public var description: String
    public var status: WorkSessionStatus
    public var phase: WorkSessionPhase
    /// The implementation task this session works on, if any.
    public var implementationTaskIndex: Int?
    /// The session this one belongs under in the session tree.
    public var parentWorkSessionID: String?
    /// The running session that asked for this one to be spawned.
    public var spawnedByWorkSessionID: String?
    /// 1 for the first try of an implementation task, 2 for its first retry, and so on.
    public var attempt: Int
    /// The prompt a spawning session asked for; `nil` means one is built from the implementation task.
    /// Kept because the session's thread may be created commands later, when a slot frees up.
    public var initialPrompt: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var completedAt: Date?

    /// Creates a work session.
    public init(
        id: String,
        specTaskID: String,
        name: String,
        description: String = "",
        status: WorkSessionStatus = .pending,
        phase: WorkSessionPhase = .implementation,
        implementationTaskIndex: Int? = nil,
        parentWorkSessionID: String? = nil,
        spawnedByWorkSessionID: String? = nil,
        attempt: Int = 1,
        initialPrompt: String? = nil,
        createdAt: Date,
        updatedAt: Date,
        startedAt: Date? = nil,
        completedAt: Date? = nil
    ) {
        self.id = id
        self.specTaskID = specTaskID
        self.name = name
        self.description = description
        self.status = status
        self.phase = phase
        self.implementationTaskIndex = implementationTaskIndex
        self.parentWorkSessionID = parentWorkSessionID
        self.spawnedByWorkSessionID = spawnedByWorkSessionID
        self.attempt = attempt
        self.initialPrompt = initialPrompt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.completedAt = completedAt
    }
}
