import Foundation

/// Summaries and warnings of commands whose stdout is one line per item for programs.
enum StandardError {
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
