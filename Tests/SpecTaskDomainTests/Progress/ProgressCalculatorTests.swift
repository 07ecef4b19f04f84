import Foundation
import SpecTaskDomain
import Testing

@Suite("ProgressCalculator")
struct ProgressCalculatorTests {
    private static let start = Date(timeIntervalSince1970: 1_700_000_000)

    private static func items(done: Int, of total: Int) -> [ChecklistItem] {
        (1...max(total, 1)).prefix(total).map {
            ChecklistItem(number: "1.\($0)", title: "item \($0)", state: $0 <= done ? .done : .inProgress)
        }
    }

    private static func session(
        _ id: String,
        _ status: WorkSessionStatus,
        _ phase: WorkSessionPhase,
        task: Int? = nil,
        updated: TimeInterval = 0
    ) -> WorkSession {
        WorkSession(
            id: id,
            specTaskID: "st-1",
            name: id,
            status: status,
            phase: phase,
            implementationTaskIndex: task,
            createdAt: start,
            updatedAt: start.addingTimeInterval(updated)
        )
    }

    private static func thread(
        _ id: String,
        session: String,
        _ status: ZedThreadStatus,
        active: TimeInterval? = nil
    )
        -> ZedThread
    {
        ZedThread(
            id: id,
            workSessionID: session,
            specTaskID: "st-1",
            status: status,
            lastActivityAt: active.map { start.addingTimeInterval($0) }
        )
    }

    /// Five implementation tasks in every status, sessions in all three phases.
    private static let tasks = [
        ImplementationTask(
            specTaskID: "st-1",
            index: 1,
            title: "Schema",
            status: .completed,
            assignedWorkSessionID: "ws-1"
        ),
        ImplementationTask(
            specTaskID: "st-1",
            index: 2,
            title: "API",
            checklist: items(done: 1, of: 4),
            status: .inProgress,
            assignedWorkSessionID: "ws-2"
        ),
        ImplementationTask(
            specTaskID: "st-1",
            index: 3,
            title: "UI",
            checklist: items(done: 2, of: 3),
            status: .assigned,
            assignedWorkSessionID: "ws-3"
        ),
        ImplementationTask(specTaskID: "st-1", index: 4, title: "Security", checklist: items(done: 2, of: 2)),
        ImplementationTask(specTaskID: "st-1", index: 5, title: "E2E", status: .blocked, assignedWorkSessionID: "ws-5"),
    ]
    private static let sessions = [
        session("ws-1", .completed, .implementation, task: 1, updated: 100),
        session("ws-2", .active, .implementation, task: 2, updated: 200),
        session("ws-3", .active, .implementation, task: 3, updated: 300),
        session("ws-5", .blocked, .implementation, task: 5, updated: 400),
        session("ws-p", .completed, .planning, updated: 50),
        session("ws-v", .pending, .validation, updated: 10),
        session("ws-v2", .active, .validation, updated: 20),
    ]
    private static let threads = [
        thread("th-1", session: "ws-1", .completed, active: 90),
        thread("th-2", session: "ws-2", .active, active: 500),
        thread("th-3", session: "ws-3", .active, active: 350),
        thread("th-5", session: "ws-5", .disconnected),
        thread("th-p", session: "ws-p", .completed, active: 40),
        thread("th-v2", session: "ws-v2", .active, active: 25),
    ]
    private static let reports = ["th-2": 60, "th-3": 10, "th-5": 45, "th-v2": 33, "th-unknown": 99]

    private func snapshot(status: SpecTaskStatus = .implementation) -> ProgressSnapshot {
        ProgressCalculator.snapshot(
            specTaskID: "st-1",
            specTaskStatus: status,
            implementationTasks: Self.tasks,
            workSessions: Self.sessions,
            zedThreads: Self.threads,
            threadProgress: Self.reports
        )
    }

    @Test("per-task percents: completed 100, pending 0, otherwise max of report and checklist")
    func taskPercents() {
        let progress = snapshot().implementationTasks
        #expect(progress.map(\.index) == [1, 2, 3, 4, 5])
        // 1 completed; 2 report 60 beats checklist 25; 3 checklist 66 beats report 10;
        // 4 pending despite a done checklist; 5 blocked with report 45.
        #expect(progress.map(\.percent) == [100, 60, 66, 0, 45])
        #expect(progress.map(\.checklistDone) == [0, 1, 2, 2, 0])
        #expect(progress.map(\.checklistTotal) == [0, 4, 3, 2, 0])
        #expect(progress.map(\.workSessionID) == ["ws-1", "ws-2", "ws-3", nil, "ws-5"])
    }

    @Test("overall percent is the average of the tasks, rounded down")
    func overall() {
        #expect(snapshot().overallPercent == 54)  // (100 + 60 + 66 + 0 + 45) / 5 = 54.2
        #expect(snapshot(status: .done).overallPercent == 100)
    }

    @Test("per-session and per-phase percents")
    func phases() {
        let progress = snapshot()
        #expect(progress.workSessions.map(\.workSessionID) == Self.sessions.map(\.id))
        #expect(progress.workSessions.map(\.percent) == [100, 60, 66, 45, 100, 0, 33])
        #expect(progress.phases[.planning] == PhaseProgress(sessionCount: 1, percent: 100))
        #expect(progress.phases[.implementation] == PhaseProgress(sessionCount: 4, percent: 67))  // 271 / 4
        #expect(progress.phases[.validation] == PhaseProgress(sessionCount: 2, percent: 16))  // 33 / 2
    }

