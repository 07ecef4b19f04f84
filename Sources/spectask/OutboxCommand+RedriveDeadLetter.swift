import ArgumentParser
import Foundation
import SpecTaskStore

extension OutboxCommand {
    struct RedriveDeadLetter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "redrive-dead-letter",
            abstract: "Move a dead letter back into the outbox, for the workers to publish again.",
            discussion: """
                Only worth it once the reason it was refused may have passed: the broker's limit raised \
                (message.max.bytes, or the topic's max.message.bytes, for MSG_SIZE_TOO_LARGE), the topic created or \
                its name fixed, the producer's ACL granted. Otherwise the relay refuses it again and sets it aside \
                again, under the same id (no harm done). It keeps its id and goes out before the later rows of its \
                outbox shard, but after the messages its spec task published since it was set aside: consumers \
                that order by the per-task sequence see it late. The workers' relays pick it up within a second; \
                until then `spectask outbox status` counts it.

                Asks for confirmation on a terminal; refuses without --yes when stdin is not one.

                Exit status: 0 when it was moved (or you answered no at the prompt: nothing moved); 1 when there \
                is no dead letter with this id, or the database could not be read or is not migrated; \
                \(OutboxCommand.usageExitCode).
                """
        )

        @Argument(
            help: ArgumentHelp("The dead letter's id (spectask outbox dead-letters lists them).", valueName: "id")
        )
        var id: Int64

        @OptionGroup var confirmation: Confirmation

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard id >= 1 else { throw ValidationError("the id must be a positive number, got \(id)") }
        }

        func run() async throws {
            let logger = try logging.bootstrap(label: "spectask.outbox")
            let (id, confirmed) = (self.id, confirmation.yes)
            let moved = try await OutboxCommand.withOutbox(connection, logger: logger) { admin, client in
                guard let row = try await admin.deadLetter(id: id, client: client) else {
                    throw CLIError("there is no dead letter with id \(id); spectask outbox dead-letters lists them")
                }
                if !confirmed { try Self.confirm(row) }
                return try await admin.redriveDeadLetter(id: id, client: client)
            }
            // Gone between the look and the move: another operator moved it, or retention pruned it.
            guard let moved else { throw CLIError("dead letter \(id) disappeared before it could be moved") }
            print(
                "moved dead letter \(moved.id) (\(moved.size) bytes for \(moved.topic), refused with \(moved.code)) "
                    + "back into the outbox; the workers publish it within a second, or set it aside again if the "
                    + "broker still refuses it"
            )
        }

        /// Asks on the terminal; throws unless the answer is yes (or when there is no terminal to ask on).
        static func confirm(_ row: OutboxAdmin.DeadLetterRow) throws {
            let letter = row.letter
            try Confirmation.ask(
                to: "moving dead letter \(letter.id) back into the outbox",
                question: "Move it back into the outbox?",
                declined: "Nothing moved."
            ) {
                print(
                    "Dead letter \(letter.id): \(letter.size) bytes for \(letter.topic), key "
                        + "\(letter.key.map(RejectedText.printable) ?? "(none)"), set aside "
                        + "\(RejectedText.secondsTime(row.deadAt)):"
                )
                print("  \(RejectedText.printable("\(letter.code): \(letter.reason)"))")
                print("The relay refuses it again unless what refused it has changed.")
            }
        }
    }
}
