import ArgumentParser
import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain

extension RejectedCommand {
    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a rejected command's original bytes again, with its key, to the topic it came from.",
            discussion: """
                Only a command (read from spectask.commands, with --topic-prefix <prefix>spectask.commands) whose \
                record holds the whole original: not truncated (inputs over 64 KiB can not be redriven; their \
                sender must send them again), with bytes that match the record's size and SHA-256, and with its key \
                and headers (the attributes of a CloudEvent in binary mode) as they were. Zed events \
                are never redriven: their runner token is blanked in the record, so a copy could not authenticate.

                What the workers then do depends on where the input was rejected (`show` says which):
                - Before the rules (malformed_json, not_a_cloud_event, unsupported_spec_version, unknown_type, \
                invalid_subject, schema_violation, unauthenticated): such an input claims no event id in the inbox, \
                so the copy is read afresh. The same bytes are rejected again, with a new record (and a new \
                command_rejected outcome when its id, subject and type can be read), unless what rejected them has \
                changed, e.g. the workers now run a version that knows the command type. Applied then, it is \
                applied once, unless a command with the same event id was applied meanwhile (then it is skipped as \
                a duplicate).
                - By the rules (illegal_transition, conflict, unknown_spec_task and every other code): the command \
                was valid and its event id was claimed in the inbox before the rules ran. Refused without --force. \
                With --force the copy is published, but the workers skip it as a duplicate while the inbox keeps the \
                id (SPECTASK_INBOX_RETENTION, 8 days by default): no outcome, no new record, no change, even when \
                the spec task is in the right state by now. Only a copy read after that is applied, against the \
                state of that moment. To have such a command take effect now, send it with a new id (spectask send).

                Asks for confirmation on a terminal; refuses without --yes when stdin is not one.

                Exit status: 0 when the copy was sent (or you answered no at the prompt: nothing sent); 1 when no \
                record matches, an event id names several different records (select one by position), the record \
                can not be redriven, or sending failed; \(RejectedCommand.usageExitCode).
                """
        )

        @Argument(
            help: ArgumentHelp(
                "<input-topic>:<partition>:<offset> of the rejected input (e.g. spectask.commands:0:42), or its event id.",
                valueName: "selector"
            )
        )
        var selector: String

        @Flag(
            help: ArgumentHelp(
                "Send a command the rules rejected anyway.",
                discussion: "While its event id is in the inbox, the workers skip the copy as a duplicate (see above)."
            )
        )
        var force = false

        @OptionGroup var confirmation: Confirmation

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
            let record = try Self.single(try await source.records(selector), for: selector, in: source)
            let message: RedriveMessage
            switch source.redrive(record, force: force) {
            case .success(let redrive): message = redrive
            case .failure(let refusal):
                throw CLIError(
                    "not redriven: \(refusal.message)" + (refusal.canBeForced ? " (--force sends it anyway)" : "")
                )
            }
            if !confirmation.yes { try Self.confirm(message, of: record) }
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(common: try connection.kafka()),
                logger: logger
            )
            let report = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await producer.run() }
                defer { group.cancelAll() }
                return try await producer.send(
                    KafkaProducerRecord(
                        topic: message.topic,
                        key: message.key.map { Array($0.utf8) },
                        value: message.value,
                        headers: message.headers.map { KafkaHeader(key: $0.key, value: $0.value) }
                    )
                )
            }
            print(
                "sent \(message.value.count) bytes to \(report.topic)[\(report.partition)]@\(report.offset) "
                    + "(key \(message.key.map(RejectedText.printable) ?? "none")): the original of input "
                    + "\(record.topic):\(record.partition):\(record.offset), rejected as \(record.code)"
            )
            print(Self.expectation(for: record))
        }

        /// The one record the selector names; copies of one record (the relay publishes at least once) count once.
        static func single(
            _ entries: [RejectedReader.Entry],
            for selector: RejectedSelector,
            in source: RejectedSource
        ) throws -> RejectedRecord {
            guard let newest = entries.last else { throw source.notFound(selector) }
            let inputs = Set(entries.map { "\($0.record.topic):\($0.record.partition):\($0.record.offset)" })
            let distinct = Set(entries.map(\.record)).count
            guard distinct == 1 else {
                throw CLIError(
                    "\(selector) names \(distinct) different records, of input(s) "
                        + "\(inputs.sorted().joined(separator: ", ")); select one by <input-topic>:<partition>:<offset>"
                )
            }
            return newest.record
        }

        /// What the workers will do with the copy, in a sentence.
        static func expectation(for record: RejectedRecord) -> String {
            switch record.stage {
            case .input:
                "It was rejected before the rules, so the workers read the copy afresh: rejected again with a new "
                    + "record unless what rejected it has changed."
            case .rule:
                "It was rejected by the rules and its event id is in the inbox: the workers skip the copy as a "
                    + "duplicate while the inbox keeps the id (SPECTASK_INBOX_RETENTION)."
            }
        }

        /// Asks on the terminal; throws unless the answer is yes (or when there is no terminal to ask on).
        static func confirm(_ message: RedriveMessage, of record: RejectedRecord) throws {
            let input = "input \(record.topic):\(record.partition):\(record.offset)"
            try Confirmation.ask(
                to: "sending the original of \(input) again",
                question: "Send it?",
                declined: "Nothing sent."
            ) {
                print(
                    "This sends the original of \(input) (\(record.code), event id "
                        + "\(record.eventID.map(RejectedText.printable) ?? "-"), spec task "
                        + "\(record.specTaskID.map(RejectedText.printable) ?? "-")) again:"
                )
                print(
                    "  \(message.value.count) bytes with key \(message.key.map(RejectedText.printable) ?? "(none)") and "
                        + "\(message.headers.count) header(s) to \(message.topic)"
                )
                print(expectation(for: record))
            }
        }
    }
}
