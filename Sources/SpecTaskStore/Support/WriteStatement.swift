import PostgresNIO

/// One statement of data-modifying CTEs (`WITH w1 AS (INSERT …), w2 AS (UPDATE …) SELECT 1`): every write of a batch
/// in one round trip, whatever the number of rows and tables. A round trip per table was most of a small batch's
/// write time.
///
/// The CTEs run on the same snapshot and none sees another's rows, so no two may write the same row; foreign keys
/// are checked at the end of the statement (or at commit, when deferred), when the parent rows exist.
struct WriteStatement {
    private var parts: [String] = []
    private var bindings = PostgresBindings()

    /// Binds `value`; returns its placeholder (`$n`) for the SQL of a part.
    mutating func bind(_ value: some PostgresNonThrowingEncodable) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    /// Adds one data-modifying statement, with its values bound by ``bind(_:)``.
    mutating func add(_ sql: String) {
        parts.append("w\(parts.count + 1) AS (\(sql))")
    }

    /// Adds `sql`, which reads `rows` as one JSON array from `$N::jsonb` (`jsonb_to_recordset`), unless `rows` is
    /// empty.
    mutating func add<Row: Encodable>(_ rows: [Row], _ sql: String) throws {
        guard !rows.isEmpty else { return }
        let placeholder = bind(try DocumentCoding.encode(rows))
        add(sql.replacingOccurrences(of: "$N", with: placeholder))
    }

    /// Runs the statement; nothing is sent when no part was added.
    func run(on connection: PostgresConnection, logger: Logger) async throws {
        guard !parts.isEmpty else { return }
        let query = PostgresQuery(unsafeSQL: "WITH " + parts.joined(separator: ",\n") + "\nSELECT 1", binds: bindings)
        try await connection.query(query, logger: logger)
    }
}
