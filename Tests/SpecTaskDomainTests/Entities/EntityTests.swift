import Foundation
import SpecTaskDomain
import Testing

@Suite("Entities")
struct EntityTests {
    private static let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test("a new spec task starts in the backlog, not archived, never revised")
    func specTaskDefaults() {
        let task = SpecTask(id: "st-1", name: "Auth", createdAt: Self.now, updatedAt: Self.now)
        #expect(task.status == .backlog)
        #expect(!task.archived)
        #expect(task.revisionCount == 0)
        #expect(task.maxConcurrentSessions == nil)
        #expect(task.implementationPlan == nil)
    }

    @Test("a new work session is a pending first attempt")
    func workSessionDefaults() {
        let session = WorkSession(id: "ws-1", specTaskID: "st-1", name: "API", createdAt: Self.now, updatedAt: Self.now)
        #expect(session.status == .pending)
        #expect(session.phase == .implementation)
        #expect(session.attempt == 1)
        #expect(session.parentWorkSessionID == nil && session.spawnedByWorkSessionID == nil)
    }

    @Test("a coordination entry without a recipient is a broadcast")
    func broadcast() {
        let entry = CoordinationEntry(
            id: "c-1",
            specTaskID: "st-1",
            fromWorkSessionID: "ws-1",
            toWorkSessionID: nil,
            kind: .broadcast,
            message: "schema is migrated",
            createdAt: Self.now
        )
        #expect(entry.isBroadcast)
        #expect(
            CoordinationKind.allCases.map(\.rawValue) == [
                "handoff", "blocking", "notification", "request", "response", "broadcast",
            ]
        )
    }

    @Test("enums use snake_case raw values")
    func rawValues() {
        #expect(ChecklistItem.State.allCases.map(\.rawValue) == ["pending", "in_progress", "done"])
        #expect(Effort.allCases.map(\.rawValue) == ["small", "medium", "large"])
        #expect(
            EntityKind.allCases.map(\.rawValue) == [
                "spec_task", "work_session", "zed_thread", "implementation_task", "zed_instance",
            ]
        )
    }

    @Test("entities round-trip through JSON")
    func codable() throws {
        try expectRoundTrip(
            SpecTask(
                id: "st-1",
                name: "Auth",
                description: "Implement user authentication",
                status: .specApproved,
                archived: true,
                requirements: "R",
                design: "D",
                implementationPlan: PlanFixtures.authHeadings,
                approvedBy: "ana",
                approvedAt: Self.now,
                approvalComments: "ship it",
                revisionCount: 2,
                projectPath: "/src/app",
                maxConcurrentSessions: 3,
                createdAt: Self.now,
                updatedAt: Self.now
            )
        )
        try expectRoundTrip(
            ImplementationTask(
                specTaskID: "st-1",
                index: 2,
                title: "API",
                description: "d",
                acceptanceCriteria: "a",
                effort: .large,
                dependsOn: [1],
                parallel: true,
                checklist: [ChecklistItem(number: "2.1", title: "x", state: .inProgress, requirements: ["1.1"])],
                requirements: ["2.2"],
                status: .assigned,
                assignedWorkSessionID: "ws-2"
            )
        )
        try expectRoundTrip(
            WorkSession(
                id: "ws-2",
                specTaskID: "st-1",
                name: "API",
                status: .blocked,
                phase: .validation,
                implementationTaskIndex: 2,
                parentWorkSessionID: "ws-1",
                spawnedByWorkSessionID: "ws-1",
                attempt: 2,
                createdAt: Self.now,
                updatedAt: Self.now,
                startedAt: Self.now
            )
        )
        try expectRoundTrip(ZedInstance(id: "zi-1", specTaskID: "st-1", status: .ready, lastHeartbeatAt: Self.now))
        try expectRoundTrip(
            ZedThread(
                id: "th-1",
                workSessionID: "ws-1",
                specTaskID: "st-1",
                zedThreadExternalID: "z-9",
                status: .active
            )
        )
        try expectRoundTrip(
            CoordinationEntry(
                id: "c-1",
                specTaskID: "st-1",
                fromWorkSessionID: "ws-1",
                toWorkSessionID: "ws-2",
                kind: .handoff,
                message: "your turn",
                createdAt: Self.now
            )
        )
        try expectRoundTrip(
            SharedContextEntry(specTaskID: "st-1", key: "db.url", value: "postgres://", updatedAt: Self.now)
        )
    }

    private func expectRoundTrip<Value: Codable & Equatable>(
        _ value: Value,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let decoded = try JSONDecoder().decode(Value.self, from: JSONEncoder().encode(value))
        #expect(decoded == value, sourceLocation: sourceLocation)
    }
}
