import Foundation
import Kafka
import Synchronization
import Testing

/// Records what every member of a group processed, which rebalances it saw, and why its loop ended if it failed.
private final class GroupLedger: Sendable {
    private let state = Mutex<
        (
            processed: [String: Int], rebalances: [String: [KafkaConsumerEvent]],
            assignment: [String: Set<KafkaTopicPartition>], failures: [String: String]
        )
    >(([:], [:], [:], [:]))

    func record(member: String, _ event: KafkaConsumerEvent) {
        state.withLock { state in
            switch event {
            case .messages(let batch):
                for message in batch {
                    state.processed[String(decoding: message.value, as: UTF8.self), default: 0] += 1
                }
            case .partitionsAssigned(let partitions):
                state.rebalances[member, default: []].append(event)
                state.assignment[member, default: []].formUnion(partitions)
            case .partitionsRevoked(let partitions):
                state.rebalances[member, default: []].append(event)
                state.assignment[member, default: []].subtract(partitions)
            }
        }
    }

    func leave(member: String) { state.withLock { $0.assignment[member] = nil } }
    func fail(member: String, _ error: any Error) {
        state.withLock { $0.failures[member] = String(reflecting: error) }
    }
    var processed: [String: Int] { state.withLock { $0.processed } }
    var assignment: [String: Set<KafkaTopicPartition>] { state.withLock { $0.assignment } }
    var failures: [String: String] { state.withLock { $0.failures } }
    func rebalances(_ member: String) -> [KafkaConsumerEvent] { state.withLock { $0.rebalances[member] ?? [] } }

    /// What a failed wait reports: each member's partitions, its rebalances and its loop's failure, if any.
    var summary: String {
        state.withLock { state in
            Set(state.rebalances.keys).union(state.assignment.keys).union(state.failures.keys).sorted().map {
                member in
                let owned = (state.assignment[member] ?? []).map(\.partition).sorted()
                let events = (state.rebalances[member] ?? []).map { event -> String in
                    switch event {
                    case .partitionsAssigned(let partitions): "+\(partitions.map(\.partition).sorted())"
                    case .partitionsRevoked(let partitions): "-\(partitions.map(\.partition).sorted())"
                    case .messages: "messages"
                    }
                }
                return "\(member): owns \(owned), rebalances \(events.joined(separator: " "))"
                    + (state.failures[member].map { ", loop failed: \($0)" } ?? "")
            }.joined(separator: "; ") + "; \(state.processed.count) messages processed"
        }
    }
}

@Suite("Consumer groups against the real broker")
struct ConsumerGroupTests {
    /// Commit errors that mean the group moved on without this member's batch.
    private static let lostToRebalance: Set<String> = [
        "ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID",
    ]

    /// One member: poll, process, commit what was processed (a batch counts once its commit succeeded), repeat;
    /// commits happen before the next poll, which is where rebalances are served, so a revoked partition never has
    /// unfinished uncommitted work.
    private static func member(_ name: String, _ consumer: KafkaConsumer, _ ledger: GroupLedger) async throws {
        do {
            try await serve(name, consumer, ledger)
        } catch let error as KafkaError where error.code == .clientClosed {
            // Closed between its poll and its commit: the member left, as the test asked.
        } catch {
            // Recorded for the waits, which fail at once with it: the task group reports it only at the end.
            ledger.fail(member: name, error)
            throw error
        }
    }

    private static func serve(_ name: String, _ consumer: KafkaConsumer, _ ledger: GroupLedger) async throws {
        while !consumer.isClosed, !Task.isCancelled {
            let events: [KafkaConsumerEvent]
            do {
                events = try await consumer.poll(timeout: .milliseconds(100))
            } catch let error as KafkaError where error.code == .clientClosed {
                return
            }
            for event in events {
                guard case .messages(let batch) = event else {
                    ledger.record(member: name, event)
                    continue
                }
                do {
                    try await consumer.commit(batch)
                    ledger.record(member: name, event)
                } catch let error as KafkaError where Self.lostToRebalance.contains(error.code.description) {
                    // The broker started a new generation between this poll and the commit (a member joined or
                    // left): the partitions' next owner reads these messages again from the last commit, so they
                    // were not processed here. Kafka's contract, seen now and then under load.
                }
            }
        }
    }

