import Foundation
import Testing

@testable import SpecTaskContract
@testable import SpecTaskDomain

extension MessagesTests {
    /// `SortedJSONEncoder` writes exactly what Foundation's `JSONEncoder` writes in the same configuration: the
    /// outputs of the system keep their bytes, only faster.
    @Suite("SortedJSONEncoder")
    struct SortedJSONEncoderTests {
        /// The documents' configuration (slashes escaped, non-finite numbers refused, ISO 8601 dates).
        static let documents = SortedJSONEncoder(
            dateString: { $0.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) },
            escapesSlashes: true,
            nonConformingFloats: nil
        )
        static func foundationDocuments() -> JSONEncoder {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            }
            return encoder
        }

        /// Both configurations give Foundation's bytes for `value`.
        func expectSameBytes<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let message = MessageJSON.encode(value)
            let foundationMessage = Array(try MessageJSON.foundationEncoder().encode(value))
            #expect(
                String(decoding: message, as: UTF8.self) == String(decoding: foundationMessage, as: UTF8.self),
                sourceLocation: sourceLocation
            )
            let document = try Self.documents.encode(value)
            let foundationDocument = Array(try Self.foundationDocuments().encode(value))
            #expect(
                String(decoding: document, as: UTF8.self) == String(decoding: foundationDocument, as: UTF8.self),
                sourceLocation: sourceLocation
            )
        }

        /// `payload` in a CloudEvent envelope, as the system writes it.
        func expectSameEnvelope(
            _ type: String,
            _ payload: some Encodable,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            try expectSameBytes(
                TypedCloudEvent(attributes: Self.attributes(type), payload: payload),
                sourceLocation: sourceLocation
            )
        }

        @Test("every output message: status events, Zed commands, the progress snapshot, the rejected record")
        func outputs() throws {
            for event in MessageSamples.statusEvents {
                try expectSameEnvelope(event.type, event.payload)
            }
            for command in MessageSamples.zedCommands {
                try expectSameEnvelope(command.type, command.payload)
            }
            try expectSameEnvelope("p", MessageSamples.progress)
            try expectSameEnvelope("r", MessageSamples.rejected)
        }

        @Test("every input message, fully and minimally filled, and the entities of the stored state")
        func inputsAndEntities() throws {
            for command in MessageSamples.commands + MessageSamples.minimalCommands {
                try expectSameEnvelope(command.type, command.payload)
            }
            for event in MessageSamples.zedEvents + MessageSamples.minimalZedEvents {
                try expectSameEnvelope(event.type, event.payload)
            }
            try expectSameBytes(MessageSamples.specTask)
            try expectSameBytes([MessageSamples.workSession])
            try expectSameBytes(MessageSamples.zedThread)
            try expectSameBytes(MessageSamples.implementationTask)
            try expectSameBytes(MessageSamples.zedInstance)
            try expectSameBytes(MessageSamples.workspaceConfig)
        }

        @Test("hostile strings and keys: quotes, backslashes, slashes, every control character, non-ASCII, emoji")
        func strings() throws {
            let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
            let texts = [
                "", "plain", "quote \" backslash \\ slash / end", controls, "tab\there\r\n", "é ü ñ 中文 🚀",
                "\u{7F}\u{80}\u{2028}\u{2029}\u{FEFF}", "</script><script>alert(1)</script>",
            ]
            try expectSameBytes(texts)
            var object: [String: String] = [:]
            for text in texts { object[text] = text }
            try expectSameBytes(object)
            try expectSameBytes(JSONValue.object(object.mapValues(JSONValue.string)))
        }

        @Test("keys in JSONEncoder's order: case, digits, prefixes, non-ASCII")
        func keyOrder() throws {
            let keys = [
                "b", "a", "B", "A", "a10", "a9", "a1", "ab", "a", "_x", "Zed", "zed", "id", "ID", "Id", "é", "e",
                "z", "10", "9", "", " ", "specTaskId", "specTaskID", "spec_task_id",
            ]
            try expectSameBytes(Dictionary(keys.map { ($0, 1) }, uniquingKeysWith: { a, _ in a }))
        }

        @Test("numbers: integers of every width, doubles with and without fractions, exponents, zero signs")
        func numbers() throws {
            try expectSameBytes([Int.min, -1, 0, 1, Int.max])
            try expectSameBytes([UInt64.max])
            try expectSameBytes([Int8.min, Int8.max])
            let doubles: [Double] = [
                0, -0.0, 1, -1, 0.1, 0.25, 100, 1e21, 1e22, 1.5e300, 5e-324, 1e-7, 123456789.125,
                Double.greatestFiniteMagnitude, 3000, 8080.5,
            ]
            try expectSameBytes(doubles)
            try expectSameBytes([Float(0.1), Float(2), Float(1e30)])
            try expectSameBytes([true, false])
            try expectSameBytes([String?.none, "x"])
        }

        @Test("non-finite numbers: strings in the messages' configuration, an error in the documents'")
        func nonFinite() throws {
            let values = [Double.nan, .infinity, -.infinity]
            #expect(String(decoding: MessageJSON.encode(values), as: UTF8.self) == #"["NaN","Infinity","-Infinity"]"#)
            #expect(throws: EncodingError.self) { try Self.documents.encode(values) }
        }

        @Test("dates at any depth, empty values, nested arrays and objects, a repeated key (the last one wins)")
        func shapes() throws {
            let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_740_830_400.125)]
            try expectSameBytes(dates)
            try expectSameBytes(["when": dates])
            try expectSameBytes([[Int]]())
            try expectSameBytes([[1], [], [2, 3]])
            try expectSameBytes([String: [String: Int]]())
            try expectSameBytes(["a": ["c": 1, "b": 2], "": [:]])
            try expectSameBytes(Empty())
            try expectSameBytes([Empty(), Empty()])
            try expectSameBytes(Repeated())
            try expectSameBytes(Wrapper(inner: Repeated(), list: [Empty()], date: dates[1]))
        }

        struct Empty: Encodable {}

        struct Repeated: Encodable {
            enum Key: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(1, forKey: .b)
                try container.encode("first", forKey: .a)
                try container.encode("second", forKey: .a)
            }
        }

        struct Wrapper: Encodable {
            var inner: Repeated
            var list: [Empty]
            var date: Date
        }

        static func attributes(_ type: String) -> CloudEvent {
            CloudEvent(
                id: "st-1.0.7.1",
                source: "spectask-worker",
                type: type,
                subject: "st-1",
                time: "2025-03-01T12:00:00.250000Z",
                datacontenttype: "application/json",
                correlationid: "cmd-1",
                spectasksequence: 7
            )
        }
    }
}
