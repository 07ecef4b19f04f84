import Synchronization

/// A one-consumer wake-up call: `signal()` from anywhere, `wait(upTo:)` in the one task that acts on it.
///
/// A signal given while nobody waits is kept (once) for the next `wait`, so none is lost. Used where a loop
/// must react at once to work done elsewhere (a committed batch for the relay, a finished database call for
/// the ingest loop) and still turn regularly when nothing happens.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())

    init() {}

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// Waits until signalled or until `timeout` passed.
    /// - Returns: whether a signal came (possibly one given before this call).
    func wait(upTo timeout: Duration) async -> Bool {
        if state.withLock({ state in
            defer { state.pending = false }
            return state.pending
        }) {
            return true
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            var signalled = await group.next() ?? false
            group.cancelAll()
            // The losing child still reports: a signal that raced the timer is not lost.
            while let other = await group.next() { signalled = signalled || other }
            return signalled
        }
    }

    /// Suspends until a signal (`true`) or until the task is cancelled (`false`).
    private func waitForSignal() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeWith: Bool? = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    // Checked under the lock the cancellation handler takes too, so a cancellation is never missed.
                    if Task.isCancelled { return false }
                    precondition(state.waiter == nil, "Wakeup has one waiter at a time")
                    state.waiter = continuation
                    return nil
                }
                if let resumeWith { continuation.resume(returning: resumeWith) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: false)
        }
    }
}

/// What the ingest service tells the outbox relay: which outbox shards just got messages, and since when.
public final class RelayDoorbell: Sendable {
    private struct Rung {
        var shards: Set<Int32> = []
        var since: ContinuousClock.Instant?
    }

    private let rung = Mutex(Rung())
    private let wakeup = Wakeup()

    public init() {}

    /// Says that `shards` have new committed messages.
    public func ring(_ shards: Set<Int32>) {
        guard !shards.isEmpty else { return }
        rung.withLock {
            $0.shards.formUnion(shards)
            $0.since = $0.since ?? .now
        }
        wakeup.signal()
    }

    /// Waits for a ring or for `timeout`.
    /// - Returns: The shards rung since the last call (empty after a timeout), and when the first of those rings came.
    func wait(upTo timeout: Duration) async -> (shards: Set<Int32>, since: ContinuousClock.Instant?) {
        _ = await wakeup.wait(upTo: timeout)
        return rung.withLock { rung in
            defer { rung = Rung() }
            return (rung.shards, rung.since)
        }
    }
}
