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
