#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One key/value pair of context shared by all work sessions of a spec task.
public struct SharedContextEntry: Sendable, Hashable, Codable {
    public var specTaskID: String
    public var key: String
    public var value: String
    public var updatedAt: Date

    /// Creates a shared context entry.
    public init(specTaskID: String, key: String, value: String, updatedAt: Date) {
        self.specTaskID = specTaskID
        self.key = key
        self.value = value
        self.updatedAt = updatedAt
    }
}
