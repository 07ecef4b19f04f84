import ArgumentParser
import Kafka

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of spectask and of the librdkafka it runs with."
    )

    static let spectaskVersion = "0.1.0"

    func run() {
        print("spectask \(Self.spectaskVersion), librdkafka \(KafkaLibrary.version)")
    }
}
