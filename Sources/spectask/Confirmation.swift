import ArgumentParser
import Foundation

/// `-y/--yes`, and the question asked without it, for the commands that change what is stored or published
/// (`offsets reset`, `rejected redrive`, `outbox redrive-dead-letter`).
struct Confirmation: ParsableArguments {
    @Flag(
        name: [.customShort("y"), .long],
        help: ArgumentHelp(
            "Do not ask for confirmation.",
            discussion: "Without it, the command asks on a terminal, and refuses when stdin is not one."
        )
    )
    var yes = false

    /// Asks on the terminal whether to go on, after `explain` printed what would happen.
    /// - Parameters:
    ///   - action: What needs the confirmation, for the refusal when there is no terminal ("the reset of 3
    ///     partition(s)").
    ///   - question: The question, answered with y or yes ("Reset 3 partition(s)?").
    ///   - declined: What is printed when the answer is anything else ("Nothing reset.").
    /// - Throws: ``NotConfirmed`` when stdin is not a terminal; a clean exit with `declined` unless the answer is yes.
    static func ask(to action: String, question: String, declined: String, explain: () -> Void) throws {
        guard Prompt.canAsk else {
            throw NotConfirmed("stdin is not a terminal, so there is no one to confirm \(action); pass --yes")
        }
        explain()
        let answer = Prompt.ask("\(question) [y/N] ")?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard ["y", "yes"].contains(answer) else { throw CleanExit.message(declined) }
    }
}

/// A change that needs a confirmation nobody could give.
struct NotConfirmed: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
