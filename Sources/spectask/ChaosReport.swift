import Foundation

/// The campaign's result as text: the fault table, the totals and the checks.
struct ChaosReport {
    var faults: [ChaosFault]
    var checks: ChaosChecks
    var sent: (model: Int, zed: Int)
    var loadTime: Duration
    var redelivered: Int
    var outageSeconds: Int
    var zombieSeconds: Int
    var command: String

    var text: String {
        var lines: [String] = ["campaign: \(command)", ""]
        let header = ["fault", "count", "longest recovery", "commands lost", "effects doubled"]
        var rows: [[String]] = []
        for kind in ChaosFaultKind.allCases {
            let ofKind = faults.filter { $0.kind == kind }
            guard !ofKind.isEmpty else { continue }
            let longest: String
            if ofKind.contains(where: { $0.recoveredAt == nil }) {
                longest = "not recovered"
            } else {
                longest = ofKind.compactMap(\.recovery).max().map(ChaosFaultInjector.format) ?? "-"
            }
            rows.append([
                kind.label(outage: outageSeconds, zombie: zombieSeconds), String(ofKind.count), longest,
                String(checks.lost[kind] ?? 0), String(checks.doubled[kind] ?? 0),
            ])
        }
        rows.append([
            "(before the first fault)", "-", "-", String(checks.lost[nil] ?? 0), String(checks.doubled[nil] ?? 0),
        ])
        rows.append(["total", String(faults.count), "", String(checks.lostTotal), String(checks.doubledTotal)])
        lines += Self.table(header: header, rows: rows, rightAligned: [1, 2, 3, 4])

        let answered = checks.applied + checks.rejected
        let seconds = max(loadTime.seconds, 1e-9)
        lines.append("")
        lines.append(
            "commands sent: \(sent.model + sent.zed) (\(sent.model) to model tasks, \(sent.zed) to Zed tasks) in "
                + "\(ChaosFaultInjector.format(loadTime)) of load = \(String(format: "%.0f", Double(sent.model + sent.zed) / seconds)) commands/s"
        )
        lines.append(
            "outcomes: \(checks.applied) applied, \(checks.rejected) rejected (\(answered) commands answered once); "
                + "\(redelivered) status events republished under an id already seen (at-least-once relay, "
                + "deduplicated by id)"
        )
        if sent.zed > 0 {
            lines.append(
                "Zed tasks: \(checks.zedDone) done, \(checks.zedFailedAfterRunnerRestart) failed by a heartbeat "
                    + "timeout after their runner was killed"
            )
        }
        let fenced = faults.compactMap(\.fencedBatches).reduce(0, +)
        if faults.contains(where: { $0.kind == .zombie }) {
            lines.append("zombies: \(fenced) stale batches fenced off after SIGCONT")
        }
        lines.append("")
        for check in checks.checks {
            lines.append("\(check.passed ? "ok    " : "FAILED") \(check.name)")
            for problem in check.problems { lines.append("         \(problem)") }
            if check.count > check.problems.count {
                lines.append("         … and \(check.count - check.problems.count) more")
            }
        }
        lines.append("")
        lines.append(
            checks.passed
                ? "chaos campaign passed: 0 commands lost, 0 effects doubled, every check held"
                : "chaos campaign FAILED: \(checks.lostTotal) commands lost, \(checks.doubledTotal) effects doubled, "
                    + "\(checks.checks.filter { !$0.passed }.count) checks failed"
        )
        return lines.joined(separator: "\n")
    }

    /// A Markdown-compatible table: `| a | b |` rows, padded so it also reads well in a terminal.
    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> [String] {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            "| "
                + cells.enumerated().map { column, cell in
                    let padding = String(repeating: " ", count: widths[column] - cell.count)
                    return rightAligned.contains(column) ? padding + cell : cell + padding
                }.joined(separator: " | ") + " |"
        }
        let rule =
            "|"
            + widths.indices.map { column in
                let dashes = String(repeating: "-", count: widths[column])
                return rightAligned.contains(column) ? "-\(dashes):" : "-\(dashes)-"
            }.joined(separator: "|") + "|"
        return [line(header), rule] + rows.map(line)
    }
}
