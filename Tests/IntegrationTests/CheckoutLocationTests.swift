import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's commands work from any checkout location. As root, the PostgreSQL server runs as the postgres user,
/// who can not enter a private directory (root's home is mode 700): the local cluster then has to live elsewhere.
@Suite("A checkout in a private directory")
struct CheckoutLocationTests {
    @Test("scripts/services starts a PostgreSQL cluster that answers from a directory of mode 700, and deletes it")
    func servicesRunFromPrivateDirectory() async throws {
        let fileManager = FileManager.default
        let privateDirectory = fileManager.temporaryDirectory.appendingPathComponent(
            "spectask-private-\(UUID().uuidString.prefix(12).lowercased())"
        )
        try fileManager.createDirectory(at: privateDirectory, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: privateDirectory) }
        try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: privateDirectory.path)
        let mode = try fileManager.attributesOfItem(atPath: privateDirectory.path)[.posixPermissions] as? NSNumber
        try #require(
            mode?.intValue == 0o700,
            "\(privateDirectory.path) has mode \(String(mode?.intValue ?? 0, radix: 8))"
        )

        let repo = privateDirectory.appendingPathComponent("repo")
        try fileManager.createDirectory(at: repo, withIntermediateDirectories: false)
        let copy = try await Self.run(
            ["cp", "-R", WorkerProcessTests.repositoryPath("scripts"), repo.appendingPathComponent("scripts").path],
            environment: ProcessInfo.processInfo.environment,
            in: repo
        )
        try #require(copy.status == 0, "copying scripts/ failed:\n\(copy.output)")
        let services = repo.appendingPathComponent("scripts/services").path

        // The checkout's own .local (SPECTASK_LOCAL unset) and its own cluster (no external PostgreSQL).
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            key != "SPECTASK_LOCAL" && !key.hasPrefix("POSTGRES_")
        }
        // Stops and deletes the cluster however the test ends; before the private directory goes (the scripts live
        // there).
        let outcome: Result<Void, any Error>
        do {
            try await Self.startQueryAndReset(
                services: services,
                in: repo,
                privateDirectory: privateDirectory,
                environment: &environment
            )
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        _ = try? await Self.run([services, "reset"], environment: environment, in: repo)
        try outcome.get()
    }

    /// Starts the checkout's cluster on a port of its own (set in `environment`), queries it, and resets it.
    static func startQueryAndReset(
        services: String,
        in repo: URL,
        privateDirectory: URL,
        environment: inout [String: String]
    ) async throws {
        let fileManager = FileManager.default

        // An unusual port below the ephemeral range; another one if something happens to listen there.
        var port = 0
        var up: (status: Int32, output: String) = (-1, "")
        for _ in 0..<3 {
            port = Int.random(in: 31_000..<32_700)
            environment["SPECTASK_PG_PORT"] = String(port)
            up = try await Self.run([services, "postgres-up"], environment: environment, in: repo)
            if !up.output.contains("is taken by another process") { break }
        }
        try #require(
            up.status == 0,
            "scripts/services postgres-up failed (status \(up.status)):\n\(up.output)\(Self.logs(in: repo))"
        )

        let select = try await Self.run(
            ["psql", "postgres://spectask@127.0.0.1:\(port)/spectask?sslmode=disable", "-tAc", "select 1"],
            environment: environment,
            in: repo
        )
        #expect(select.status == 0, "psql failed:\n\(select.output)")
        #expect(
            select.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1",
            "select 1 answered:\n\(select.output)"
        )

        let status = try await Self.run([services, "status"], environment: environment, in: repo)
        let match = try #require(
            status.output.firstMatch(of: /postgres: running on \S+ \(data: ([^,]+),/),
            "scripts/services status does not say where the data lives:\n\(status.output)"
        )
        let dataPath = String(match.1)
        #expect(fileManager.fileExists(atPath: dataPath), "no cluster at \(dataPath)")
        if getuid() == 0 {
            // The postgres user can not reach the checkout: the cluster must have moved out of it.
            #expect(!dataPath.hasPrefix(privateDirectory.path), "the cluster is still in the checkout: \(dataPath)")
        }

        let reset = try await Self.run([services, "reset"], environment: environment, in: repo)
        #expect(reset.status == 0, "scripts/services reset failed:\n\(reset.output)")
        #expect(!fileManager.fileExists(atPath: dataPath), "scripts/services reset left \(dataPath)")
    }

    /// The checkout's service logs, for a failure message: the checkout is gone once the test ends.
    static func logs(in repo: URL) -> String {
        let directory = repo.appendingPathComponent(".local/logs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { name in
            let text = (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return "\n--- \(directory.path)/\(name):\n\(text)"
        }.joined()
    }

    /// Runs `arguments` (looked up on the PATH) in `directory` to its end, output and errors together.
    static func run(
        _ arguments: [String],
        environment: [String: String],
        in directory: URL,
        timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String) {
        let run = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/bash"),
            arguments: ["-c", withoutInheritedDescriptors, "bash"] + arguments,
            environment: environment,
            inheritsEnvironment: false,
            in: directory,
            mergingErrors: true,
            timeout: timeout
        )
        return (run.status, run.stdout)
    }

    /// Runs "$@" with no file descriptors but 0, 1 and 2.
    ///
    /// On Linux, Foundation's Process learns that its child exited when a socket the child inherits is closed
    /// by everyone holding it. Inherited by the PostgreSQL server that `postgres-up` leaves running, that socket
    /// would stay open until the server stops, and the script would never seem to end. This shell keeps it
    /// (so its own end is seen) and closes it, and every other extra descriptor, for the command.
    private static let withoutInheritedDescriptors = #"""
        closes=()
        for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then closes+=("$fd>&-"); fi; done
        eval "\"\$@\" ${closes[*]}"
        """#
}