    @Test("counts by status include every status")
    func counts() {
        let progress = snapshot()
        #expect(
            progress.workSessionsByStatus == [
                .pending: 1, .active: 3, .completed: 2, .failed: 0, .cancelled: 0, .blocked: 1,
            ]
        )
        #expect(progress.zedThreadsByStatus == [.pending: 0, .active: 3, .disconnected: 1, .completed: 2, .failed: 0])
        #expect(
            progress.implementationTasksByStatus == [
                .pending: 1, .assigned: 1, .inProgress: 1, .completed: 1, .blocked: 1,
            ]
        )
    }

    @Test("last activity is the latest thread activity or session update")
    func lastActivity() {
        #expect(snapshot().lastActivityAt == Self.start.addingTimeInterval(500))
        let quiet = ProgressCalculator.snapshot(
            specTaskID: "st-1",
            specTaskStatus: .implementation,
            implementationTasks: [],
            workSessions: [Self.session("ws-1", .active, .implementation, updated: 70)],
            zedThreads: [Self.thread("th-1", session: "ws-1", .active)]
        )
        #expect(quiet.lastActivityAt == Self.start.addingTimeInterval(70))
    }

    @Test("an empty spec task is at 0, or 100 once done, with every phase and status present")
    func empty() {
        let empty = ProgressCalculator.snapshot(
            specTaskID: "st-2",
            specTaskStatus: .specReview,
            implementationTasks: [],
            workSessions: [],
            zedThreads: []
        )
        #expect(empty.overallPercent == 0)
        #expect(empty.lastActivityAt == nil)
        #expect(empty.phases.count == 3)
        #expect(empty.phases.values.allSatisfy { $0 == PhaseProgress(sessionCount: 0, percent: 0) })
        #expect(empty.workSessionsByStatus.count == WorkSessionStatus.allCases.count)
        #expect(empty.workSessionsByStatus.values.allSatisfy { $0 == 0 })
        #expect(empty.zedThreadsByStatus.count == ZedThreadStatus.allCases.count)

        let task = SpecTask(
            id: "st-2",
            name: "Footer link",
            status: .done,
            createdAt: Self.start,
            updatedAt: Self.start
        )
        let done = ProgressCalculator.snapshot(for: task, implementationTasks: [], workSessions: [], zedThreads: [])
        #expect(done.overallPercent == 100)
        #expect(done.specTaskID == "st-2")
        #expect(done.specTaskStatus == .done)
    }

    @Test("without an assigned session, the best report of any session on the task counts")
    func unassignedTask() {
        let task = ImplementationTask(specTaskID: "st-1", index: 1, title: "API", status: .blocked)
        let progress = ProgressCalculator.snapshot(
            specTaskID: "st-1",
            specTaskStatus: .implementation,
            implementationTasks: [task],
            workSessions: [
                Self.session("ws-a", .failed, .implementation, task: 1),
                Self.session("ws-b", .active, .implementation, task: 1),
                Self.session("ws-c", .active, .implementation, task: 2),
            ],
            zedThreads: [
                Self.thread("th-a", session: "ws-a", .failed),
                Self.thread("th-b", session: "ws-b", .active),
                Self.thread("th-c", session: "ws-c", .active),
            ],
            threadProgress: ["th-a": 30, "th-b": 20, "th-c": 90]
        )
        #expect(progress.implementationTasks.map(\.percent) == [30])
        #expect(progress.overallPercent == 30)
    }

    @Test("reported percents are clamped to 0...100")
    func clamping() {
        let task = ImplementationTask(
            specTaskID: "st-1",
            index: 1,
            title: "a",
            status: .inProgress,
            assignedWorkSessionID: "ws-1"
        )
        let progress = ProgressCalculator.snapshot(
            specTaskID: "st-1",
            specTaskStatus: .implementation,
            implementationTasks: [task],
            workSessions: [Self.session("ws-1", .active, .implementation, task: 1)],
            zedThreads: [Self.thread("th-1", session: "ws-1", .active)],
            threadProgress: ["th-1": 250]
        )
        #expect(progress.implementationTasks[0].percent == 100)
        #expect(ProgressCalculator.implementationTaskPercent(task, reportedPercent: -20) == 0)
    }

    @Test(
        "checklist percent rounds down",
        arguments: [(0, 0, 0), (0, 3, 0), (1, 3, 33), (2, 3, 66), (3, 3, 100), (1, 8, 12)]
    )
    func checklistPercent(done: Int, total: Int, expected: Int) {
        #expect(ProgressCalculator.checklistPercent(Self.items(done: done, of: total)) == expected)
    }

    @Test("the snapshot round-trips through JSON with statuses as object keys")
    func codable() throws {
        let progress = snapshot()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(progress)
        #expect(try JSONDecoder().decode(ProgressSnapshot.self, from: data) == progress)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""workSessionsByStatus":{"active":3,"blocked":1,"cancelled":0"#))
        #expect(json.contains(#""implementation":{"percent":67,"sessionCount":4}"#))
    }
}
