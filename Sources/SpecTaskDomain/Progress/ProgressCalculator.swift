#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Computes a spec task's progress from its implementation tasks, work sessions and Zed threads.
///
/// Rules, all percents whole numbers 0...100 rounded down:
/// - An implementation task or work session that is completed is at 100 and one that is pending
///   at 0. Otherwise it is at the larger of what its Zed thread reported and the done fraction of
///   the task's checklist, so a thread that reports nothing still shows checklist progress.
/// - A task's thread is the thread of its assigned work session, or, when none is assigned, of
///   any session working on the task (the highest report counts).
/// - A phase is at the average of its sessions; the spec task at the average of its implementation
///   tasks (0 without tasks), or 100 once it is done.
public enum ProgressCalculator {
    /// Computes the progress snapshot of one spec task.
    ///
    /// - Parameters:
    ///   - specTaskID: The spec task the snapshot is for.
    ///   - specTaskStatus: Its status; `.done` makes the overall percent 100.
    ///   - implementationTasks: Its implementation tasks.
    ///   - workSessions: Its work sessions.
    ///   - zedThreads: Its Zed threads.
    ///   - threadProgress: The last percent each thread reported, by thread id; values outside
    ///     0...100 are clamped.
    /// - Returns: The snapshot, with a count for every status and an entry for every phase.
    public static func snapshot(
        specTaskID: String,
        specTaskStatus: SpecTaskStatus?,
        implementationTasks: [ImplementationTask],
        workSessions: [WorkSession],
        zedThreads: [ZedThread],
        threadProgress: [String: Int] = [:],
        budget: Budget? = nil
    ) -> ProgressSnapshot {
        let usageBySession = Dictionary(
            zedThreads.map { ($0.workSessionID, $0.usage ?? .zero) },
            uniquingKeysWith: +
        )
        let reported = reportedPercentBySession(threads: zedThreads, threadProgress: threadProgress)
        let tasksByIndex = Dictionary(
            implementationTasks.map { ($0.index, $0) },
            uniquingKeysWith: { first, _ in first }
        )

        let taskProgress = implementationTasks.sorted { $0.index < $1.index }.map { task in
            let sessionIDs =
                task.assignedWorkSessionID.map { [$0] }
                ?? workSessions.filter { $0.implementationTaskIndex == task.index }.map(\.id)
            let reportedPercent = sessionIDs.compactMap { reported[$0] }.max()
            return ImplementationTaskProgress(
                index: task.index,
                title: task.title,
                status: task.status,
                percent: implementationTaskPercent(task, reportedPercent: reportedPercent),
                checklistDone: task.checklist.count { $0.state == .done },
                checklistTotal: task.checklist.count,
                workSessionID: task.assignedWorkSessionID
            )
        }

        let sessionProgress = workSessions.map { session in
            WorkSessionProgress(
                workSessionID: session.id,
                status: session.status,
                phase: session.phase,
                implementationTaskIndex: session.implementationTaskIndex,
                percent: workSessionPercent(
                    session,
                    reportedPercent: reported[session.id],
                    checklist: session.implementationTaskIndex.flatMap { tasksByIndex[$0]?.checklist } ?? []
                ),
                usage: usageBySession[session.id] ?? .zero
            )
        }

        var phases: [WorkSessionPhase: PhaseProgress] = [:]
        for phase in WorkSessionPhase.allCases {
            let percents = sessionProgress.filter { $0.phase == phase }.map(\.percent)
            phases[phase] = PhaseProgress(sessionCount: percents.count, percent: average(percents))
        }

        let overallPercent = specTaskStatus == .done ? 100 : average(taskProgress.map(\.percent))
        let activityDates = zedThreads.compactMap(\.lastActivityAt) + workSessions.map(\.updatedAt)

        return ProgressSnapshot(
            specTaskID: specTaskID,
            specTaskStatus: specTaskStatus,
            overallPercent: overallPercent,
            implementationTasks: taskProgress,
            workSessions: sessionProgress,
            phases: phases,
            workSessionsByStatus: countByStatus(workSessions.map(\.status)),
            zedThreadsByStatus: countByStatus(zedThreads.map(\.status)),
            implementationTasksByStatus: countByStatus(implementationTasks.map(\.status)),
            lastActivityAt: activityDates.max(),
            usage: zedThreads.totalUsage,
            budget: budget
        )
    }

