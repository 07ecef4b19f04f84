import Foundation

/// Runs a program to its end for a test, without holding a thread while it runs.
///
/// Swift's cooperative pool has one thread per core (two here). A test that blocks one in `waitUntilExit`, or in a
/// loop of `Thread.sleep`, while a script starts PostgreSQL or a Python checker loads its schemas, leaves every
/// other test of the process one thread or none: under the full suite that stalled unrelated tests past their
/// 15 s waits. So the wait here is a `Task.sleep` loop.
public enum ChildProcess {
    /// How a run ended, and what it printed.
    public struct Finished: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        /// Empty when the errors went to `stdout` (`mergingErrors`).
        public var stderr: String

        public var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var command: String
        public var timeout: Duration
        public var output: String

        public var description: String { "\(command) did not exit within \(timeout); it printed:\n\(output)" }
    }

    /// Runs `executable` with `arguments` and waits for it to exit; terminates it after `timeout`.
    ///
    /// Output goes to files rather than pipes, so nothing fills up and blocks the child while nobody reads.
    ///
    /// - Parameters:
    ///   - environment: Added to (and overriding) this process's environment, or the whole environment when
    ///     `inheritsEnvironment` is false.
    ///   - input: The child's standard input; `/dev/null` when `nil` (never a terminal).
    ///   - mergingErrors: Standard error goes to the same file as standard output, interleaved as written.
    public static func run(
        _ executable: URL,
        arguments: [String] = [],
        environment: [String: String] = [:],
        inheritsEnvironment: Bool = true,
        in directory: URL? = nil,
        input: URL? = nil,
        mergingErrors: Bool = false,
        timeout: Duration = .seconds(60)
    ) async throws -> Finished {
        let scratch = FileManager.default.temporaryDirectory
        let files = ["out", "err"].map { scratch.appendingPathComponent("spectask-child-\(UUID().uuidString).\($0)") }
        for file in files { FileManager.default.createFile(atPath: file.path, contents: nil) }
        defer { for file in files { try? FileManager.default.removeItem(at: file) } }
        let handles = try files.map { try FileHandle(forWritingTo: $0) }
        defer { for handle in handles { try? handle.close() } }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment =
            inheritsEnvironment ? ProcessInfo.processInfo.environment.merging(environment) { $1 } : environment
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        process.standardOutput = handles[0]
        process.standardError = mergingErrors ? handles[0] : handles[1]
        try process.run()

        let read = { (file: URL) in (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw TimedOut(
                    command: ([executable.path] + arguments).joined(separator: " "),
                    timeout: timeout,
                    output: read(files[0]) + read(files[1])
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Finished(status: process.terminationStatus, stdout: read(files[0]), stderr: read(files[1]))
    }
}
