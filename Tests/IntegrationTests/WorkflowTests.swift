import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import Testing

/// The workflows of the original design notes, end to end through the topics and a real worker process.
@Suite("Workflows through the topics", .serialized)
struct WorkflowTests {
    static let authPlan = try! String(
        contentsOfFile: WorkerProcessTests.repositoryPath("docs/examples/auth-plan.md"),
        encoding: .utf8
    )

    /// Drives a task from creation to approved specs.
    static func approvedTask(_ system: SystemUnderTest, plan: String, name: String) async throws -> String {
        let task = TestEnvironment.unique("task")
        try await system.apply(.create(CreateSpecTask(name: name)), task: task)
        try await system.apply(.startPlanning(StartPlanning()), task: task)
        try await system.apply(
            .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: plan)),
            task: task
        )
        try await system.apply(.approveSpecs(ApproveSpecs(approver: "reviewer@example.com")), task: task)
        return task
    }

    static func complete(_ session: String, of task: String, in system: SystemUnderTest) async throws {
        try await system.apply(.updateZedThread(UpdateZedThread(workSessionID: session, status: .active)), task: task)
        try await system.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: session, status: .completed)),
            task: task
        )
    }

    static func threadsRequested(_ system: SystemUnderTest, task: String) -> [String] {
        system.zedCommands.messages.filter { $0.event.subject == task && $0.event.type == "zed.command.create_thread" }
            .compactMap { message -> String? in
                guard case .object(let data) = message.event.data, case .string(let session) = data["workSessionID"]
                else { return nil }
                return session
            }
    }

    static func taskStatuses(_ system: SystemUnderTest, task: String) -> [SpecTaskStatus] {
        system.status.messages.filter { $0.event.subject == task }.compactMap {
            if case .specTaskChanged(let change) = $0.status, change.from != change.to { return change.to }
            return nil
        }
    }

    /// Every status event of the task carries the next sequence number: 1, 2, 3… without gaps or repeats.
    /// - Parameter afterDeduplication: A worker killed between publishing and deleting outbox rows makes another
    ///   relay publish them again (at-least-once, the documented contract): then the check applies to the events as
    ///   a consumer sees them after dropping ids it has seen. Without a crash, no event may come twice.
    static func expectGapFreeSequence(
        _ system: SystemUnderTest,
        task: String,
        afterDeduplication: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var seen: Set<String> = []
        let sequences = system.status.messages.filter { $0.event.subject == task }
            .filter { !afterDeduplication || seen.insert($0.event.id).inserted }
            .compactMap(\.event.spectasksequence)
        #expect(
            sequences == Array(1...Int64(max(sequences.count, 1))).prefix(sequences.count).map { $0 },
            sourceLocation: sourceLocation
        )
    }

    @Test("simple task: one session, one thread, one instance, through review to done")
    func simpleTask() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = try await Self.approvedTask(
            system,
            plan: "Add a \"Contact us\" link to the footer.",
            name: "Contact link"
        )

        let started = try await system.apply(
            .startImplementation(StartImplementation(projectPath: "/src/site")),
            task: task
        )
        #expect(started.created.workSessionIDs.count == 1)
        #expect(started.created.zedThreadIDs.count == 1)
        #expect(started.created.zedInstanceID != nil)
        let session = try #require(started.created.workSessionIDs.first)
        _ = try await system.zedCommands.wait(timeout: .seconds(30), "create_thread for \(session)") { _ in
            Self.threadsRequested(system, task: task) == [session]
        }
        #expect(
            system.zedCommands.messages.filter {
                $0.event.subject == task && $0.event.type == "zed.command.create_instance"
            }.count == 1
        )

        try await Self.complete(session, of: task, in: system)
        try await system.apply(.approveImplementation(ApproveImplementation(approver: "lead@example.com")), task: task)
        _ = try await system.status.wait(timeout: .seconds(30), "the task to be done") { _ in
            Self.taskStatuses(system, task: task).last == .done
        }
        #expect(
            Self.taskStatuses(system, task: task)
                == [
                    .backlog, .specGeneration, .specReview, .specApproved, .implementation, .implementationReview,
                    .done,
                ]
        )
        Self.expectGapFreeSequence(system, task: task)
        await system.stop()
    }

    @Test("complex task: five implementation tasks start as their dependencies complete, progress reaches 100%")
    func authenticationSystem() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = try await Self.approvedTask(
            system,
            plan: Self.authPlan,
            name: "Implement complete user authentication system"
        )
        let sessions = (1...5).map { "\(task)-ws\($0)" }
        let started = try await system.apply(
            .startImplementation(StartImplementation(workSessionIDs: sessions)),
            task: task
        )
        #expect(started.created.workSessionIDs == sessions)
        #expect(started.created.implementationTaskIndexes == [1, 2, 3, 4, 5])

        func waitForThreads(_ expected: [String]) async throws {
            _ = try await system.zedCommands.wait(timeout: .seconds(30), "threads \(expected)") { _ in
                Set(Self.threadsRequested(system, task: task)) == Set(expected)
            }
        }
        // 2…5 depend on 1; 3 and 4 on 2; 5 on 3 and 4.
        try await waitForThreads([sessions[0]])
        try await Self.complete(sessions[0], of: task, in: system)
        try await waitForThreads(Array(sessions[0...1]))
        try await Self.complete(sessions[1], of: task, in: system)
        try await waitForThreads(Array(sessions[0...3]))
        try await Self.complete(sessions[2], of: task, in: system)
        try await Self.complete(sessions[3], of: task, in: system)
        try await waitForThreads(sessions)
        try await Self.complete(sessions[4], of: task, in: system)

        _ = try await system.status.wait(timeout: .seconds(30), "implementation review") { _ in
            Self.taskStatuses(system, task: task).last == .implementationReview
        }
        let snapshot = try await system.progress.wait(timeout: .seconds(30), "progress 100%") { message in
            guard message.event.subject == task, case .object(let data) = message.event.data else { return false }
            return data["overallPercent"] == .number(100)
        }
        #expect(snapshot.raw.key == Array(task.utf8))
        #expect(
            system.zedCommands.messages.filter {
                $0.event.subject == task && $0.event.type == "zed.command.create_instance"
            }.count == 1
        )
        Self.expectGapFreeSequence(system, task: task)
        await system.stop()
    }

    @Test(
        "interactive debugging: sessions spawn sessions three levels deep, each with its own thread in the one instance"
    )
    func interactiveDebugging() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = try await Self.approvedTask(
            system,
            plan: "Investigate and fix the slow user dashboard.",
            name: "Debug performance issues in user dashboard"
        )
        let main = "\(task)-main"
        try await system.apply(.startImplementation(StartImplementation(workSessionIDs: [main])), task: task)
        try await system.apply(.updateZedThread(UpdateZedThread(workSessionID: main, status: .active)), task: task)

        // main → database profiling → query plan analysis → index experiment: three levels below the first session.
        var parent = main
        var chain: [String] = []
        for name in ["Database profiling", "Query plan analysis", "Index experiment"] {
            let child = "\(task)-\(chain.count + 1)"
            let spawned = try await system.apply(
                .spawnWorkSession(SpawnWorkSession(parentWorkSessionID: parent, name: name, workSessionID: child)),
                task: task
            )
            #expect(spawned.created.workSessionIDs == [child])
            #expect(spawned.created.zedThreadIDs.count == 1)
            try await system.apply(.updateZedThread(UpdateZedThread(workSessionID: child, status: .active)), task: task)
            chain.append(child)
            parent = child
        }
        let all = [main] + chain
        _ = try await system.zedCommands.wait(timeout: .seconds(30), "a thread for every session") { _ in
            Set(Self.threadsRequested(system, task: task)) == Set(all)
        }
        #expect(
            system.zedCommands.messages.filter {
                $0.event.subject == task && $0.event.type == "zed.command.create_instance"
            }.count == 1
        )

        // The spawned sessions record who spawned them.
        let sessions = system.status.messages.compactMap { message -> WorkSession? in
            guard message.event.subject == task, case .workSessionChanged(let change) = message.status else {
                return nil
            }
            return change.workSession
        }
        for (child, expectedParent) in zip(chain, all) {
            #expect(sessions.last { $0.id == child }?.parentWorkSessionID == expectedParent)
        }

        // Innermost first, then the main session: the task ends with the last one.
        for session in all.reversed() {
            try await system.apply(
                .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: session, status: .completed)),
                task: task
            )
        }
        _ = try await system.status.wait(timeout: .seconds(30), "implementation review") { _ in
            Self.taskStatuses(system, task: task).last == .implementationReview
        }
        Self.expectGapFreeSequence(system, task: task)
        await system.stop()
    }

    @Test("the same command delivered twice is applied once and has one outcome")
    func duplicateCommand() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = TestEnvironment.unique("task")
        let id = "create-\(task)"
        try await system.send(.create(CreateSpecTask(name: "Once")), task: task, id: id)
        try await system.send(.create(CreateSpecTask(name: "Once")), task: task, id: id)
        let marker = try await system.apply(.startPlanning(StartPlanning()), task: task)
        #expect(marker.reason == nil)
        let outcomes = system.status.messages.filter {
            $0.event.correlationid == id && $0.event.type.hasSuffix("command_applied")
        }
        #expect(outcomes.count == 1)
        #expect(
            system.status.messages.filter {
                $0.event.correlationid == id && $0.event.type.hasSuffix("command_rejected")
            }.isEmpty
        )
        Self.expectGapFreeSequence(system, task: task)
        await system.stop()
    }

    @Test("bad input of every kind goes to spectask.rejected with a reason, and the line moves on")
    func badInput() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = TestEnvironment.unique("task")
        let cases: [(bytes: [UInt8], code: String)] = [
            (Array("{not json".utf8), "malformed_json"),
            (
                Array(
                    #"{"specversion":"1.0","id":"\#(task)-u1","source":"t","type":"spectask.command.fly","subject":"x"}"#
                        .utf8
                ), "unknown_type"
            ),
            (
                Array(
                    #"{"specversion":"1.0","id":"\#(task)-u2","source":"t","type":"spectask.command.create","subject":"x","data":{"name":7}}"#
                        .utf8
                ), "schema_violation"
            ),
            (Array(repeating: UInt8(ascii: "x"), count: 300_000), "oversize"),
            (
                CommandEncoder.encode(
                    id: "\(task)-u3",
                    specTaskID: "no-such-task-\(task)",
                    source: "t",
                    command: .startPlanning(StartPlanning())
                ), "unknown_spec_task"
            ),
        ]
        for (bytes, _) in cases { try await system.sendRaw(bytes, key: task) }
        try await system.apply(.create(CreateSpecTask(name: "after the bad ones")), task: task)

        let records: [TopicListener.Message]
        do {
            records = try await system.rejected.waitForCount(cases.count, timeout: .seconds(30), "rejected records") {
                _ in true
            }
        } catch {
            let logs = system.workerProcesses.map(\.output).joined(separator: "\n---\n").suffix(6000)
            Issue.record("\(error)\ngot: \(system.rejected.messages.map(\.event.data))\nworker output:\n\(logs)")
            throw error
        }
        let codes = records.compactMap { record -> String? in
            guard case .object(let data) = record.event.data, case .string(let code) = data["code"] else { return nil }
            return code
        }
        // Records are keyed by spec task, so records of different tasks may arrive in any order.
        #expect(codes.sorted() == cases.map(\.code).sorted())
        for record in records {
            guard case .object(let data) = record.event.data else { continue }
            #expect(data["reason"] != nil && data["reason"] != .string(""))
            #expect(data["originalBase64"] != nil)
        }
        // The command on a task that does not exist also gets its outcome on spectask.status.
        if case .commandRejected(let outcome) = try await system.outcome(of: "\(task)-u3") {
            #expect(outcome.code == "unknown_spec_task")
        } else {
            Issue.record("\(task)-u3 was not rejected")
        }
        await system.stop()
    }
}