    /// Computes the progress snapshot of a spec task from the entity itself.
    ///
    /// - Parameters:
    ///   - specTask: The spec task.
    ///   - implementationTasks: Its implementation tasks.
    ///   - workSessions: Its work sessions.
    ///   - zedThreads: Its Zed threads.
    ///   - threadProgress: The last percent each thread reported, by thread id.
    /// - Returns: The snapshot.
    public static func snapshot(
        for specTask: SpecTask,
        implementationTasks: [ImplementationTask],
        workSessions: [WorkSession],
        zedThreads: [ZedThread],
        threadProgress: [String: Int] = [:]
    ) -> ProgressSnapshot {
        snapshot(
            specTaskID: specTask.id,
            specTaskStatus: specTask.status,
            implementationTasks: implementationTasks,
            workSessions: workSessions,
            zedThreads: zedThreads,
            threadProgress: threadProgress,
            budget: specTask.budget
        )
    }

    // MARK: - Single values

    /// The percent of one implementation task.
    ///
    /// - Parameters:
    ///   - task: The task, with its status and checklist.
    ///   - reportedPercent: What its Zed thread last reported, if anything.
    /// - Returns: 100 when completed, 0 when pending, otherwise the larger of the report and the checklist.
    public static func implementationTaskPercent(_ task: ImplementationTask, reportedPercent: Int?) -> Int {
        switch task.status {
        case .completed: 100
        case .pending: 0
        case .assigned, .inProgress, .blocked:
            max(clamped(reportedPercent ?? 0), checklistPercent(task.checklist))
        }
    }

    /// The percent of one work session.
    ///
    /// - Parameters:
    ///   - session: The session.
    ///   - reportedPercent: What its Zed thread last reported, if anything.
    ///   - checklist: The checklist of the implementation task it works on, if any.
    /// - Returns: 100 when completed, 0 when pending, otherwise the larger of the report and the checklist.
    public static func workSessionPercent(
        _ session: WorkSession,
        reportedPercent: Int?,
        checklist: [ChecklistItem] = []
    ) -> Int {
        switch session.status {
        case .completed: 100
        case .pending: 0
        case .active, .blocked, .failed, .cancelled:
            max(clamped(reportedPercent ?? 0), checklistPercent(checklist))
        }
    }

    /// The share of checklist items that are done, 0 for an empty checklist.
    ///
    /// - Parameter checklist: The items.
    /// - Returns: A percent 0...100, rounded down.
    public static func checklistPercent(_ checklist: [ChecklistItem]) -> Int {
        guard !checklist.isEmpty else { return 0 }
        return checklist.count { $0.state == .done } * 100 / checklist.count
    }

    // MARK: - Helpers

    /// The highest percent reported by any thread of each work session.
    private static func reportedPercentBySession(threads: [ZedThread], threadProgress: [String: Int]) -> [String: Int] {
        var bySession: [String: Int] = [:]
        for thread in threads {
            guard let percent = threadProgress[thread.id] else { continue }
            bySession[thread.workSessionID] = max(bySession[thread.workSessionID] ?? 0, clamped(percent))
        }
        return bySession
    }

    private static func countByStatus<Status: LifecycleStatus>(_ statuses: [Status]) -> [Status: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Status.allCases.map { ($0, 0) })
        for status in statuses { counts[status, default: 0] += 1 }
        return counts
    }

    private static func average(_ percents: [Int]) -> Int {
        percents.isEmpty ? 0 : percents.reduce(0, +) / percents.count
    }

    private static func clamped(_ percent: Int) -> Int {
        min(max(percent, 0), 100)
    }
}
