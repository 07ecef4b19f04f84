import Foundation
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import Testing

@testable import SpecTaskWorker

@Suite("The AsyncAPI document (topics/asyncapi.yaml)")
struct AsyncAPIDocumentTests {
    static let topicsDirectory = TopicCatalogTests.topicsDirectory

    @Test("the checked-in document is what `spectask topics asyncapi` generates (regenerate it when this fails)")
    func checkedInIsCurrent() throws {
        let generated = try AsyncAPIDocument.make(topicsDirectory: Self.topicsDirectory, version: "0.1.0").text
        let checkedIn = try String(
            contentsOf: Self.topicsDirectory.appendingPathComponent("asyncapi.yaml"),
            encoding: .utf8
        )
        #expect(
            generated == checkedIn,
            "topics/asyncapi.yaml is stale: run `.build/debug/spectask topics asyncapi --output topics/asyncapi.yaml`"
        )
    }

    @Test("every message type the code knows is a message of its topic's channel, with its schema by $ref")
    func everyTypeListed() throws {
        let text = try AsyncAPIDocument.make(topicsDirectory: Self.topicsDirectory, version: "9.9.9").text
        let types = TopicNames.all.flatMap { AsyncAPIDocument.messageTypes(ofTopic: $0) }
        #expect(
            types.count == SpecTaskCommand.names.count + ZedEvent.names.count + ZedCommand.names.count
                + StatusEvent.names.count + 2
        )
        for type in types {
            #expect(text.contains("      name: \(type)\n"), "\(type)")
            #expect(text.contains("\"$ref\": schemas/\(type).schema.json\n"), "\(type)")
        }
        #expect(text.contains("  version: \"9.9.9\"\n"))
        #expect(AsyncAPIDocument.messageTypes(ofTopic: "other.topic").isEmpty)
    }

    @Test("a topics folder with a topic the system does not have, or a type without a schema, is refused")
    func refusesUnknown() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("asyncapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let status = try Data(contentsOf: Self.topicsDirectory.appendingPathComponent("spectask.status.topic.json"))
        try status.write(to: folder.appendingPathComponent("spectask.status.topic.json"))
        let noSchema = #expect(throws: ConfigurationError.self) {
            try AsyncAPIDocument.make(topicsDirectory: folder, version: "1")
        }
        #expect(noSchema?.message.contains("has no readable schema") == true)

        let other =
            #"{"name":"other.topic","description":"d","partitions":1,"configs":{},"key":"k","producers":["p"],"consumers":["c"]}"#
        try Data(other.utf8).write(to: folder.appendingPathComponent("other.topic.topic.json"))
        let unknown = #expect(throws: ConfigurationError.self) {
            try AsyncAPIDocument.make(topicsDirectory: folder, version: "1")
        }
        #expect(unknown?.message.contains("other.topic is not one of the system's topics") == true)
    }

    @Test(
        "strings that YAML would read as something else are double-quoted with JSON escapes",
        arguments: [
            ("plain text", "plain text"), ("true", #""true""#), ("No", #""No""#), ("~", #""~""#),
            ("3.0.0", #""3.0.0""#), ("-dash", #""-dash""#), ("a: b", #""a: b""#), ("a #b", #""a #b""#),
            ("line\nbreak", #""line\nbreak""#), ("say \"hi\"", #""say \"hi\"""#), ("back\\slash", #""back\\slash""#),
            ("", #""""#), ("trailing ", #""trailing ""#), ("$ref", #""$ref""#), ("bell\u{7}", #""bell\u0007""#),
            ("del\u{7F}", #""del\x7F""#),
            ("application/cloudevents+json; charset=utf-8", "application/cloudevents+json; charset=utf-8"),
            ("[list]", #""[list]""#), ("{map}", #""{map}""#), ("*alias", #""*alias""#), ("&anchor", #""&anchor""#),
        ]
    )
    func quoting(text: String, expected: String) {
        #expect(YAMLValue.quotedIfNeeded(text) == expected)
    }

    @Test("nested maps and lists are written in block style, empty ones in flow style")
    func blockStyle() {
        let value = YAMLValue.map([
            ("a", .integer(1)),
            ("b", .list([.string("x"), .map([("c", .boolean(true)), ("d", .list([]))])])),
            ("e", .map([])),
        ])
        #expect(value.text == "a: 1\nb:\n  - x\n  - c: true\n    d: []\ne: {}\n")
    }
}
