import Foundation

/// Validates messages against the JSON Schemas in `topics/schemas` with `scripts/check-json-schema` (the Python
/// `jsonschema` package, a validator of its own, rather than our reading of the schemas).
public enum SchemaCheck {
    public struct Outcome: Sendable {
        /// 0 when every message is valid, 1 when some are not.
        public var status: Int32
        /// One line per failure.
        public var output: String
        public var errors: String
    }

    /// The checker exited 2: it could not run (no `jsonschema`: `scripts/install` installs it).
    public struct Unavailable: Error, CustomStringConvertible {
        public var errors: String
        public var description: String { "scripts/check-json-schema could not run: \(errors)" }
    }

    /// Validates each message against the named schema file (a name in `topics/schemas`).
    public static func run(_ messages: [(schema: String, message: [UInt8])]) async throws -> Outcome {
        var lines = ""
        for (schema, message) in messages {
            // A raw line break in valid JSON can only be whitespace, so flattening keeps one message per line.
            let instance = String(decoding: message.map { $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
            lines += #"{"schema":"\#(schema)","instance":\#(instance)}"# + "\n"
        }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent(
            "check-json-schema-\(UUID().uuidString).jsonl"
        )
        try Data(lines.utf8).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }

        let run = try await ChildProcess.run(Repository.path("scripts/check-json-schema"), input: input)
        if run.status == 2 { throw Unavailable(errors: run.stderr) }
        return Outcome(status: run.status, output: run.stdout, errors: run.stderr)
    }
}

/// The repository holding these tests.
public enum Repository {
    /// Found from this file upwards (symlinks resolved, so a scratch package whose sources link here finds it too).
    public static let root: URL = {
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        var directory = here
        while directory.pathComponents.count > 1 {
            let checker = directory.appendingPathComponent("scripts/check-json-schema")
            if FileManager.default.fileExists(atPath: checker.path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return here.deletingLastPathComponent().deletingLastPathComponent()
    }()

    public static func path(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}
