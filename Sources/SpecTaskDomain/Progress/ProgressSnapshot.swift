#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Progress of one spec task across all its work streams, as published on `spectask.progress`.
///
/// Percents are whole numbers 0...100, rounded down, so 100 means really finished.
public struct ProgressSnapshot: Sendable, Hashable, Codable {
    public var specTaskID: String
    public var specTaskStatus: SpecTaskStatus?
    /// The average of the implementation tasks' percents; 100 once the spec task is done.
    public var overallPercent: Int
    /// One entry per implementation task, in plan order.
    public var implementationTasks: [ImplementationTaskProgress]
    /// One entry per work session, in the order given.
    public var workSessions: [WorkSessionProgress]
    /// Every phase, including those without sessions.
    public var phases: [WorkSessionPhase: PhaseProgress]
    /// Every work session status, with zero for those no session has.
    public var workSessionsByStatus: [WorkSessionStatus: Int]
    /// Every Zed thread status, with zero for those no thread has.
    public var zedThreadsByStatus: [ZedThreadStatus: Int]
    /// Every implementation task status, with zero for those no task has.
    public var implementationTasksByStatus: [ImplementationTaskStatus: Int]
    /// The latest thread activity or session update; `nil` when nothing has happened yet.
    public var lastActivityAt: Date?
    /// The sums of the activity of every thread of the task.
    public var usage: Usage
    /// The task's budget, if it has one.
    public var budget: Budget?

    /// Creates a snapshot.
    public init(
        specTaskID: String,
        specTaskStatus: SpecTaskStatus?,
        overallPercent: Int,
        implementationTasks: [ImplementationTaskProgress],
        workSessions: [WorkSessionProgress],
        phases: [WorkSessionPhase: PhaseProgress],
        workSessionsByStatus: [WorkSessionStatus: Int],
        zedThreadsByStatus: [ZedThreadStatus: Int],
        implementationTasksByStatus: [ImplementationTaskStatus: Int],
        lastActivityAt: Date?,
        usage: Usage = .zero,
        budget: Budget? = nil
    ) {
        self.specTaskID = specTaskID
        self.specTaskStatus = specTaskStatus
        self.overallPercent = overallPercent
        self.implementationTasks = implementationTasks
        self.workSessions = workSessions
        self.phases = phases
        self.workSessionsByStatus = workSessionsByStatus
        self.zedThreadsByStatus = zedThreadsByStatus
        self.implementationTasksByStatus = implementationTasksByStatus
        self.lastActivityAt = lastActivityAt
        self.usage = usage
        self.budget = budget
    }
}
