import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// The CloudEvents Kafka protocol binding, end to end: commands in both content modes from the official CloudEvents
/// Python SDK, and every output read back with it (`Interop/cloudevents_interop.py`).
///
/// Needs python3 with `cloudevents` 2.2.0 and `confluent-kafka` (`scripts/deps` installs them); fails, never skips,
/// when they are missing.
@Suite("CloudEvents interop", .serialized)
struct CloudEventsInteropTests {
    @Test("the CloudEvents Python SDK sends structured and binary commands and reads every output")
    func pythonSDK() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }

        let script = WorkerProcessTests.repositoryPath("Tests/IntegrationTests/Interop/cloudevents_interop.py")
        let (status, output) = try await CheckoutLocationTests.run(
            ["python3", script, "--bootstrap-servers", TestEnvironment.bootstrapServers, "--prefix", system.prefix],
            environment: ProcessInfo.processInfo.environment,
            in: URL(fileURLWithPath: WorkerProcessTests.repositoryPath(".")),
            timeout: .seconds(180)
        )
        #expect(status != 2, "python3 can not run the interop script (scripts/deps installs what it needs):\n\(output)")
        #expect(status == 0, "the CloudEvents Python SDK interop checks failed:\n\(output)")
        #expect(output.contains("every check passed"), "\(output)")

        // The same records as this process read them (its listeners may trail the script's consumer under load, so
        // the records the script read are waited for): every one carries the binding's headers.
        _ = try await system.rejected.wait(timeout: .seconds(60), "a rejected record") { _ in true }
        _ = try await system.zedCommands.wait(timeout: .seconds(60), "a Zed command") { _ in true }
        for listener in [system.status, system.progress, system.zedCommands, system.rejected] {
            for message in listener.messages {
                let headers = Dictionary(
                    message.raw.headers.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) }) }
                ) { first, _ in first }
                let what = "\(message.raw.topic)@\(message.raw.offset)"
                #expect(headers["content-type"] == KafkaBinding.structuredContentType, "\(what): \(headers)")
                #expect(headers["ce_id"] == message.event.id, "\(what)")
                #expect(headers["ce_type"] == message.event.type, "\(what)")
                #expect(headers["ce_subject"] == message.event.subject, "\(what)")
            }
        }
        #expect(!system.rejected.messages.isEmpty && !system.zedCommands.messages.isEmpty)
    }

    @Test("the relay publishes a row's stored headers, and derives them from the payload for a row without")
    func relayHeaders() async throws {
        try await StoreFixture.with { fixture in
            let topic = try await TestEnvironment.makeTopic("relay-headers")
            let task = "headers-task"
            let event = EventEncoder.status(
                .sharedContextChanged(SharedContextChange(key: "k", value: nil)),
                specTaskID: task,
                sequence: 1,
                eventID: "out-1",
                time: Date(),
                correlationID: "cmd-1"
            )
            let stored = [MessageHeader(key: "content-type", text: KafkaBinding.structuredContentType)]
            // As written by the worker, as left by an older build (or moved back from dead_letters), and not an event.
            let messages = [
                OutboxMessage(topic: topic, key: task, payload: event, headers: stored),
                OutboxMessage(topic: topic, key: task, payload: event),
                OutboxMessage(topic: topic, key: task, payload: Array("not an event".utf8)),
            ]
            let outbox = OutboxStore(logger: TestEnvironment.logger)
            try await fixture.client.withTransaction(logger: TestEnvironment.logger) { connection in
                try await outbox.append(messages, on: connection)
            }
            let pass = try await relayOnce(fixture.client)
            #expect(pass.delivered == 3)
            let received = try await pollTopic(topic) { $0.count >= 3 }
            #expect(received.map(\.domainHeaders) == [stored, KafkaBinding.structuredHeaders(ofEncoded: event), []])
            #expect(received[1].domainHeaders.first { $0.key == "ce_id" }?.text == "out-1")
        }
    }
}