    /// Waits until `condition` holds; fails at once when a member's loop failed, and with the group's state when the
    /// time is up.
    private static func waitFor(
        _ what: String,
        _ ledger: GroupLedger,
        timeout: Duration = .seconds(90),
        _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ledger.failures.isEmpty, ContinuousClock.now < deadline else {
                throw TimedOut(what: "\(what) (\(timeout)): \(ledger.summary)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func assignmentCount(_ ledger: GroupLedger, _ member: String) -> Int {
        ledger.rebalances(member).filter { if case .partitionsAssigned = $0 { true } else { false } }.count
    }

    private static func produce(_ topic: String, _ range: Range<Int>) async throws {
        _ = try await withProducer { producer in
            try await producer.send(
                range.map { KafkaProducerRecord(topic: topic, key: "key-\($0)", value: "msg-\($0)") }
            )
        }
    }

    @Test("members split the partitions, rebalance on join and leave, and the group reads every message exactly once")
    func splitRebalanceExactlyOnce() async throws {
        let topic = try await TestEnvironment.makeTopic("group", partitions: 6)
        let group = TestEnvironment.unique("g")
        let ledger = GroupLedger()
        let all = Set((0..<6).map { KafkaTopicPartition(topic: topic, partition: $0) })
        func makeMember() throws -> KafkaConsumer {
            try KafkaConsumer(
                configuration: TestEnvironment.consumerConfiguration(group: group, topics: [topic]),
                logger: TestEnvironment.logger
            )
        }

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            let a = try makeMember()
            let b = try makeMember()
            tasks.addTask { try await Self.member("a", a, ledger) }
            tasks.addTask { try await Self.member("b", b, ledger) }

            // Two members: each owns some partitions, together all six, none twice.
            try await Self.waitFor("a and b to split the partitions", ledger) {
                let owned = ledger.assignment
                return owned["a"]?.isEmpty == false && owned["b"]?.isEmpty == false
                    && owned["a"]!.union(owned["b"]!) == all
            }
            #expect(ledger.assignment["a"]!.isDisjoint(with: ledger.assignment["b"]!))
            try await Self.produce(topic, 0..<100)

            // A third joins: someone gives partitions up (revoked) and c gets some.
            let c = try makeMember()
            tasks.addTask { try await Self.member("c", c, ledger) }
            try await Self.produce(topic, 100..<200)
            try await Self.waitFor("c to get partitions", ledger) { ledger.assignment["c"]?.isEmpty == false }
            #expect(
                ledger.rebalances("a").contains { if case .partitionsRevoked = $0 { true } else { false } }
                    || ledger.rebalances("b").contains { if case .partitionsRevoked = $0 { true } else { false } }
            )

            // b leaves: its partitions move to a and c, which are told so.
            let assignmentsBeforeLeave = Self.assignmentCount(ledger, "a") + Self.assignmentCount(ledger, "c")
            await b.close()
            ledger.leave(member: "b")
            try await Self.produce(topic, 200..<300)
            // Usually 4-9 s here; a graceful leave has been seen to take Tansu 96 s to settle (ARCHITECTURE.md), and a
            // CI run under the whole suite's load once did not settle within 90.
            try await Self.waitFor("a and c to own everything after b left", ledger, timeout: .seconds(180)) {
                let owned = ledger.assignment
                return (owned["a"] ?? []).union(owned["c"] ?? []) == all
            }
            #expect(Self.assignmentCount(ledger, "a") + Self.assignmentCount(ledger, "c") > assignmentsBeforeLeave)
            try await Self.waitFor("all 300 messages to be processed", ledger) { ledger.processed.count == 300 }
            // Let any duplicate surface before judging.
            try await Task.sleep(for: .seconds(2))
            await a.close()
            await c.close()
            try await tasks.waitForAll()
        }

        let processed = ledger.processed
        #expect(processed.count == 300)
        #expect(processed.values.allSatisfy { $0 == 1 }, "duplicates: \(processed.filter { $0.value > 1 })")
    }
}
