import Foundation
import Testing

/// The status follower behind `send`, `bench`, `demo` and `watch` is positioned before anything is sent: on topics
/// created a moment ago, the very first outcomes (offset 0) are not missed. (Joining a consumer group instead left a
/// window in which they were: on a fresh broker, 5 of 200 bench tasks once waited for outcomes already published.)
@Suite("The CLI's status follower")
struct FollowerTests {
    @Test("spectask send on brand-new topics gets the outcome of the first command and of each one after it")
    func firstOutcomesOnNewTopics() async throws {
        for _ in 0..<2 {
            let system = try await SystemUnderTest.start()
            defer { Task { await system.stop() } }
            for index in 0..<3 {
                let task = TestEnvironment.unique("follow")
                let sent = try await WorkerProcessTests.run([
                    "send", "create", "--task", task, "--set", "name=first outcomes \(index)", "--topic-prefix",
                    system.prefix, "--timeout", "20",
                ])
                #expect(sent.status == 0, "spectask send: \(sent.output)")
                #expect(sent.output.contains("applied"), "spectask send: \(sent.output)")
            }
        }
    }
    @Test("spectask bench, closed loop and open loop, gets the outcome of every command it sends, and says so")
    func benchGetsEveryOutcome() async throws {
        let port = try ReadAPITests.freePort()
        let system = try await SystemUnderTest.start(adminPort: port)
        defer { Task { await system.stop() } }
        for mode in [["--concurrency", "3"], ["--rate", "40"]] {
            let bench = try await WorkerProcessTests.run(
                [
                    "bench", "--tasks", "6", "--topic-prefix", system.prefix, "--timeout", "60",
                    "--metrics", "http://127.0.0.1:\(port)/metrics",
                ] + mode
            )
            #expect(bench.status == 0, "spectask bench \(mode): \(bench.output)")
            #expect(bench.output.contains("commands: 48 (0 rejected)"), "spectask bench \(mode): \(bench.output)")
            #expect(bench.output.contains("transaction"), "the stage breakdown: \(bench.output)")
        }
    }
}
