import Logging
import PostgresNIO
import Synchronization

/// The connection a call was using closed before the call finished (the server went away).
public struct ConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the database connection closed during the call" }
}

extension PostgresClient {
    /// Runs `body` in a transaction on a pooled connection: BEGIN, the body, COMMIT; ROLLBACK when the body throws.
    /// Unlike `withTransaction` it throws the cause itself (the body's error, or BEGIN's or COMMIT's), not a wrapper,
    /// and it ends as soon as its connection closes (see ``withLiveConnection(_:)``).
    public func transaction<T: Sendable>(
        logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withLiveConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            let value: T
            do {
                value = try await body(connection)
            } catch {
                // Nothing is sent on a closed connection (it would never be answered, see below); the server rolls
                // back by itself a transaction whose connection is gone.
                if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return value
        }
    }

    /// `withConnection`, except that it throws ``ConnectionClosed`` as soon as the connection closes, whatever
    /// `body` is waiting for.
    ///
    /// Why: PostgresNIO (1.33) writes a statement to the channel without a write promise, so a statement written
    /// just after the channel closed is dropped and its answer never comes. After a PostgreSQL crash
    /// (`pg_ctl stop -m immediate`) that happened every time: `withTransaction`'s ROLLBACK after the failed
    /// statement, or the first statement on a connection the pool had not yet seen close, waited forever, and the
    /// worker sat out its own call timeout (10 s for a batch, 30 s for the relay) before it tried again. `body` is
    /// left running when it loses the race; the statements it may still send fail or are dropped with the connection.
    public func withLiveConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await ConnectionCloseWatch.shared.untilClosed(connection) { try await body(connection) }
        }
    }
}

/// Fails the calls waiting on a connection when it closes. One close callback per connection, however many calls
/// (a callback per call would pile up on a connection that lives for days).
final class ConnectionCloseWatch: Sendable {
    static let shared = ConnectionCloseWatch()

    /// One waiting call: resumed once, by its own end or by the close, whichever comes first.
    final class Waiter<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T, any Error>?>
        init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }
        func resume(with result: Result<T, any Error>) {
            continuation.withLock { $0.take() }?.resume(with: result)
        }
    }

    private struct State {
        var nextID = 0
        /// Per watched connection: how to fail each call waiting on it.
        var waiting: [ObjectIdentifier: [Int: @Sendable () -> Void]] = [:]
    }

    private let state = Mutex(State())

    func untilClosed<T: Sendable>(
        _ connection: PostgresConnection,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let key = ObjectIdentifier(connection)
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let running = Mutex<Task<Void, Never>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let waiter = Waiter(continuation)
                let firstOnConnection = state.withLock { state in
                    let first = state.waiting[key] == nil
                    state.waiting[key, default: [:]][id] = { waiter.resume(with: .failure(ConnectionClosed())) }
                    return first
                }
                if firstOnConnection {
                    // Runs at once when the connection is already closed.
                    connection.closeFuture.whenComplete { [self] _ in
                        let failures = state.withLock { $0.waiting.removeValue(forKey: key) } ?? [:]
                        for fail in failures.values { fail() }
                    }
                }
                // One task: the operation, then its result to the waiter (unless the close came first).
                running.withLock { running in
                    running = Task {
                        let result: Result<T, any Error>
                        do { result = .success(try await operation()) } catch { result = .failure(error) }
                        // The connection's entry stays (empty) while it is open: its close callback is registered.
                        state.withLock { state in state.waiting[key]?[id] = nil }
                        waiter.resume(with: result)
                    }
                    // Cancelled before the task existed: `onCancel` found nothing to cancel.
                    if Task.isCancelled { running?.cancel() }
                }
            }
        } onCancel: {
            running.withLock { $0?.cancel() }
        }
    }
}
