import Foundation
import Kafka
import SpecTaskStore

/// The names of the topics the worker reads and writes. Their definitions live in `topics/*.topic.json`.
public enum TopicNames {
    public static let commands = "spectask.commands"
    public static let zedEvents = "zed.events"
    public static let zedCommands = "zed.commands"
    public static let status = "spectask.status"
    public static let progress = "spectask.progress"
    public static let rejected = "spectask.rejected"

    public static let all = [commands, zedEvents, zedCommands, status, progress, rejected]
}

/// One topic as defined by a file under `topics/`: the public interface of the system.
public struct TopicDefinition: Codable, Sendable, Hashable {
    public var name: String
    public var description: String
    public var partitions: Int32
    /// Omitted in the files: the deployment decides (`spectask topics apply --replication-factor`).
    public var replicationFactor: Int32?
    /// Topic configs (`cleanup.policy`, `retention.ms`, …), passed to the broker as they are.
    public var configs: [String: String]
    /// What the message key is.
    public var key: String
    public var producers: [String]
    public var consumers: [String]

    public func specification(replicationFactor override: Int32?) -> KafkaTopicSpecification {
        KafkaTopicSpecification(
            name: name,
            partitions: partitions,
            replicationFactor: override ?? replicationFactor ?? 1,
            configs: configs
        )
    }
}

/// Reads and validates the topic definitions.
public enum TopicCatalog {
    static let fileSuffix = ".topic.json"
    static let knownFields: Set<String> = [
        "name", "description", "partitions", "replicationFactor", "configs", "key", "producers", "consumers",
    ]

    /// Every `*.topic.json` file of a folder, sorted by topic name.
    /// - Throws: `ConfigurationError` naming the file and what is wrong with it.
    public static func load(from directory: URL) throws -> [TopicDefinition] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
                $0.hasSuffix(fileSuffix)
            }.sorted()
        } catch {
            throw ConfigurationError(
                "cannot read topic definitions from \(directory.path): \(error.localizedDescription)"
            )
        }
        guard !files.isEmpty else { throw ConfigurationError("no *\(fileSuffix) files in \(directory.path)") }
        return try files.map { file in
            try parse(Data(contentsOf: directory.appendingPathComponent(file)), fileName: file)
        }.sorted { $0.name < $1.name }
    }

    /// Parses one definition; the file must be named after the topic.
    public static func parse(_ data: Data, fileName: String) throws -> TopicDefinition {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConfigurationError("\(fileName): not a JSON object")
        }
        let unknown = Set(object.keys).subtracting(knownFields)
        guard unknown.isEmpty else {
            throw ConfigurationError(
                "\(fileName): unknown field(s) \(unknown.sorted().joined(separator: ", ")); allowed: \(knownFields.sorted().joined(separator: ", "))"
            )
        }
        let definition: TopicDefinition
        do {
            definition = try JSONDecoder().decode(TopicDefinition.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ConfigurationError("\(fileName): missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw ConfigurationError(
                "\(fileName): field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
            )
        } catch {
            throw ConfigurationError("\(fileName): \(error)")
        }
        do {
            try TopicName.validate(definition.name)
        } catch let error as KafkaError {
            throw ConfigurationError("\(fileName): \(error.message)")
        }
        guard fileName == definition.name + fileSuffix else {
            throw ConfigurationError(
                "\(fileName): defines topic '\(definition.name)'; the file must be named \(definition.name)\(fileSuffix)"
            )
        }
        guard (1...10_000).contains(definition.partitions) else {
            throw ConfigurationError("\(fileName): partitions is \(definition.partitions); expected 1 to 10000")
        }
        if let factor = definition.replicationFactor, !(1...32).contains(factor) {
            throw ConfigurationError("\(fileName): replicationFactor is \(factor); expected 1 to 32")
        }
        return definition
    }
}

extension TopicDefinition {
    /// The same topic under a prefixed name (see `WorkerSettings.topicPrefix`).
    public func prefixed(_ prefix: String) -> TopicDefinition {
        var copy = self
        copy.name = prefix + name
        return copy
    }
}
