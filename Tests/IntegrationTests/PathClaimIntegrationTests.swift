import Foundation
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// Path claims end to end: runner events on `zed.events` through a real worker process, the claims stored with the
/// spec task in PostgreSQL, the answers on `zed.commands`, the conflicts on `spectask.status` and in the
/// coordination log, and the read API listing the claims.
@Suite("Path claims through the topics", .serialized)
struct PathClaimIntegrationTests {
    /// The `claim_result` commands sent so far for one claim, oldest first.
    private static func results(_ system: SystemUnderTest, task: String, claim: String) -> [ClaimResult] {
        system.zedCommandsSent(for: task).compactMap { command in
            if case .claimResult(let result) = command, result.claimID == claim { result } else { nil }
        }
    }

    /// Waits for the `count`-th `claim_result` of a claim and returns it.
    private static func result(
        _ system: SystemUnderTest,
        task: String,
        claim: String,
        number count: Int = 1
    ) async throws -> ClaimResult {
        _ = try await system.zedCommands.waitForCount(count, timeout: .seconds(60), "claim_result of \(claim)") {
            guard $0.event.subject == task, $0.event.type == "zed.command.claim_result" else { return false }
            if case .claimResult(let result)? = try? EventDecoder.decodeZedCommand($0.raw.value).1 {
                return result.claimID == claim
            }
            return false
        }
        return try #require(results(system, task: task, claim: claim).dropFirst(count - 1).first)
    }

    @Test(
        "overlapping claims: the second waits naming the holder, the conflict is logged and announced, it is granted when the holder completes; the read API lists the claims"
    )
    func overlappingClaimsWaitThenProceed() async throws {
        let port = try ReadAPITests.freePort()
        let system = try await SystemUnderTest.start(adminPort: port)
        defer { Task { await system.stop() } }
        let (task, instance, sessions) = try await system.implementing(plan: ZedIntegrationTests.twoTasks)
        try await ZedIntegrationTests.createThreads(system, task, instance, sessions: sessions)
        @discardableResult
        func claim(_ session: String, _ id: String, _ paths: [String]) async throws -> String {
            try await system.sendZedEvent(
                .pathsClaimed(
                    ZedPathsClaimed(instanceID: instance.instanceID, workSessionID: session, claimID: id, paths: paths)
                ),
                task: task,
                token: instance.runnerToken
            )
        }

        try await claim(sessions[0], "schema-files", ["Sources/**", "./README.md"])
        let granted = try await Self.result(system, task: task, claim: "schema-files")
        #expect(granted.result == .granted && granted.paths == ["Sources/**", "README.md"])
        #expect(granted.workSessionID == sessions[0] && granted.instanceID == instance.instanceID)

        try await claim(sessions[1], "api-files", ["Sources/API/Routes.swift", "Tests/APITests"])
        let waiting = try await Self.result(system, task: task, claim: "api-files")
        let holderThread = try await system.state(of: task).zedThreads.first { $0.workSessionID == sessions[0] }?.id
        #expect(waiting.result == .waiting)
        #expect(
            waiting.conflicts == [
                PathClaimConflict(
                    workSessionID: sessions[0],
                    threadID: holderThread,
                    claimID: "schema-files",
                    heldPaths: ["Sources/**"],
                    claimedPaths: ["Sources/API/Routes.swift"]
                )
            ]
        )

        // Stored with the task, announced on the status topic, and in the coordination log.
        var state = try await system.state(of: task)
        #expect(state.pathClaims.map(\.id) == ["schema-files", "api-files"])
        #expect(state.pathClaims.map(\.status) == [.granted, .waiting])
        let announced = try await system.status.wait(timeout: .seconds(60), "the wait announced") {
            if case .pathClaimChanged(let change)? = $0.status { change.pathClaim.id == "api-files" } else { false }
        }
        guard case .pathClaimChanged(let change)? = announced.status else { return }
        #expect(change.to == .waiting && change.conflicts == waiting.conflicts)
        let log = try await TestEnvironment.withClient(try system.database) { client in
            try await CoordinationLogStore(logger: TestEnvironment.logger).entries(of: task, client: client)
        }
        #expect(log.map(\.kind) == [.blocking])
        #expect(log.first?.fromWorkSessionID == sessions[1] && log.first?.toWorkSessionID == sessions[0])

