import Logging
import PostgresNIO

/// A table that grows with every input, and whose rows are deleted once they are older than a retention period.
public enum RetainedTable: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Ids of handled inputs, aged by when they were handled.
    case inbox
    /// Messages between the threads of a spec task, aged by when they were written.
    case coordinationLog = "coordination_log"
    /// Outbox messages the broker refused for good, aged by when they were set aside.
    case deadLetters = "dead_letters"

    /// The column a row's age is measured by (each has an index: migration 0006).
    public var timestampColumn: String {
        switch self {
        case .inbox: "processed_at"
        case .coordinationLog: "created_at"
        case .deadLetters: "dead_at"
        }
    }

    /// The advisory lock (two-key form) a pruner holds while it deletes a chunk of this table: in `pg_locks` as
    /// `classid` and `objid`.
    public var advisoryLock: (classID: Int32, objectID: Int32) {
        switch self {
        case .inbox: (RetentionStore.lockClass, 1)
        case .coordinationLog: (RetentionStore.lockClass, 2)
        case .deadLetters: (RetentionStore.lockClass, 3)
        }
    }

    public var description: String { rawValue }
}

/// What one ``RetentionStore/prune(_:olderThan:chunkSize:maxChunks:client:shouldContinue:)`` call did.
public struct PruneResult: Sendable, Hashable {
    public var table: RetainedTable
    /// Rows deleted.
    public var deleted = 0
    /// Another process was pruning the table (held its lock), so this call left it alone.
    public var skipped = false
    /// The call stopped (after its most chunks, or when told to) while old rows may be left.
    public var incomplete = false

    public init(table: RetainedTable) {
        self.table = table
    }
}

/// Deletes rows past their retention, in chunks of a bounded size, each chunk in a short transaction of its own
/// (so no pass holds locks or a snapshot for long, and vacuum can reclaim what the last chunk freed).
///
/// Safe with any number of workers: a chunk runs only while its transaction holds the table's advisory lock
/// (`pg_try_advisory_xact_lock`, a fixed key per table), and a pruner that finds the lock taken gives way: it
/// leaves the table to the one holding it until its next pass. Rows are aged by the database's clock, the one
/// that wrote their timestamps, so workers whose clocks disagree still agree on what is old.
public struct RetentionStore: Sendable {
    /// Arbitrary, fixed: the first half of each table's advisory lock key ("retn" in ASCII).
    static let lockClass: Int32 = 0x7265_746E

    /// Rows deleted per chunk unless told otherwise.
    public static let defaultChunkSize = 5_000

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Deletes the rows of `table` older than `age`, one chunk after the other, until a chunk finds fewer than
    /// `chunkSize` old rows, `maxChunks` chunks ran, `shouldContinue` says no, or another process holds the table.
    public func prune(
        _ table: RetainedTable,
        olderThan age: Duration,
        chunkSize: Int = RetentionStore.defaultChunkSize,
        maxChunks: Int = 100,
        client: PostgresClient,
        shouldContinue: @Sendable () -> Bool = { true }
    ) async throws -> PruneResult {
        precondition(chunkSize > 0 && maxChunks > 0, "chunkSize and maxChunks must be positive")
        var result = PruneResult(table: table)
        for _ in 0..<maxChunks {
            guard shouldContinue() else {
                result.incomplete = true
                return result
            }
            try Task.checkCancellation()
            guard let deleted = try await pruneChunk(table, olderThan: age, limit: chunkSize, client: client) else {
                result.skipped = true
                return result
            }
            result.deleted += deleted
            if deleted < chunkSize { return result }
        }
        result.incomplete = true
        return result
    }

    /// Deletes up to `limit` rows of `table` older than `age`, in one transaction.
    /// - Returns: How many rows were deleted; `nil` when another process holds the table's lock.
    public func pruneChunk(
        _ table: RetainedTable,
        olderThan age: Duration,
        limit: Int,
        client: PostgresClient
    ) async throws -> Int? {
        let seconds = Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18
        let name = table.rawValue
        let column = table.timestampColumn
        return try await client.transaction(logger: logger) { connection in
            var locked = false
            for try await taken in try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(table.advisoryLock.classID), \(table.advisoryLock.objectID))",
                logger: logger
            ).decode(Bool.self) {
                locked = taken
            }
            guard locked else { return nil }
            // A TID scan over the chunk's rows: no sort, no second look-up by key. `now()` is the transaction's
            // start, so every row of the chunk is measured against one instant.
            var deleted = 0
            for try await count in try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM \(unescaped: name) WHERE ctid = ANY(ARRAY(
                        SELECT ctid FROM \(unescaped: name)
                        WHERE \(unescaped: column) < now() - make_interval(secs => \(seconds))
                        LIMIT \(limit)
                    ))
                    RETURNING 1
                )
                SELECT count(*) FROM gone
                """,
                logger: logger
            ).decode(Int.self) {
                deleted = count
            }
            return deleted
        }
    }

    /// How many rows `table` holds (for operators and tests).
    public func count(_ table: RetainedTable, client: PostgresClient) async throws -> Int {
        var count = 0
        for try await value in try await client.query(
            "SELECT count(*) FROM \(unescaped: table.rawValue)",
            logger: logger
        ).decode(Int.self) {
            count = value
        }
        return count
    }
}
