/// A database call that did not finish in time: the caller treats it like any failed attempt and retries.
struct CallTimedOut: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var description: String { "\(what) did not finish within \(timeout); abandoned and retried" }
}

/// Runs `operation` in a task of its own and waits for it without ever going deaf: every `tick` it waits longer,
/// `whileWaiting` runs (the ingest loop serves its consumer group there); after `timeout` it gives up on the
/// operation (cancels it) and throws ``CallTimedOut``.
///
/// The operation does not have to honour cancellation for this to return in time: a database client that waits
/// forever for a connection can not keep the caller from its other duties. An abandoned transaction that still
/// commits later is harmless where every write is fenced and idempotent, as the worker's are.
func awaitServing<T: Sendable>(
    _ what: String,
    timeout: Duration,
    tick: Duration = .milliseconds(500),
    _ operation: @escaping @Sendable () async throws -> T,
    whileWaiting: () async throws -> Void
) async throws -> T {
    let finished = Wakeup()
    let task = Task {
        defer { finished.signal() }
        return try await operation()
    }
    let deadline = ContinuousClock.now + timeout
    while true {
        if await finished.wait(upTo: min(tick, max(.zero, deadline - .now))) { return try await task.value }
        if ContinuousClock.now >= deadline {
            task.cancel()
            throw CallTimedOut(what: what, timeout: timeout)
        }
        try await whileWaiting()
    }
}
