import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

/// Invariant 4 under a database outage: a worker whose PostgreSQL goes away keeps serving its consumer group, says
/// so on `/ready`, and once PostgreSQL is back applies everything that waited, each command exactly once.
///
/// Each test runs on a PostgreSQL cluster of its own (started with `scripts/services postgres-up` on another port),
/// so stopping it disturbs no other test.
@Suite("PostgreSQL outages", .serialized)
struct DatabaseOutageTests {
    /// Outages in seconds. The test command runs 5 s and 30 s (longer than the consumer's 10 s poll interval, which
    /// is what used to get workers evicted for good); `SPECTASK_TEST_OUTAGES=5,30,300` adds the 5-minute one.
    static let outages: [Int] = {
        let configured = ProcessInfo.processInfo.environment["SPECTASK_TEST_OUTAGES"] ?? "5,30"
        return configured.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }()

    @Test(
        "an outage under load: /ready says 503 meanwhile, /health stays up; afterwards every command applied once",
        arguments: outages
    )
    func outage(seconds: Int) async throws {
        let database = try await PrivateDatabase.start()
        do {
            try await run(seconds: seconds, database: database)
        } catch {
            await database.remove()
            throw error
        }
        await database.remove()
    }

    /// A system of two workers on `database`, through the outage.
    func run(seconds: Int, database: PrivateDatabase) async throws {
        let ports = [try ReadAPITests.freePort(), try ReadAPITests.freePort()]
        let system = try await SystemUnderTest.start(
            workers: 2,
            environment: ["POSTGRES_URL": database.url],
            adminPorts: ports
        )
        // Workers stop before their database goes away (a worker shutting down must not wait on a dead database).
        do {
            try await exercise(seconds: seconds, system: system, database: database, ports: ports)
        } catch {
            await system.stop()
            throw error
        }
        await system.stop()
    }

    /// The outage itself, on a started system.
    func exercise(seconds: Int, system: SystemUnderTest, database: PrivateDatabase, ports: [Int]) async throws {
        // 100 spec tasks created while all is well, then PostgreSQL crashes and 400 more arrive during the outage.
        let run = TestEnvironment.unique("outage")
        let commands = (0..<500).map { index in
            (id: "\(run)-\(index)", task: "\(run)-task-\(index)")
        }
        func send(_ batch: ArraySlice<(id: String, task: String)>) async throws {
            try await system.sendAll(
                batch.map { command in
                    (
                        key: command.task,
                        value: CommandEncoder.encode(
                            id: command.id,
                            specTaskID: command.task,
                            source: "tests",
                            command: .create(CreateSpecTask(name: "outage"))
                        )
                    )
                }
            )
        }
        let before = Set(commands.prefix(100).map(\.id))
        try await send(commands.prefix(100))
        _ = try await system.status.waitForCount(100, timeout: .seconds(60), "the outcomes before the outage") {
            before.contains($0.event.correlationid ?? "") && Self.isOutcome($0)
        }
        try await database.crash()
        let crashed = ContinuousClock.now
        try await send(commands.dropFirst(100))

        // During the outage: not ready (PostgreSQL is unreachable), but alive (nothing a restart would fix).
        let readyAnswer = try await Self.waitForStatus(
            503,
            of: "http://127.0.0.1:\(ports[0])/ready",
            within: .seconds(20)
        )
        #expect(readyAnswer.contains("unavailable"), "/ready said: \(readyAnswer)")
        let health = try await ReadAPITests.get("http://127.0.0.1:\(ports[1])/health")
        #expect(health.status == 200, "/health during the outage: \(health.status)")

        let remaining = Duration.seconds(seconds) - (ContinuousClock.now - crashed)
        if remaining > .zero { try await Task.sleep(for: remaining) }
        let duringOutage = Set(commands.dropFirst(100).map(\.id))
        #expect(
            !system.status.messages.contains { duringOutage.contains($0.event.correlationid ?? "") },
            "nothing can be applied while PostgreSQL is down"
        )
        try await database.startAgain()
        let restarted = ContinuousClock.now

