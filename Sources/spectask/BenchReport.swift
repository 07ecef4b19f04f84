import Foundation
import SpecTaskWorker

/// What one benchmark run measured.
struct BenchResult {
    struct OpenLoop {
        var offeredRate: Int
        /// What the bench managed to send; below `offeredRate` when its own sending fell behind.
        var sentRate: Double
        /// How far behind its schedule a command was sent, at worst.
        var maxSendLag: Duration
        /// Most commands sent and still waiting for their outcome: the queue in front of the workers.
        var peakInFlight: Int
    }

    /// Send → outcome, one per command.
    var latencies: [Duration]
    var rejected: Int
    /// First send → last outcome.
    var elapsed: Duration
    var achievedRate: Double
    var openLoop: OpenLoop?
}

/// The block `spectask bench` ends with, one aligned `label: value` line per fact.
struct BenchReport {
    var run: String
    var tasks: Int
    var concurrency: Int
    var statusTopic: String
    var result: BenchResult
    var baseline: BenchBaseline.Result?

    var text: String {
        let lines = self.lines
        let width = (lines.map(\.label.count).max() ?? 0) + 2
        return lines.map { ($0.label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + $0.value }
            .joined(separator: "\n")
    }

    private var lines: [(label: String, value: String)] {
        var lines: [(label: String, value: String)] = [
            (
                "settings",
                (result.openLoop.map { "open loop at \($0.offeredRate)/s" } ?? "closed loop")
                    + ", \(tasks) tasks × \(BenchDriver.steps) commands, concurrency \(concurrency), run \(run)"
            ),
            ("machine", "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(Self.machine), \(Self.build)"),
            (
                "commands",
                "\(result.latencies.count) (\(result.rejected) rejected) in \(format(result.elapsed.seconds, "%.2f")) s"
            ),
        ]
        if let openLoop = result.openLoop {
            lines.append(("offered", "\(openLoop.offeredRate) commands/s"))
        }
        lines.append(("achieved", "\(format(result.achievedRate, "%.0f")) commands/s"))
        if let verdict { lines.append(("kept up", verdict)) }
        let sorted = result.latencies.sorted()
        func percentile(_ p: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            return Self.milliseconds(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        lines.append(
            (
                "latency",
                "p50 \(percentile(0.5)), p90 \(percentile(0.9)), p99 \(percentile(0.99)), max \(percentile(1.0)) "
                    + "(send → outcome on \(statusTopic))"
            )
        )
        if let baseline {
            lines.append(
                (
                    "baseline",
                    "\(baseline.messages) messages in \(format(baseline.elapsed.seconds, "%.2f")) s = "
                        + "\(format(baseline.rate, "%.0f")) messages/s (one transaction per message, one connection)"
                )
            )
            lines.append(("ratio", "spectask \(format(result.achievedRate / baseline.rate, "%.2f"))× the baseline"))
        }
        return lines
    }

    /// Whether the open loop ran at the offered rate; an open loop that did not measured a queue, not the system.
    private var verdict: String? {
        guard let openLoop = result.openLoop else { return nil }
        let waiting = "at most \(openLoop.peakInFlight) commands waiting for their outcome"
        if openLoop.maxSendLag > .milliseconds(100) {
            return "NO: the bench itself sent only \(format(openLoop.sentRate, "%.0f"))/s, up to "
                + "\(Self.milliseconds(openLoop.maxSendLag)) behind schedule; lower --rate"
        }
        // 10 % slack: the first and last outcomes of a short run arrive with some jitter.
        if result.achievedRate < 0.9 * Double(openLoop.offeredRate) {
            return "NO: the system did not keep up with \(openLoop.offeredRate)/s, \(waiting); "
                + "latencies include that queue"
        }
        return "yes, \(waiting)"
    }

    private func format(_ value: Double, _ format: String) -> String { String(format: format, value) }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.1f ms", duration.seconds * 1000)
    }

    /// What `uname -m` says.
    static var machine: String {
        var info = utsname()
        guard uname(&info) == 0 else { return "unknown machine" }
        return withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static var build: String {
        #if DEBUG
        "debug build"
        #else
        "release build"
        #endif
    }
}
