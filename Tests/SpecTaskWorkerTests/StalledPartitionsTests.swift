import Kafka
import Testing

@testable import SpecTaskWorker

@Suite("Stalled partitions")
struct StalledPartitionsTests {
    static let commands = KafkaTopicPartition(topic: "spectask.commands", partition: 1)
    static let events = KafkaTopicPartition(topic: "zed.events", partition: 0)
    static let start = ContinuousClock.now

    static func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test("messages waiting, nothing fetched while reading: stalled once the threshold has passed, with its lag")
    func stallsAfterThreshold() {
        var stalls = StalledPartitions(threshold: .seconds(30))
        let lag = [Self.commands: 4_403 as Int64, Self.events: 0]
        let reading: Set = [Self.commands, Self.events]
        #expect(stalls.observe(lag: lag, fetched: [], reading: reading, now: Self.at(0)).isEmpty)
        #expect(stalls.observe(lag: lag, fetched: [], reading: reading, now: Self.at(29)).isEmpty)
        #expect(stalls.observe(lag: lag, fetched: [], reading: reading, now: Self.at(30)) == [Self.commands: 4_403])
        #expect(stalls.observe(lag: lag, fetched: [], reading: reading, now: Self.at(60)) == [Self.commands: 4_403])
    }

    @Test("a fetch, catching up, a pause or losing the partition each start the count again")
    func resets() {
        var stalls = StalledPartitions(threshold: .seconds(30))
        let behind = [Self.commands: 10 as Int64]
        let reading: Set = [Self.commands]
        _ = stalls.observe(lag: behind, fetched: [], reading: reading, now: Self.at(0))
        // Fetched at 20 s: quiet again only from 25 s on, so not stalled at 50 s, stalled at 55 s.
        #expect(stalls.observe(lag: behind, fetched: [Self.commands], reading: reading, now: Self.at(20)).isEmpty)
        _ = stalls.observe(lag: behind, fetched: [], reading: reading, now: Self.at(25))
        #expect(stalls.observe(lag: behind, fetched: [], reading: reading, now: Self.at(50)).isEmpty)
        #expect(stalls.observe(lag: behind, fetched: [], reading: reading, now: Self.at(55)) == [Self.commands: 10])
        // Caught up (lag 0): not stalled, and the count starts again.
        #expect(stalls.observe(lag: [Self.commands: 0], fetched: [], reading: reading, now: Self.at(56)).isEmpty)
        #expect(stalls.observe(lag: behind, fetched: [], reading: reading, now: Self.at(60)).isEmpty)
        // Paused by the worker (not read): never the broker's stall, however long.
        #expect(stalls.observe(lag: behind, fetched: [], reading: [], now: Self.at(100)).isEmpty)
        #expect(stalls.observe(lag: behind, fetched: [], reading: [], now: Self.at(200)).isEmpty)
        #expect(stalls.observe(lag: behind, fetched: [], reading: reading, now: Self.at(201)).isEmpty)
        // Lag not known yet (no fetch response): not judged.
        #expect(stalls.observe(lag: [:], fetched: [], reading: reading, now: Self.at(300)).isEmpty)
    }

    @Test("/ready names the stalled partitions and answers ready again once they are served")
    func readiness() {
        let health = WorkerHealth()
        health.recordOwnership(6)
        #expect(health.readinessProblem() == nil)
        health.recordStalled([Self.commands: 4_403])
        let problem = health.readinessProblem()
        #expect(problem?.contains("spectask.commands[1] (4403 messages behind)") == true)
        #expect(problem?.hasPrefix("the broker serves nothing from") == true)
        health.recordStalled([:])
        #expect(health.readinessProblem() == nil)
    }
}
