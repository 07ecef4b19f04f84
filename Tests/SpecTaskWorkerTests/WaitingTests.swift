import SpecTaskStore
import Synchronization
import Testing

@testable import SpecTaskWorker

@Suite("Waiting without going deaf: Wakeup, awaitServing, the relay's doorbell")
struct WaitingTests {
    @Test("a signal given before the wait is kept for it; without one the wait times out")
    func wakeupKeepsASignal() async {
        let wakeup = Wakeup()
        wakeup.signal()
        #expect(await wakeup.wait(upTo: .seconds(10)))
        // Consumed: the next wait has nothing and times out.
        #expect(await wakeup.wait(upTo: .milliseconds(20)) == false)
    }

    @Test("a signal during the wait ends it at once")
    func wakeupWakes() async {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        Task {
            try await Task.sleep(for: .milliseconds(50))
            wakeup.signal()
        }
        #expect(await wakeup.wait(upTo: .seconds(30)))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("no signal is lost when signals and timeouts race")
    func wakeupRaces() async {
        let wakeup = Wakeup()
        let signalled = Atomic<Int>(0)
        let signaller = Task {
            for _ in 0..<200 {
                wakeup.signal()
                signalled.add(1, ordering: .relaxed)
                try? await Task.sleep(for: .microseconds(200))
            }
        }
        var woken = 0
        while woken < 1, !signaller.isCancelled {
            if await wakeup.wait(upTo: .microseconds(100)) { woken += 1 }
        }
        await signaller.value
        // After the last signal, one more wait must see it (or it was seen already): never stuck.
        _ = await wakeup.wait(upTo: .milliseconds(10))
        #expect(woken >= 1)
        #expect(signalled.load(ordering: .relaxed) == 200)
    }

    @Test("awaitServing returns the operation's result and serves while it runs")
    func servedWaitReturns() async throws {
        let served = Mutex(0)
        // The operation finishes only once the caller has served three times while waiting for it.
        let result = try await awaitServing(
            "a call that needs the caller to keep serving",
            timeout: .seconds(60),
            tick: .milliseconds(10),
            {
                while served.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(5)) }
                return 42
            },
            whileWaiting: { served.withLock { $0 += 1 } }
        )
        #expect(result == 42)
        #expect(served.withLock { $0 } >= 3)
    }

    @Test("awaitServing gives up on an operation that ignores cancellation and never finishes")
    func servedWaitTimesOut() async {
        let never = AsyncStream<Void>.makeStream()
        let started = ContinuousClock.now
        await #expect(throws: CallTimedOut.self) {
            try await awaitServing(
                "a call that hangs",
                timeout: .milliseconds(200),
                tick: .milliseconds(20),
                {
                    // Ignores cancellation, like a client waiting for a connection that never comes.
                    await withTaskCancellationHandler {
                        for await _ in never.stream {}
                    } onCancel: {
                    }
                    return 0
                },
                whileWaiting: {}
            )
        }
        // It returned although the operation never will (generous: a loaded machine delays timers).
        #expect(ContinuousClock.now - started < .seconds(60))
        never.continuation.finish()
    }

    @Test("awaitServing passes the operation's error on")
    func servedWaitThrows() async {
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await awaitServing(
                "a failing call",
                timeout: .seconds(5),
                { () async throws -> Int in throw Boom() },
                whileWaiting: {}
            )
        }
    }

    @Test("the doorbell hands over every shard rung, once")
    func doorbell() async {
        let doorbell = RelayDoorbell()
        doorbell.ring([3, 5])
        doorbell.ring([5, 9])
        doorbell.ring([])
        let first = await doorbell.wait(upTo: .seconds(5))
        #expect(first.shards == [3, 5, 9])
        #expect(first.since != nil)
        let second = await doorbell.wait(upTo: .milliseconds(10))
        #expect(second.shards == [])
        #expect(second.since == nil)
    }

    @Test("outbox shards: stable, in range, and one per task")
    func shards() {
        #expect(OutboxShards.shard(of: nil) == 0)
        let tasks = (0..<1_000).map { "task-\($0)" }
        let shards = tasks.map { OutboxShards.shard(of: $0) }
        #expect(shards.allSatisfy { (0..<OutboxShards.count).contains($0) })
        #expect(Set(shards).count > OutboxShards.count / 2, "spread over the shards")
        #expect(tasks.map { OutboxShards.shard(of: $0) } == shards)
        // The same function in every process: a fixed value pins it (FNV-1a).
        #expect(OutboxShards.shard(of: "a") == Int32(0xE40C_292C % 64))
    }
}
