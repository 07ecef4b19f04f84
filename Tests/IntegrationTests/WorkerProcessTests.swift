import Foundation
import Kafka
import SpecTaskWorker
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs the real `spectask` binary, as an operator would.
@Suite("The spectask executable")
struct WorkerProcessTests {
    /// `scripts/test` exports SPECTASK_BIN; running `swift test` by hand falls back to the debug build.
    static var binary: URL {
        get throws {
            let path =
                ProcessInfo.processInfo.environment["SPECTASK_BIN"]
                ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                    "../../.build/debug/spectask"
                ).path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ServiceUnavailable(
                    what: "the spectask binary at \(path)",
                    hint: "build it (scripts/test does) or set SPECTASK_BIN",
                    underlying: CocoaError(.fileNoSuchFile)
                )
            }
            return URL(fileURLWithPath: path)
        }
    }

    /// A child process whose combined output goes to a temporary file.
    ///
    /// A file rather than a Pipe with a readability handler: on Linux, tearing such a handler down while the
    /// pipe closes has crashed libdispatch's event loop.
    final class Child: Sendable {
        let process: Process
        private let outputFile: URL

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            outputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
                "spectask-child-\(UUID().uuidString).log"
            )
            FileManager.default.createFile(atPath: outputFile.path, contents: nil)
            let handle = try FileHandle(forWritingTo: outputFile)
            defer { try? handle.close() }
            process = Process()
            process.executableURL = try WorkerProcessTests.binary
            process.arguments = arguments
            // A test that forgets to stop its children, or a test process that is killed, leaves no orphans.
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                .merging(["SPECTASK_EXIT_WITH_PARENT": "1"]) { current, _ in current }
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        deinit {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(at: outputFile)
        }

        var output: String {
            (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        }

        func waitForOutput(containing text: String, timeout: Duration) async throws {
            let deadline = ContinuousClock.now + timeout
            while !output.contains(text) {
                guard process.isRunning, ContinuousClock.now < deadline else {
                    throw TimedOut(what: "waiting for '\(text)' in the output; got:\n\(output)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func waitForExit(timeout: Duration) async throws -> Int32 {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning {
                guard ContinuousClock.now < deadline else {
                    process.terminate()
                    throw TimedOut(what: "waiting for the process to exit; output:\n\(output)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return process.terminationStatus
        }
    }

    static func run(
        _ arguments: [String],
        environment: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        let run = try await ChildProcess.run(
            try binary,
            arguments: arguments,
            environment: environment.merging(["SPECTASK_EXIT_WITH_PARENT": "1"]) { current, _ in current },
            mergingErrors: true
        )
        return (run.status, run.stdout)
    }

    @Test("the worker joins its group, serves /health, and exits 0 soon after SIGTERM")
    func workerStopsCleanlyOnSIGTERM() async throws {
        let prefix = TestEnvironment.unique("w") + "."
        let port = Int.random(in: 20_000..<30_000)
        let topics = try await Self.run([
            "topics", "apply", "--topic-prefix", prefix, "--topics-dir", Self.repositoryPath("topics"),
        ])
        #expect(topics.status == 0, "topics apply failed: \(topics.output)")

        let worker = try Child([
            "worker", "--topic-prefix", prefix, "--group-id", TestEnvironment.unique("g"), "--admin",
            "127.0.0.1:\(port)",
        ])
        try await worker.waitForOutput(containing: "owning partitions", timeout: .seconds(60))
        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self) == #"{"status":"ok"}"#)

        let (metricsBody, metricsResponse) = try await URLSession.shared.data(
            from: URL(string: "http://127.0.0.1:\(port)/metrics")!
        )
        #expect((metricsResponse as? HTTPURLResponse)?.statusCode == 200)
        let metrics = String(decoding: metricsBody, as: UTF8.self)
        #expect(metrics.contains("# TYPE spectask_batches_total counter\nspectask_batches_total 0\n"))
        #expect(metrics.contains("# TYPE spectask_partitions_owned gauge"))
        // The stage histograms exist from the start, in seconds.
        #expect(metrics.contains("# TYPE spectask_stage_duration_seconds histogram"))
        #expect(metrics.contains(#"spectask_stage_duration_seconds_count{stage="transaction"} 0"#))
        // Instance timeouts by what went quiet, each counted from the start.
        for timeout in ["ready", "heartbeat", "fail_after"] {
            #expect(metrics.contains("spectask_instance_timeouts_total{timeout=\"\(timeout)\"} 0\n"), "\(timeout)")
        }
        #expect(!metrics.contains("spectask_heartbeat_timeouts_total"))

        worker.process.terminate()  // SIGTERM
        let status = try await worker.waitForExit(timeout: .seconds(20))
        #expect(status == 0, "output:\n\(worker.output)")
        #expect(worker.output.contains("worker stopped"))
    }

    @Test("the reference Zed runner stops cleanly on SIGTERM and on SIGINT", arguments: [SIGTERM, SIGINT])
    func runnerStopsCleanly(signal: Int32) async throws {
        let prefix = TestEnvironment.unique("r") + "."
        let topics = try await Self.run([
            "topics", "apply", "--topic-prefix", prefix, "--topics-dir", Self.repositoryPath("topics"),
        ])
        #expect(topics.status == 0, "topics apply failed: \(topics.output)")
        let runner = try Child(["zed-runner", "--topic-prefix", prefix, "--group-id", TestEnvironment.unique("g")])
        try await runner.waitForOutput(containing: "reference Zed runner consuming", timeout: .seconds(30))
        kill(runner.process.processIdentifier, signal)
        let status = try await runner.waitForExit(timeout: .seconds(20))
        #expect(status == 0, "output:\n\(runner.output)")
        #expect(runner.output.contains("reference Zed runner stopped"), "output:\n\(runner.output)")
    }

    @Test("the binary runs with librdkafka 2.1 or newer")
    func linkedLibrdkafka() async throws {
        let (status, output) = try await Self.run(["version"])
        #expect(status == 0)
        let version = try #require(
            output.firstMatch(of: /librdkafka (\d+)\.(\d+)/),
            "no librdkafka version in: \(output)"
        )
        let major = Int(version.1)!
        let minor = Int(version.2)!
        #expect(major > 2 || (major == 2 && minor >= 1), "linked to \(version.0)")
    }

    @Test("bad flags and settings fail with a clear message and a non-zero status")
    func badInput() async throws {
        let cases: [(arguments: [String], environment: [String: String], expected: String)] = [
            (["worker", "--kafka", "no-port-here"], [:], "is not host:port"),
            (["worker", "--postgres", "mysql://x@y/z"], [:], "is not a PostgreSQL URL"),
            (["worker", "--admin", "127.0.0.1:99999"], [:], "is not host:port with a port from 0 to 65535"),
            (["worker", "--max-batch", "0"], [:], "expected 1 to 10000"),
            (["worker", "--topic-prefix", "bad prefix!"], [:], "would make illegal topic names"),
            (["worker"], ["KAFKA_SECURITY_PROTOCOL": "carrier-pigeon"], "KAFKA_SECURITY_PROTOCOL is 'carrier-pigeon'"),
            (["migrate"], ["SPECTASK_LOG_LEVEL": "loud"], "SPECTASK_LOG_LEVEL is 'loud'"),
            (
                ["topics", "apply", "--topics-dir", "/nonexistent"], [:],
                "cannot read topic definitions from /nonexistent"
            ),
            (["no-such-command"], [:], "Unexpected argument"),
            (["topics", "asyncapi", "--check"], [:], "--check needs --output"),
            (["topics", "asyncapi", "--topics-dir", "/nonexistent"], [:], "cannot read topic definitions"),
            (["send", "fly", "--task", "t"], [:], "unknown command 'fly'"),
            (["send", "create", "--task", "t", "--set", "nmae=x"], [:], "unknown member 'nmae'"),
            (["send", "create", "--task", "t", "--set", "noequals"], [:], "--set expects key=value"),
            (["send", "create", "--task", "t", "--data", "[1]"], [:], "--data must be a JSON object"),
            (["send", "create", "--task", "bad task!", "--set", "name=x"], [:], "invalid_subject"),
            (
                [
                    "send", "update_work_session_status", "--task", "t", "--set", "workSessionID=w", "--set",
                    "status=sleeping",
                ], [:], "schema_violation"
            ),
            (["show", "no-such-task-\(UUID().uuidString.prefix(8))"], [:], "not found"),
            (["bench", "--tasks", "0"], [:], "--tasks must be 1…100000"),
            (["worker"], ["SPECTASK_HEARTBEAT_TIMEOUT": "forever"], "SPECTASK_HEARTBEAT_TIMEOUT is 'forever'"),
            (
                ["worker"], ["SPECTASK_HEARTBEAT_TIMEOUT": "2m", "SPECTASK_HEARTBEAT_FAIL_AFTER": "1m"],
                "must be longer than"
            ),
            (["zed-runner", "--heartbeat-interval", "0"], [:], "--heartbeat-interval must be between"),
            (["zed-runner", "--heartbeat-interval", "nan"], [:], "--heartbeat-interval must be between"),
            (["zed-runner", "--steps", "0"], [:], "--steps must be between 1 and 1000"),
            (["zed-runner", "--tokens-per-step=-5"], [:], "must not be negative"),
            (["zed-runner", "--spawn-helper-for-task", "0"], [:], "--spawn-helper-for-task must be"),
            (["zed-runner", "--topic-prefix", "bad prefix!"], [:], "would make illegal topic names"),
            (["demo", "--task", "bad task!"], [:], "--task: subject"),
            (["demo", "--max-concurrent-sessions", "0"], [:], "--max-concurrent-sessions must be between"),
            (["demo", "--timeout=-1"], [:], "--timeout must be positive"),
            (["demo", "--plan", "/nonexistent/plan.md"], [:], "can not read the implementation plan"),
        ]
        for (arguments, environment, expected) in cases {
            let (status, output) = try await Self.run(arguments, environment: environment)
            #expect(status != 0, "\(arguments) \(environment) exited 0")
            #expect(output.contains(expected), "\(arguments) \(environment): expected '\(expected)' in:\n\(output)")
        }
    }

    @Test("--help lists the subcommands")
    func help() async throws {
        let (status, output) = try await Self.run(["--help"])
        #expect(status == 0)
        for command in [
            "worker", "zed-runner", "demo", "send", "show", "watch", "bench", "migrate", "topics", "version",
        ] {
            #expect(output.contains("  \(command) "), "\(command) missing from:\n\(output)")
        }
    }

    static func repositoryPath(_ relative: String) -> String {
        Repository.path(relative).path
    }
}
