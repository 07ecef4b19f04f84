import ArgumentParser
import Foundation

extension RejectedCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one rejected input in full: the reason, the key, the original, what a redrive would do.",
            discussion: """
                The original is printed as UTF-8 text when it is that (control characters escaped as \\u{…}), \
                else as base64; a truncated one only as far as the record holds it. An event id may name several \
                records (the same input sent or redriven again): each is printed, oldest first. --json prints each as \
                one JSON object per line, with originalHeaders, originalBase64, originalText (when UTF-8) and redrive (possible, or \
                the refusal and whether --force lifts it).

                Exit status: 0 when a record was found and printed; 1 when none matches, or the topic could not be \
                read; \(RejectedCommand.usageExitCode).
                """
        )

        @Argument(
            help: ArgumentHelp(
                "<input-topic>:<partition>:<offset> of the rejected input (e.g. spectask.commands:0:42), or its event id.",
                valueName: "selector"
            )
        )
        var selector: String

        @Flag(help: "Print the record as a JSON object.")
        var json = false

        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            _ = try RejectedSelector(parsing: selector)
            try RejectedSource.validate(topicOptions)
        }

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.rejected")
            let selector = try RejectedSelector(parsing: self.selector)
            let source = try RejectedSource(topicOptions: topicOptions, connection: connection, logger: logger)
            let entries = try await source.records(selector)
            guard !entries.isEmpty else { throw source.notFound(selector) }
            for (index, entry) in entries.enumerated() {
                let redrive = source.redrive(entry.record, force: false)
                if json {
                    print(
                        try RejectedText.json(entry, rejectedTopic: source.topics.rejected, redrive: redrive)
                    )
                } else {
                    if index > 0 { print("") }
                    print(RejectedText.details(entry, rejectedTopic: source.topics.rejected, redrive: redrive))
                }
            }
            if entries.count > 1 {
                StandardError.print("\(entries.count) records are for \(selector)")
            }
        }
    }
}
