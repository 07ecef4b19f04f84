import Foundation
import PostgresNIO
import SpecTaskDomain
import SpecTaskStore
import Testing

/// A partition whose log ends before the offset PostgreSQL says was applied (a topic deleted and created again, a
/// broker that lost its data) would have its new messages skipped as "already applied", silently. The worker
/// stops such a partition instead, says so in its log and on /ready, and applies nothing from it.
@Suite("Re-created topics")
struct RecreatedTopicTests {
    @Test("stored offsets past the log end stop the partition, loudly; /ready says why")
    func storedOffsetsPastTheEnd() async throws {
        let port = try ReadAPITests.freePort()
        let system = try await SystemUnderTest.start(workers: 0, adminPort: port)
        defer { Task { await system.stop() } }
        // As if these topics had been used up to offset 1000 before being created again.
        try await TestEnvironment.withClient(try TestEnvironment.database) { client in
            for topic in [system.topics.commands, system.topics.zedEvents] {
                for partition in Int32(0)..<6 {
                    try await client.query(
                        """
                        INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, owner_generation)
                        VALUES (\(system.group), \(topic), \(partition), 1000, 1)
                        """,
                        logger: TestEnvironment.logger
                    )
                }
            }
        }
        let worker = try system.startWorker()
        try await worker.waitForOutput(containing: "owning partitions", timeout: .seconds(90))

        let task = TestEnvironment.unique("recreated")
        let id = try await system.send(.create(CreateSpecTask(name: "after re-creation")), task: task)
        try await worker.waitForOutput(containing: "the topic was re-created or truncated", timeout: .seconds(60))
        #expect(worker.output.contains("spectask offsets reset"), "the log says how to re-sync")
        let ready = try await DatabaseOutageTests.waitForStatus(
            503,
            of: "http://127.0.0.1:\(port)/ready",
            within: .seconds(10)
        )
        #expect(ready.contains("stopped partitions"), "/ready said: \(ready)")
        // Not skipped as applied, not applied: nothing at all happened for it.
        try await Task.sleep(for: .seconds(2))
        #expect(!system.status.messages.contains { $0.event.correlationid == id })
        let stored = try await TestEnvironment.withClient(try system.database) { client in
            try await SpecTaskRepository(logger: TestEnvironment.logger).loadSnapshot([task], client: client)
        }
        #expect(stored[task] == nil, "the command was applied from a stopped partition")
    }
}
