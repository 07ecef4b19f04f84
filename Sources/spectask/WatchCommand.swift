import ArgumentParser
import Foundation
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

#if canImport(Glibc)
import Glibc
#endif

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow status and progress live, with a progress bar per work session.",
        discussion:
            "In a terminal the progress of the watched tasks is redrawn in place above the latest events; piped, one line per event."
    )

    @Argument(help: ArgumentHelp("Only this spec task (default: all).", valueName: "task"))
    var task: String?

    @Flag(help: "Start from the beginning of the topics instead of now.")
    var fromBeginning = false

    @Flag(help: "Exit 0 once the watched task reaches implementation_review, done or cancelled.")
    var untilFinished = false

    @OptionGroup var topicOptions: TopicOptions

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.watch")
        let prefix = try topicOptions.prefix()
        let topics = WorkerTopics(prefix: prefix)
        let follower = try await StatusFollower.start(
            kafka: try connection.kafka(),
            topics: [topics.status, topics.progress],
            fromBeginning: fromBeginning,
            logger: logger
        )
        let interactive = isatty(STDOUT_FILENO) == 1
        var screen = WatchScreen()
        if !interactive {
            print("watching \(task ?? "all spec tasks") on \(topics.status) and \(topics.progress) (Ctrl-C to stop)")
        }
        while !Task.isCancelled {
            let messages = try await follower.next()
            for message in messages where task == nil || message.event.subject == task {
                if message.event.type == EventEncoder.progressType {
                    guard let (_, snapshot) = try? EventDecoder.decodeProgress(message.raw.value) else { continue }
                    screen.progress[snapshot.specTaskID] = snapshot
                } else if let status = message.status {
                    let line = WatchScreen.describe(status, event: message.event)
                    screen.append(line)
                    if !interactive { print(line) }
                    if untilFinished, case .specTaskChanged(let change) = status,
                        [.implementationReview, .done, .cancelled].contains(change.to)
                    {
                        if interactive { print(screen.render()) }
                        await follower.close()
                        return
                    }
                }
            }
            if interactive, !messages.isEmpty { print("\u{1B}[H\u{1B}[2J" + screen.render(), terminator: "") }
        }
        await follower.close()
    }
}

/// What `spectask watch` shows: the latest progress of each task and the last events.
struct WatchScreen {
    var progress: [String: ProgressSnapshot] = [:]
    private(set) var events: [String] = []

    mutating func append(_ line: String) {
        events.append(line)
        if events.count > 12 { events.removeFirst(events.count - 12) }
    }

    func render() -> String {
        var lines: [String] = []
        for (id, snapshot) in progress.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "\(id)  \(snapshot.specTaskStatus?.rawValue ?? "")  \(OverviewText.bar(snapshot.overallPercent)) \(snapshot.overallPercent)%"
                    + "  tokens \(snapshot.usage.tokens), cost \(Budget.dollars(snapshot.usage.costMicros))"
            )
            for session in snapshot.workSessions {
                lines.append(
                    "    \(OverviewText.pad(session.workSessionID, 28)) \(OverviewText.pad(session.status.rawValue, 10)) \(OverviewText.bar(session.percent)) \(session.percent)%"
                )
            }
        }
        lines.append("")
        lines += events
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line per status event, e.g. `12:00:01 auth-1 #7 work session ws-1: pending → active`.
    static func describe(_ status: StatusEvent, event: CloudEvent) -> String {
        let time = event.date.map { $0.formatted(date: .omitted, time: .standard) } ?? ""
        let head = "\(time) \(event.subject ?? "") #\(event.spectasksequence ?? 0)"
        func arrow(_ from: String?, _ to: String) -> String {
            from.map { $0 == to ? to : "\($0) → \(to)" } ?? "created (\(to))"
        }
        switch status {
        case .commandApplied(let outcome): return "\(head) applied \(outcome.commandType) \(outcome.commandID)"
        case .commandRejected(let outcome):
            return "\(head) REJECTED \(outcome.commandType) \(outcome.commandID): \(outcome.reason ?? "")"
        case .specTaskChanged(let change):
            return
                "\(head) spec task: \(arrow(change.from?.rawValue, change.to.rawValue))\(change.reason.map { " (\($0))" } ?? "")"
        case .workSessionChanged(let change):
            return "\(head) work session \(change.workSession.id): \(arrow(change.from?.rawValue, change.to.rawValue))"
        case .zedThreadChanged(let change):
            return "\(head) Zed thread \(change.zedThread.id): \(arrow(change.from?.rawValue, change.to.rawValue))"
        case .implementationTaskChanged(let change):
            return
                "\(head) implementation task \(change.implementationTask.index): \(arrow(change.from?.rawValue, change.to.rawValue))"
        case .zedInstanceChanged(let change):
            return "\(head) Zed instance \(change.zedInstance.id): \(arrow(change.from?.rawValue, change.to.rawValue))"
        case .sharedContextChanged(let change):
            return "\(head) shared context \(change.key) \(change.value == nil ? "cleared" : "set")"
        case .pathClaimChanged(let change):
            let claim = change.pathClaim
            return
                "\(head) path claim \(claim.id) of work session \(claim.workSessionID) (\(claim.paths.joined(separator: ", "))): \(arrow(change.from?.rawValue, change.to.rawValue))\(change.reason.map { " (\($0))" } ?? "")"
        }
    }
}
