#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The terminal side of a confirmation prompt (in a file without Foundation, which would hide the
/// `@preconcurrency` import of `stdout`).
enum Prompt {
    /// Whether stdin is a terminal someone can answer on.
    static var canAsk: Bool { isatty(STDIN_FILENO) == 1 }

    /// Prints `question` without a newline and reads one line of answer; `nil` at the end of input.
    static func ask(_ question: String) -> String? {
        print(question, terminator: "")
        fflush(stdout)
        return readLine()
    }
}
