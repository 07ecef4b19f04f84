import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    /// Input meant to break the worker: each must come back as a clean rejection, never a crash or a hang.
    @Suite("Hostile input")
    struct HostileInputTests {
        static let appliedAt = Date(timeIntervalSince1970: 1_750_000_000)

        static func rejection(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> InputRejection? {
            switch CommandDecoder.decode(bytes, appliedAt: appliedAt) {
            case .success(let command):
                Issue.record("expected a rejection, got \(command)", sourceLocation: sourceLocation)
                return nil
            case .failure(let rejection):
                return rejection
            }
        }

        static func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> InputRejection? {
            rejection(Array(text.utf8), sourceLocation: sourceLocation)
        }

        @Test("oversize messages are rejected before parsing, naming both sizes")
        func oversize() throws {
            let rejection = try #require(Self.rejection([UInt8](repeating: UInt8(ascii: "["), count: 300_000)))
            #expect(rejection.code == .oversize)
            #expect(rejection.message == "message of 300000 bytes exceeds the 262144-byte limit")

            let small = try #require(
                CommandDecoder.decode(Array(MessageSamples.commandJSON().utf8), maxBytes: 10, appliedAt: Self.appliedAt)
                    .failure
            )
            #expect(small.message.hasSuffix("exceeds the 10-byte limit"))
        }

        @Test("a 1 MB string is oversize")
        func megabyteString() throws {
            let text = MessageSamples.commandJSON(data: #"{"name":"\#(String(repeating: "a", count: 1_048_576))"}"#)
            #expect(try #require(Self.rejection(text)).code == .oversize)
        }

        @Test("10,000 levels of nesting are rejected cleanly", arguments: ["[", #"{"a":"#])
        func deepNesting(_ opener: String) throws {
            let closer = opener == "[" ? "]" : "}"
            let nested = String(repeating: opener, count: 10_000) + "1" + String(repeating: closer, count: 10_000)
            for text in [
                nested,
                MessageSamples.commandJSON(
                    type: "spectask.command.start_implementation",
                    data: #"{"agentConfig":\#(nested)}"#
                ),
                String(repeating: opener, count: 10_000),
            ] {
                let rejection = try #require(Self.rejection(text))
                #expect(rejection.code == .malformedJSON)
                #expect(
                    rejection.message.contains("JSON nested more than 64 levels deep at byte"),
                    "\(rejection.message)"
                )
            }
        }

        @Test("nesting up to the limit is fine inside free-form configuration")
        func allowedNesting() throws {
            // The message object and `data` are two levels; `agentConfig` may use the other 62.
            let nested = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
            let text = MessageSamples.commandJSON(
                type: "spectask.command.start_implementation",
                data: #"{"agentConfig":\#(nested)}"#
            )
            #expect(throws: Never.self) { try CommandDecoder.decode(Array(text.utf8), appliedAt: Self.appliedAt).get() }
        }

        @Test("raw NUL bytes are malformed JSON")
        func rawNUL() throws {
            var bytes = Array(MessageSamples.commandJSON(data: #"{"name":"AB"}"#).utf8)
            let inString = try #require(bytes.lastIndex(of: UInt8(ascii: "B")))
            bytes[inString] = 0
            let rejection = try #require(Self.rejection(bytes))
            #expect(rejection.code == .malformedJSON)
            #expect(rejection.message.contains("unescaped control character 0x00 in a string at byte \(inString)"))

            let between = try #require(Self.rejection([UInt8](#"{"id":"#.utf8) + [0] + Array(#""e"}"#.utf8)))
            #expect(between.code == .malformedJSON)
            #expect(between.message.contains("unexpected byte 0x00 at byte 6"), "\(between.message)")
        }

        @Test("escaped NUL characters, which PostgreSQL can not store, are schema violations naming the path")
        func escapedNUL() throws {
            let inName = try #require(Self.rejection(MessageSamples.commandJSON(data: #"{"name":"a\u0000b"}"#)))
            #expect(inName.code == .schemaViolation)
            #expect(inName.message == #"data.name contains a NUL character (\u0000), which can not be stored"#)

            let inConfig = try #require(
                Self.rejection(
                    MessageSamples.commandJSON(
                        type: "spectask.command.start_implementation",
                        data: #"{"workspaceConfig":{"env":[{"k\u0000":1}]}}"#
                    )
                )
            )
            #expect(inConfig.message.hasPrefix("a member name in data.workspaceConfig.env[0] contains a NUL"))

            let inID = try #require(
                Self.rejection(
                    #"{"specversion":"1.0","id":"e\u0000","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#
                )
            )
            #expect(inID.code == .schemaViolation)
            #expect(inID.message.hasPrefix("id contains a NUL character"))
            #expect(inID.eventID == nil)
        }

        static let invalidUTF8: [(String, [UInt8])] = [
            ("a lone continuation byte", [0x80]),
            ("a truncated two-byte sequence", [0xC3, 0x28]),
            ("an overlong encoding of '/'", [0xC0, 0xAF]),
            ("an encoded UTF-16 surrogate", [0xED, 0xA0, 0x80]),
            ("a code point above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("0xFF", [0xFF]),
        ]

        @Test("invalid UTF-8 inside a string is malformed JSON", arguments: invalidUTF8)
        func invalidUTF8InString(_ name: String, _ sequence: [UInt8]) throws {
            let bytes = Array(#"{"specversion":"1.0","id":"e"#.utf8) + sequence + Array(#"","source":"s"}"#.utf8)
            let rejection = try #require(Self.rejection(bytes))
            #expect(rejection.code == .malformedJSON, "\(name)")
            #expect(rejection.message.contains("invalid UTF-8"), "\(name): \(rejection.message)")
            #expect(rejection.message.contains("at byte 28"), "\(name): \(rejection.message)")
        }

        @Test("invalid UTF-8 outside strings, unpaired surrogate escapes and out-of-range numbers are malformed JSON")
        func otherMalformed() throws {
            let cases: [([UInt8], String)] = [
                ([0xFF, 0xFE, 0x7B, 0x7D], "unexpected byte 0xFF at byte 0"),
                ([0xEF, 0xBB, 0xBF] + Array("{}".utf8), "unexpected byte 0xEF at byte 0"),
                (Array(#"{"id":"\ud800"}"#.utf8), "unpaired UTF-16 surrogate escape at byte 7"),
                (Array(#"{"id":"\udc00\ud800"}"#.utf8), "unpaired UTF-16 surrogate escape at byte 7"),
                (Array(#"{"id":"\x"}"#.utf8), #"invalid escape '\x' at byte 7"#),
                (Array(#"{"n":1e999}"#.utf8), "number '1e999' at byte 5 is out of range"),
                (Array(#"{"n":01}"#.utf8), "expected ',' or '}' in an object, found '1' at byte 6"),
                (Array(#"{"n":-}"#.utf8), "invalid number: expected a digit, found '}' at byte 6"),
                (Array(#"{"n":tru}"#.utf8), "unexpected 't' at byte 5"),
                (Array(#"{"n":"abc"#.utf8), "unterminated string starting at byte 5"),
                (Array("   ".utf8), "the message holds only whitespace"),
            ]
            for (bytes, message) in cases {
                let rejection = try #require(Self.rejection(bytes))
                #expect(rejection.code == .malformedJSON)
                #expect(rejection.message.contains(message), "\(rejection.message)")
            }
        }

        @Test("valid escapes and non-ASCII text decode exactly")
        func escapes() throws {
            let text = MessageSamples.commandJSON(data: #"{"name":"\"q\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 ü 日本"}"#)
            let decoded = try CommandDecoder.decode(Array(text.utf8), appliedAt: Self.appliedAt).get()
            #expect(decoded.command == .create(CreateSpecTask(name: "\"q\" \\ / \u{8}\u{C}\n\r\t é 😀 ü 日本")))
        }

        @Test("every truncation of a valid message is rejected, without a crash")
        func truncations() throws {
            let bytes = CommandEncoder.encode(
                id: "e-1",
                specTaskID: MessageSamples.specTaskID,
                source: "tests",
                command: MessageSamples.commands[5]
            )
            for length in 0..<bytes.count {
                #expect(CommandDecoder.decode(Array(bytes[..<length]), appliedAt: Self.appliedAt).failure != nil)
            }
        }

        @Test("every truncation of a valid Zed event is rejected, without a crash")
        func zedEventTruncations() throws {
            let heartbeat = try #require(MessageSamples.zedEvents.first { $0.name == "heartbeat" })
            let bytes = CommandEncoder.encode(
                id: "e-1",
                specTaskID: MessageSamples.specTaskID,
                source: "zed-runner",
                event: heartbeat,
                runnerToken: MessageSamples.runnerToken
            )
            #expect(throws: Never.self) {
                try CommandDecoder.decode(bytes, appliedAt: Self.appliedAt, family: .zedEvents).get()
            }
            for length in 0..<bytes.count {
                let truncated = Array(bytes[..<length])
                #expect(CommandDecoder.decode(truncated, appliedAt: Self.appliedAt, family: .zedEvents).failure != nil)
            }
        }

        @Test("random corruption of valid messages never crashes")
        func corruption() {
            let messages = MessageSamples.commands.map {
                CommandEncoder.encode(id: "e", specTaskID: MessageSamples.specTaskID, source: "tests", command: $0)
            }
            let rejected = Self.corrupt(messages, seed: 0x5EC7_A5C, family: .commands)
            #expect(rejected > 1000)
        }

        @Test("random corruption of valid Zed events never crashes")
        func zedEventCorruption() {
            let messages = MessageSamples.zedEvents.map {
                CommandEncoder.encode(
                    id: "e",
                    specTaskID: MessageSamples.specTaskID,
                    source: "zed-runner",
                    event: $0,
                    runnerToken: MessageSamples.runnerToken
                )
            }
            let rejected = Self.corrupt(messages, seed: 0x2ED_E7E, family: .zedEvents)
            #expect(rejected > 1000)
        }

        /// Decodes 3000 copies of the messages, each with up to four random bytes overwritten.
        ///
        /// - Returns: How many were rejected (each rejection must say why).
        static func corrupt(_ messages: [[UInt8]], seed: UInt64, family: CommandDecoder.InputFamily) -> Int {
            var generator = SplitMix64(seed: seed)
            var rejected = 0
            for _ in 0..<3000 {
                var bytes = messages[Int(generator.next() % UInt64(messages.count))]
                for _ in 0...(generator.next() % 4) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
                if case .failure(let rejection) = CommandDecoder.decode(bytes, appliedAt: appliedAt, family: family) {
                    rejected += 1
                    #expect(!rejection.message.isEmpty)
                }
            }
            return rejected
        }
    }
}

/// A small deterministic generator, so a failing corruption case reproduces.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

extension Result {
    /// The error, or `nil` on success.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