        // Every command gets its outcome, and exactly one.
        let ids = Set(commands.map(\.id))
        let outcomes = try await system.status.waitForCount(commands.count, timeout: .seconds(120), "the outcomes") {
            ids.contains($0.event.correlationid ?? "") && Self.isOutcome($0)
        }
        let caughtUp = ContinuousClock.now - restarted
        try await Task.sleep(for: .seconds(1))
        let all = system.status.messages.filter { ids.contains($0.event.correlationid ?? "") && Self.isOutcome($0) }
        let perCommand = Dictionary(grouping: all, by: { $0.event.correlationid ?? "" })
        #expect(perCommand.count == commands.count, "commands with an outcome: \(perCommand.count)")
        #expect(perCommand.values.allSatisfy { $0.count == 1 }, "a command with more than one outcome")
        #expect(
            outcomes.allSatisfy { $0.event.type == StatusEvent.typePrefix + "command_applied" },
            "every create is applied"
        )
        // Both workers are ready again.
        for port in ports {
            _ = try await Self.waitForStatus(200, of: "http://127.0.0.1:\(port)/ready", within: .seconds(90))
        }
        print("outage of \(seconds) s: all \(commands.count) commands applied \(caughtUp) after PostgreSQL's return")
    }

    static func isOutcome(_ message: TopicListener.Message) -> Bool {
        [StatusEvent.typePrefix + "command_applied", StatusEvent.typePrefix + "command_rejected"].contains(
            message.event.type
        )
    }

    /// Polls `url` until it answers `status`; returns the body.
    static func waitForStatus(_ status: Int, of url: String, within timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        while ContinuousClock.now < deadline {
            if let answer = try? await ReadAPITests.get(url) {
                last = "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))"
                if answer.status == status { return last }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TimedOut(what: "waiting for \(status) from \(url); last answer: \(last)")
    }
}

/// A PostgreSQL cluster of one test's own, run by the project's scripts (`SPECTASK_LOCAL` in a temporary folder,
/// another port), so it can be crashed and restarted without disturbing anything else.
struct PrivateDatabase: Sendable {
    let local: URL
    let port: Int
    let environment: [String: String]

    var url: String { "postgres://spectask@127.0.0.1:\(port)/spectask?sslmode=disable" }

    static func start() async throws -> PrivateDatabase {
        let local = FileManager.default.temporaryDirectory.appendingPathComponent(
            "spectask-db-\(UUID().uuidString.prefix(12).lowercased())"
        )
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in !key.hasPrefix("POSTGRES_") }
        environment["SPECTASK_LOCAL"] = local.path
        for _ in 0..<3 {
            let port = try ReadAPITests.freePort()
            environment["SPECTASK_PG_PORT"] = String(port)
            let database = PrivateDatabase(local: local, port: port, environment: environment)
            let up = try await database.services("postgres-up")
            if up.status == 0 { return database }
            if !up.output.contains("is taken by another process") {
                throw TimedOut(what: "starting a private PostgreSQL: \(up.output)")
            }
        }
        throw TimedOut(what: "finding a free port for a private PostgreSQL")
    }

    func crash() async throws {
        let result = try await services("postgres-crash")
        guard result.status == 0 else { throw TimedOut(what: "crashing PostgreSQL: \(result.output)") }
    }

    func startAgain() async throws {
        let result = try await services("postgres-up")
        guard result.status == 0 else { throw TimedOut(what: "restarting PostgreSQL: \(result.output)") }
    }

    func remove() async {
        _ = try? await services("reset")
        try? FileManager.default.removeItem(at: local)
    }

    func services(_ command: String) async throws -> (status: Int32, output: String) {
        try await CheckoutLocationTests.run(
            [WorkerProcessTests.repositoryPath("scripts/services"), command],
            environment: environment,
            in: URL(fileURLWithPath: WorkerProcessTests.repositoryPath("."))
        )
    }
}
