import Foundation
import SpecTaskStore
import Testing

@testable import SpecTaskWorker

@Suite("Topic definitions under topics/")
struct TopicCatalogTests {
    static let topicsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../topics"
    ).standardizedFileURL

    @Test("the repository defines exactly the topics the worker uses, valid and documented")
    func repositoryTopics() throws {
        let definitions = try TopicCatalog.load(from: Self.topicsDirectory)
        #expect(definitions.map(\.name) == TopicNames.all.sorted())
        for definition in definitions {
            #expect(!definition.description.isEmpty)
            #expect(!definition.producers.isEmpty)
            #expect(!definition.consumers.isEmpty)
        }
        let progress = try #require(definitions.first { $0.name == TopicNames.progress })
        #expect(progress.configs["cleanup.policy"] == "compact")
    }

    static let valid =
        #"{"name":"t.x","description":"d","partitions":3,"configs":{"cleanup.policy":"delete"},"key":"k","producers":["p"],"consumers":["c"]}"#

    @Test("a valid definition parses; the prefix and replication override apply")
    func parse() throws {
        let definition = try TopicCatalog.parse(Data(Self.valid.utf8), fileName: "t.x.topic.json")
        #expect(definition.partitions == 3)
        let specification = definition.prefixed("dev.").specification(replicationFactor: 3)
        #expect(specification.name == "dev.t.x")
        #expect(specification.replicationFactor == 3)
        #expect(definition.specification(replicationFactor: nil).replicationFactor == 1)
    }

    @Test(
        "malformed definitions fail with the file and the problem",
        arguments: [
            ("[]", "t.x.topic.json", "not a JSON object"),
            ("{not json", "t.x.topic.json", "not a JSON object"),
            (valid.replacingOccurrences(of: #""key":"k","#, with: ""), "t.x.topic.json", "missing field 'key'"),
            (
                valid.replacingOccurrences(of: #""partitions":3"#, with: #""partitions":"3""#), "t.x.topic.json",
                "field 'partitions' has the wrong type"
            ),
            (
                valid.replacingOccurrences(of: #""partitions":3"#, with: #""partitions":0"#), "t.x.topic.json",
                "partitions is 0"
            ),
            (
                valid.replacingOccurrences(of: #""partitions":3"#, with: #""partitions":3,"replicationFactor":99"#),
                "t.x.topic.json", "replicationFactor is 99"
            ),
            (
                valid.replacingOccurrences(of: #""partitions":3"#, with: #""partitions":3,"retention":"1d""#),
                "t.x.topic.json", "unknown field(s) retention"
            ),
            (
                valid.replacingOccurrences(of: #""t.x""#, with: #""bad name""#), "bad name.topic.json",
                "is not a valid Kafka topic name"
            ),
            (valid, "other.topic.json", "the file must be named t.x.topic.json"),
        ]
    )
    func malformed(json: String, fileName: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try TopicCatalog.parse(Data(json.utf8), fileName: fileName)
        }
        #expect(error?.message.hasPrefix(fileName) == true)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("an empty or missing folder is an error")
    func emptyFolder() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: ConfigurationError.self) { try TopicCatalog.load(from: empty) }
        #expect(throws: ConfigurationError.self) {
            try TopicCatalog.load(from: empty.appendingPathComponent("missing"))
        }
    }
}