        // The read API lists them, alone and in the overview.
        let base = "http://127.0.0.1:\(port)/api/v1/spec-tasks/\(task)"
        let listed = try await ReadAPITests.get("\(base)/path-claims")
        #expect(listed.status == 200)
        #expect(try listed.decode([PathClaim].self).map(\.status) == [.granted, .waiting])
        let overview = try await ReadAPITests.get("\(base)/multi-session-overview").decode(ReadAPI.Overview.self)
        #expect(overview.pathClaims.map(\.id) == ["schema-files", "api-files"])

        // The holder completes: its claim is released and the waiting one granted, with a second answer.
        try await system.sendZedEvent(
            .threadCompleted(ZedThreadCompleted(instanceID: instance.instanceID, workSessionID: sessions[0])),
            task: task,
            token: instance.runnerToken
        )
        let proceed = try await Self.result(system, task: task, claim: "api-files", number: 2)
        #expect(proceed.result == .granted && proceed.conflicts.isEmpty)
        state = try await system.state(of: task)
        #expect(state.pathClaims.map(\.id) == ["api-files"])
        #expect(state.pathClaims.first?.status == .granted && state.pathClaims.first?.grantedAt != nil)

        // Hostile claims: refused by the rules (invalid_path) or the decoder (schema_violation); nothing changes.
        let climbing = try await claim(sessions[1], "escape", ["Sources/../../etc/passwd"])
        let rejected = try await system.rejection(of: climbing)
        #expect(rejected.code == "invalid_path")
        #expect(rejected.reason.contains("has a .. segment"))
        let huge = try await claim(sessions[1], "huge", (0...100).map { "f\($0)" })
        #expect(try await system.rejection(of: huge).code == "schema_violation")
        let long = try await claim(sessions[1], "long", [String(repeating: "x/", count: 600)])
        #expect(try await system.rejection(of: long).code == "schema_violation")
        #expect(try await system.state(of: task).pathClaims.map(\.id) == ["api-files"])

        let types = try await system.expectOutputsConform()
        #expect(types.isSuperset(of: ["zed.command.claim_result", "spectask.status.path_claim_changed"]))
        WorkflowTests.expectGapFreeSequence(system, task: task)
    }

    @Test(
        "the reference runner claims what its threads edit and takes turns on the shared file; the task ends with no claims"
    )
    func referenceRunnerTakesTurns() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let runner = try system.startRunner(["--step-interval", "0.3", "--steps", "4", "--no-coordinate"])
        defer { runner.process.terminate() }
        let (task, _, _) = try await system.implementing(plan: ZedIntegrationTests.threeTasks)

        let done = try await system.waitForState(of: task, timeout: .seconds(120), "implementation done") {
            $0.task.status == .implementationReview
        }
        #expect(done.pathClaims.isEmpty, "completed threads hold nothing")
        let results = system.zedCommandsSent(for: task).compactMap { command -> ClaimResult? in
            if case .claimResult(let result) = command { result } else { nil }
        }
        // Each of the three threads was granted its directory and, once, README.md.
        let grantedShared = results.filter { $0.result == .granted && $0.paths == ["README.md"] }
        #expect(Set(grantedShared.map(\.workSessionID)).count == 3)
        let grantedOwn = results.filter { $0.result == .granted && $0.paths.first?.hasPrefix("Sources/") == true }
        #expect(Set(grantedOwn.map(\.paths)) == [["Sources/Schema"], ["Sources/API"], ["Sources/UI"]])
        // Whether threads met at README.md depends on timing; every claim that waited was granted in the end.
        for waited in results where waited.result == .waiting {
            #expect(results.contains { $0.claimID == waited.claimID && $0.result == .granted })
            #expect(waited.conflicts.allSatisfy { $0.heldPaths == ["README.md"] })
        }
        try await system.expectOutputsConform()
    }
}
