import ArgumentParser
import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

extension RejectedCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List rejected inputs, one line each (or one JSON object each with --json), oldest first.",
            discussion: """
                A line: when it was rejected, the code, where the input was read (<input-topic>:<partition>:<offset>, \
                the selector of `show` and `redrive`), its event id and spec task, its size (truncated: the record \
                holds only its first 64 KiB) and the reason, shortened. --json prints the same as one JSON object per \
                line (members time, code, stage (input: rejected before the rules; rule: by the rules), topic, \
                partition, offset, eventID, specTaskID, key, originalSize, originalSHA256, originalTruncated, reason, \
                record), without the original itself (see `show`). A summary goes to stderr.

                Exit status: 0 when the topic was read, even when no record matches (then nothing is printed); \
                1 when it could not be read (no broker, no such topic); \(RejectedCommand.usageExitCode).
                """
        )

        @Option(
            parsing: .singleValue,
            help: ArgumentHelp(
                "Only records with this code (e.g. malformed_json, oversize, illegal_transition); repeatable.",
                valueName: "code"
            )
        )
        var code: [String] = []

        @Option(
            help: ArgumentHelp(
                "Only inputs read from this topic (e.g. spectask.commands; the prefix may be left out).",
                valueName: "topic"
            )
        )
        var topic: String?

        @Option(
            help: ArgumentHelp(
                "Only records rejected since then: an RFC 3339 time (2026-12-07T10:00:00Z) or a duration back from now "
                    + "(30s, 10m, 2h, 7d).",
                valueName: "time|duration"
            )
        )
        var since: String?

        @Option(help: ArgumentHelp("Print at most the newest N matching records (1…100000).", valueName: "N"))
        var limit: Int = 100

        @Flag(help: "One JSON object per line instead of text.")
        var json = false

        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            try RejectedSource.validate(topicOptions)
            guard (1...100_000).contains(limit) else {
                throw ValidationError("--limit must be 1…100000, got \(limit)")
            }
            for code in code where code.isEmpty || !code.allSatisfy({ $0.isASCII && !$0.isWhitespace }) {
                throw ValidationError("--code '\(code)' can not be a code (ASCII without spaces, e.g. malformed_json)")
            }
            if let topic {
                do {
                    try TopicName.validate(topic)
                } catch {
                    throw ValidationError("--topic: \(error)")
                }
            }
            _ = try sinceDate(now: Date())
        }

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.rejected")
            let source = try RejectedSource(topicOptions: topicOptions, connection: connection, logger: logger)
            let cutoff = try sinceDate(now: Date())
            let codes = Set(code)
            let inputTopics = topic.map { [$0, source.prefix + $0] } ?? []
            var matching: [RejectedReader.Entry] = []
            let summary = try await source.reader.scan { entry in
                let record = entry.record
                // A record without a time can not be shown to be recent enough.
                let recent = cutoff.map { cutoff in entry.time.map { $0 >= cutoff } ?? false } ?? true
                guard codes.isEmpty || codes.contains(record.code),
                    inputTopics.isEmpty || inputTopics.contains(record.topic), recent
                else { return }
                // The list never prints the original; dropping it keeps memory small on a topic of large inputs.
                var listed = entry
                listed.record.originalBase64 = ""
                matching.append(listed)
            }
            matching.sort(by: RejectedSource.inRejectionOrder)
            let shown = matching.suffix(limit)
            for entry in shown {
                if json {
                    print(try RejectedText.json(entry, rejectedTopic: source.topics.rejected))
                } else {
                    print(RejectedText.line(entry))
                }
            }
            if let warning = summary.warning { StandardError.print(warning) }
            StandardError.print(
                "\(matching.count) of \(summary.records) record(s) on \(source.topics.rejected) match"
                    + (matching.count > shown.count ? "; the newest \(shown.count) shown (--limit)" : "")
            )
        }

        /// The earliest rejection time to list, from `--since`; `nil` without it.
        func sinceDate(now: Date) throws -> Date? {
            guard let since else { return nil }
            if let date = RFC3339.date(from: since) { return date }
            do {
                let back = try ServiceEnvironment.duration(
                    since,
                    of: "--since",
                    maximum: ServiceEnvironment.maximumRetention
                )
                return now.addingTimeInterval(-back.seconds)
            } catch {
                throw ValidationError(
                    "--since is '\(since)'; expected an RFC 3339 time such as 2026-12-07T10:00:00Z or a duration "
                        + "back from now such as 30s, 10m, 2h or 7d"
                )
            }
        }
    }
}
