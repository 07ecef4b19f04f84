import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    @Suite("Runner token redaction")
    struct RunnerTokenRedactionTests {
        static let token = String(repeating: "ab12", count: 16)

        @Test("the token of an encoded Zed event is blanked; everything else stays byte for byte")
        func encodedEvent() throws {
            let bytes = CommandEncoder.encode(
                id: "e-1",
                specTaskID: "st-1",
                source: "runner",
                event: .instanceReady(ZedInstanceReady(instanceID: "zi-1")),
                runnerToken: Self.token
            )
            let redacted = RunnerTokenRedaction.redact(bytes)
            #expect(redacted.count == bytes.count)
            let text = String(decoding: redacted, as: UTF8.self)
            #expect(!text.contains(Self.token))
            #expect(text.contains(#""runnertoken":"\#(String(repeating: "*", count: 64))""#))
            #expect(
                text.replacingOccurrences(of: String(repeating: "*", count: 64), with: Self.token).utf8.elementsEqual(
                    bytes
                )
            )
            // Still the same event, now with a token that authenticates nothing.
            let decoded = try CommandDecoder.decode(redacted, appliedAt: Date(), family: .zedEvents).get()
            #expect(decoded.runnerToken == String(repeating: "*", count: 64))
        }

        @Test(
            "spacing, escapes, several occurrences and broken JSON are redacted too",
            arguments: [
                (#"{"runnertoken" :  "secret"}"#, #"{"runnertoken" :  "******"}"#),
                (#"{"runnertoken":"se\"cret"}"#, #"{"runnertoken":"********"}"#),
                (#"[{"runnertoken":"a"},{"runnertoken":"bb"}]"#, #"[{"runnertoken":"*"},{"runnertoken":"**"}]"#),
                (#"{"id":"x","runnertoken":"trunc"#, #"{"id":"x","runnertoken":"*****"#),
                (#"{"runnertoken":12,"a":"runnertoken"}"#, #"{"runnertoken":12,"a":"runnertoken"}"#),
                (#"{"runnertoken""#, #"{"runnertoken""#),
                ("", ""),
            ]
        )
        func variants(original: String, expected: String) {
            #expect(String(decoding: RunnerTokenRedaction.redact(Array(original.utf8)), as: UTF8.self) == expected)
        }
    }

    @Suite("Reserved ids")
    struct ReservedIDTests {
        @Test("command ids may not start with zed: (the worker scopes Zed event ids with it); Zed event ids may")
        func reservedPrefix() throws {
            let command = CommandEncoder.encode(
                id: "zed:5:zi-1:e",
                specTaskID: "st-1",
                source: "tests",
                command: .startPlanning(StartPlanning())
            )
            let rejection = try #require(
                CommandDecoder.decode(command, appliedAt: Date()).failure
            )
            #expect(rejection.code == .schemaViolation)
            #expect(rejection.message.contains("reserved for Zed events"))
            let event = CommandEncoder.encode(
                id: "zed:anything",
                specTaskID: "st-1",
                source: "runner",
                event: .instanceReady(ZedInstanceReady(instanceID: "zi-1")),
                runnerToken: "t"
            )
            #expect((try? CommandDecoder.decode(event, appliedAt: Date(), family: .zedEvents).get()) != nil)
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
