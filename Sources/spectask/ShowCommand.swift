import ArgumentParser
import Foundation
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the multi-session overview of a spec task (read from PostgreSQL)."
    )

    @Argument(help: ArgumentHelp("The spec task id.", valueName: "task"))
    var task: String

    @Flag(help: "Print the overview as JSON (the read API's multi-session-overview).")
    var json = false

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.show")
        let task = self.task
        let loaded = try await withPostgres(try connection.database(), logger: logger) { client in
            try await SpecTaskRepository(logger: logger).loadSnapshot([task], client: client)
        }
        guard let state = loaded[task]?.state else {
            print("spec task \(task) not found")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: try ReadAPI.encoder.encode(ReadAPI.Overview(state)), as: UTF8.self))
        } else {
            print(OverviewText.render(state))
        }
    }
}

/// The overview as text for a terminal: the task, then one line per implementation task and session.
enum OverviewText {
    static func render(_ state: SpecTaskState) -> String {
        let progress = ReadAPI.progress(state)
        var lines: [String] = []
        let task = state.task
        lines.append("\(task.name)  [\(task.id)]")
        lines.append(
            "  status: \(task.status.rawValue)\(task.archived ? " (archived)" : "")   overall: \(bar(progress.overallPercent)) \(progress.overallPercent)%"
        )
        if let instance = state.zedInstance {
            var line = "  Zed instance: \(instance.id) (\(instance.status.rawValue))"
            if let resources = instance.resources {
                let parts = [
                    resources.cpuPercent.map { "cpu \($0)%" }, resources.memoryMB.map { "memory \($0) MB" },
                    resources.uptimeSeconds.map { "up \($0) s" },
                ]
                line += "  last heartbeat: " + parts.compactMap { $0 }.joined(separator: ", ")
            }
            if let error = instance.lastError { line += "  last error: \(error)" }
            lines.append(line)
        }
        let usage = progress.usage
        if usage.activities > 0 || task.budget != nil {
            var line =
                "  usage: \(usage.tokens) tokens (\(usage.tokensIn) in, \(usage.tokensOut) out), "
                + "cost \(Budget.dollars(usage.costMicros)), \(usage.filesChanged) files changed, "
                + "+\(usage.linesAdded)/-\(usage.linesRemoved) lines, \(usage.testsPassed)/\(usage.testsRun) tests passed"
            if let budget = task.budget {
                let limits = [
                    budget.maxTokens.map { "\($0) tokens" }, budget.maxCostMicros.map { Budget.dollars($0) },
                ]
                line += "; budget: " + limits.compactMap { $0 }.joined(separator: ", ")
            }
            lines.append(line)
        }
        if !state.implementationTasks.isEmpty {
            lines.append("  implementation tasks:")
            for item in state.implementationTasks {
                let percent = progress.implementationTasks.first { $0.index == item.index }?.percent ?? 0
                let deps =
                    item.dependsOn.isEmpty ? "" : "  after \(item.dependsOn.map(String.init).joined(separator: ", "))"
                lines.append(
                    "    \(item.index). \(pad(item.title, 40)) \(pad(item.status.rawValue, 12)) \(bar(percent)) \(percent)%\(deps)"
                )
            }
        }
        if !state.workSessions.isEmpty {
            lines.append("  work sessions:")
            for session in state.workSessions {
                let thread = state.zedThreads.first { $0.workSessionID == session.id }
                let percent = progress.workSessions.first { $0.workSessionID == session.id }?.percent ?? 0
                let parent = session.parentWorkSessionID.map { "  spawned by \($0)" } ?? ""
                lines.append(
                    "    \(pad(session.id, 30)) \(pad(session.name, 30)) \(pad(session.status.rawValue, 10)) thread \(pad(thread?.status.rawValue ?? "-", 12)) \(bar(percent)) \(percent)%\(parent)"
                )
            }
        }
        lines += pathClaimLines(state)
        return lines.joined(separator: "\n")
    }

    /// One line per claim, granted first: who holds or waits for which paths.
    static func pathClaimLines(_ state: SpecTaskState) -> [String] {
        guard !state.pathClaims.isEmpty else { return [] }
        let ordered =
            state.pathClaims.filter { $0.status == .granted } + state.pathClaims.filter { $0.status != .granted }
        return ["  path claims:"]
            + ordered.map { claim in
                "    \(pad(claim.status.rawValue, 8)) \(claim.paths.joined(separator: ", "))  "
                    + "(claim \(claim.id) of \(claim.workSessionID))"
            }
    }

    static func bar(_ percent: Int, width: Int = 20) -> String {
        let filled = max(0, min(width, percent * width / 100))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width
            ? String(text.prefix(width - 1)) + "…" : text.padding(toLength: width, withPad: " ", startingAt: 0)
    }
}
