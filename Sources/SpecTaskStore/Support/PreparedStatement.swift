import PostgresNIO

// The statements every batch and every relay pass runs are prepared: each connection parses and plans them once and
// then only binds and executes. Sent as unnamed statements they were parsed and planned anew every time, which at
// 200 commands/s was half of the database's time for a batch (3 of 6 ms, `log_min_duration_statement` parse and
// bind lines). Each is a type conforming to `PostgresPreparedStatement` (postgres-nio prepares it on a connection's
// first use); its SQL is fixed, so values vary only through bound arrays.

extension PostgresConnection {
    /// Runs a prepared statement and returns its rows, decoded.
    func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement,
        logger: Logger
    ) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}

extension PostgresBindings {
    /// The bindings of `$1`, `$2`, … in this order.
    init<each Value: PostgresNonThrowingEncodable>(_ values: repeat each Value) {
        self.init()
        repeat append(each values)
    }
}

/// Plans for the rest of a transaction.
public enum TransactionPlans {
    /// Makes the prepared statements of the rest of the caller's transaction run their generic plan (the one
    /// planned once per connection) rather than a custom plan for each call's values (`SET LOCAL`, so the setting
    /// ends with the transaction, and a pooler in transaction mode sees nothing of it).
    ///
    /// For the batch transaction: PostgreSQL keeps planning the spec task load afresh for every call, because for
    /// the one or two ids of a batch at light load a custom plan looks cheaper than the generic one. Planning its six
    /// branches took half of the load's time: at 200 commands/s the load took 0.7 ms instead of 1.4 ms, and the
    /// transaction 0.4–0.9 ms less (this round trip included), three runs side by side; saturated throughput was
    /// the same within noise. Not for the relay: its read's plan depends on its limit.
    public static func preferGeneric(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SET LOCAL plan_cache_mode = force_generic_plan", logger: logger)
    }
}
