#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything one spec task owns: what the decision function reads and returns.
///
/// The worker loads it under the task's row lock, hands it to `SpecTaskManager.decide` with one command,
/// and stores what comes back; so every rule of the system can be tested on values alone.
public struct SpecTaskState: Sendable, Hashable, Codable {
    public var task: SpecTask
    /// Ordered by `index` (1...n).
    public var implementationTasks: [ImplementationTask]
    /// Ordered by creation.
    public var workSessions: [WorkSession]
    /// Exactly one per work session.
    public var zedThreads: [ZedThread]
    /// One per spec task once implementation started.
    public var zedInstance: ZedInstance?
    public var sharedContext: [SharedContextEntry]
    /// The latest progress (0...100) each thread reported, by thread id.
    public var threadProgress: [String: Int]
    /// The paths the task's threads hold or wait for in the shared workspace, in the order they were claimed.
    public var pathClaims: [PathClaim]

    public init(
        task: SpecTask,
        implementationTasks: [ImplementationTask] = [],
        workSessions: [WorkSession] = [],
        zedThreads: [ZedThread] = [],
        zedInstance: ZedInstance? = nil,
        sharedContext: [SharedContextEntry] = [],
        threadProgress: [String: Int] = [:],
        pathClaims: [PathClaim] = []
    ) {
        self.task = task
        self.implementationTasks = implementationTasks
        self.workSessions = workSessions
        self.zedThreads = zedThreads
        self.zedInstance = zedInstance
        self.sharedContext = sharedContext
        self.threadProgress = threadProgress
        self.pathClaims = pathClaims
    }
}
