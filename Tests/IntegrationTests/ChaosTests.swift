import Foundation
import Testing

/// `spectask chaos` as an operator runs it: a short fault campaign on a system of its own (its own PostgreSQL
/// cluster, topics and groups, so the other tests are not disturbed), and its answers to bad flags.
@Suite("Chaos campaign", .serialized)
struct ChaosTests {
    @Test(
        "a short campaign (3 worker kills, a zombie, 2 PostgreSQL restarts, a 10 s outage, a runner kill) under commands and Zed tasks: nothing lost or doubled"
    )
    func shortCampaign() async throws {
        let arguments = [
            "chaos", "--workers", "2", "--rate", "150", "--duration", "60", "--kills", "3", "--zombies", "1",
            "--pg-restarts", "2", "--pg-outages", "1", "--pg-outage-seconds", "10", "--runner-restarts", "1",
            // Zed tasks too: their heartbeats, activities and the runner's restart. (A task whose runner was killed
            // may end failed by a heartbeat timeout; the campaign accepts done or failed, never stuck.)
            "--zed-rate", "1",
            "--repo", WorkerProcessTests.repositoryPath("."),
        ]
        let child = try WorkerProcessTests.Child(arguments)
        // Bounded: a campaign that hangs fails here instead of holding up the suite. It takes 3 to 4 minutes, most
        // of it the faults' recoveries (a PostgreSQL crash can cost 40–60 s: see README, Reliability).
        let status = try await child.waitForExit(timeout: .seconds(480))
        let output = child.output
        let report = String(output.suffix(6000))
        #expect(status == 0, "spectask chaos exited \(status):\n\(report)")
        #expect(output.contains("chaos campaign passed"), "no verdict:\n\(report)")

        // The table's total row: | total | faults | | lost | doubled |
        let total = try #require(
            output.firstMatch(of: /\| total\s*\|\s*(\d+)\s*\|\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/),
            "no total row in:\n\(report)"
        )
        #expect(Int(total.1) == 8, "faults injected: \(total.1)\n\(report)")
        #expect(Int(total.2) == 0, "commands lost:\n\(report)")
        #expect(Int(total.3) == 0, "effects doubled:\n\(report)")
        for fault in [
            "worker SIGKILL + restart", "(zombie)", "PostgreSQL restart", "PostgreSQL down 10 s", "Zed runner SIGKILL",
        ] {
            #expect(output.contains(fault), "no row for \(fault):\n\(report)")
        }
        #expect(!output.contains("FAILED"), "\(report)")
        // Everything it started is gone: its PostgreSQL cluster and run folder.
        let folder = try #require(output.firstMatch(of: /run folder (\S+)/), "no run folder in:\n\(report)")
        #expect(!FileManager.default.fileExists(atPath: String(folder.1)), "\(folder.1) was left behind")
    }

    @Test("bad flags fail at once with a clear message and a non-zero status")
    func badFlags() async throws {
        let cases: [(arguments: [String], expected: String)] = [
            (["chaos", "--kills=-1"], "--kills must not be negative, got -1"),
            (["chaos", "--zombies=-2"], "--zombies must not be negative"),
            (["chaos", "--pg-restarts=-1"], "--pg-restarts must not be negative"),
            (["chaos", "--pg-outages=-1"], "--pg-outages must not be negative"),
            (["chaos", "--runner-restarts=-1"], "--runner-restarts must not be negative"),
            (["chaos", "--rate", "0"], "--rate must be 1…5000 commands/s, got 0"),
            (["chaos", "--workers", "0"], "--workers must be 1…6"),
            (["chaos", "--duration", "0"], "--duration must be 10…3600 seconds"),
            (["chaos", "--pg-outage-seconds", "0"], "--pg-outage-seconds must be 1…600"),
            (["chaos", "--fetch-wait-ms", "0"], "--fetch-wait-ms must be 1…1000, got 0"),
            (["chaos", "--fetch-wait-ms", "5000"], "--fetch-wait-ms must be 1…1000, got 5000"),
            (
                ["chaos", "--zombie-seconds", "3"],
                "--zombie-seconds must be more than the workers' 6 s session timeout"
            ),
            (["chaos", "--zed-rate=-1"], "--zed-rate must be 0…20"),
            (["chaos", "--zed-rate", "0", "--runner-restarts", "1"], "--runner-restarts needs Zed tasks"),
            (["chaos", "--kafka", "no-port-here"], "is not host:port"),
            (["chaos", "--repo", "/nonexistent"], "--repo /nonexistent: no scripts/services and topics/ there"),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try await WorkerProcessTests.run(arguments)
            #expect(status != 0, "\(arguments) exited 0")
            #expect(output.contains(expected), "\(arguments): expected '\(expected)' in:\n\(output)")
            #expect(!output.contains("setting up"), "\(arguments) started a campaign:\n\(output)")
        }
    }

    @Test("--help explains the faults, the checks and the flags; the CLI lists chaos")
    func help() async throws {
        let (status, help) = try await WorkerProcessTests.run(["chaos", "--help"])
        #expect(status == 0)
        // The help text is wrapped to the terminal's width: compare with the line breaks taken out.
        let output = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for text in [
            "--kills", "--zombies", "--pg-restarts", "--pg-outages", "--pg-outage-seconds", "--runner-restarts",
            "--rate", "--duration", "--seed", "--keep", "--fetch-wait-ms", "exactly one outcome", "sequential model",
        ] {
            #expect(output.contains(text), "\(text) missing from:\n\(output)")
        }
        let (_, top) = try await WorkerProcessTests.run(["--help"])
        #expect(top.contains("  chaos "), "chaos missing from:\n\(top)")
    }
}
