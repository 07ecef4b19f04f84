#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A piece of work planned by a planning agent, approved by a human and implemented by work sessions.
public struct SpecTask: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var name: String
    public var description: String
    public var status: SpecTaskStatus
    /// Hidden from active lists; independent of status.
    public var archived: Bool
    /// The requirements document written by the planning agent.
    public var requirements: String?
    /// The technical design written by the planning agent.
    public var design: String?
    /// The implementation plan (markdown), parsed into implementation tasks when implementation starts.
    public var implementationPlan: String?
    /// Who approved the specs.
    public var approvedBy: String?
    public var approvedAt: Date?
    /// Comments given with the approval or with a request for changes.
    public var approvalComments: String?
    /// How many times changes to the specs were requested.
    public var revisionCount: Int
    /// The project the Zed instance opens.
    public var projectPath: String?
    /// The most work sessions that may be active at once; `nil` means no limit.
    public var maxConcurrentSessions: Int?
    /// The agent configuration given when implementation started, passed to every Zed thread of the task
    /// (including threads of sessions started or spawned later).
    public var agentConfig: JSONValue?
    /// The planning agent's configuration, for the planning session's thread (`start_planning` in Zed);
    /// `nil` gives that thread `agentConfig`.
    public var planningAgentConfig: JSONValue? = nil
    /// The planning session writing (or that wrote) the specs, while planning runs in Zed; `nil` when the
    /// planner is outside spectask. Its end before the specs are approved fails the planning (spec_failed).
    public var planningSessionID: String? = nil
    /// How much the task's threads may spend; `nil` is no limit.
    public var budget: Budget?
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates a spec task; optional fields default to empty.
    public init(
        id: String,
        name: String,
        description: String = "",
        status: SpecTaskStatus = .backlog,
        archived: Bool = false,
        requirements: String? = nil,
        design: String? = nil,
        implementationPlan: String? = nil,
        approvedBy: String? = nil,
        approvedAt: Date? = nil,
        approvalComments: String? = nil,
        revisionCount: Int = 0,
        projectPath: String? = nil,
        maxConcurrentSessions: Int? = nil,
        agentConfig: JSONValue? = nil,
        budget: Budget? = nil,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.status = status
        self.archived = archived
        self.requirements = requirements
        self.design = design
        self.implementationPlan = implementationPlan
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
        self.approvalComments = approvalComments
        self.revisionCount = revisionCount
        self.projectPath = projectPath
        self.maxConcurrentSessions = maxConcurrentSessions
        self.agentConfig = agentConfig
        self.budget = budget
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
