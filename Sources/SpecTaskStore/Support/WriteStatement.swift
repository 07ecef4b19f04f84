import PostgresNIO

/// One statement of data-modifying CTEs (`WITH w1 AS (INSERT …), w2 AS (UPDATE …) SELECT 1`): every write of a batch
/// in one round trip, whatever the number of rows and tables. A round trip per table was most of a small batch's
/// write time.
///
/// The CTEs run on the same snapshot and none sees another's rows, so no two may write the same row; foreign keys
/// are checked at the end of the statement (or at commit, when deferred), when the parent rows exist.
struct WriteStatement {
    /// Whether a part with nothing to write is kept (it then writes no row). Kept, every statement built by the same
    /// code has the same SQL whatever it writes, so it can be prepared once per connection (``PreparedWrite``).
    let keepsEmptyParts: Bool
    private var parts: [String] = []
    private(set) var bindings = PostgresBindings()

    init(keepsEmptyParts: Bool = false) {
        self.keepsEmptyParts = keepsEmptyParts
    }

    /// The SQL; `nil` when no part was added.
    var sql: String? {
        parts.isEmpty ? nil : "WITH " + parts.joined(separator: ",\n") + "\nSELECT 1"
    }

    /// Binds `value`; returns its placeholder (`$n`) for the SQL of a part.
    mutating func bind(_ value: some PostgresNonThrowingEncodable) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    /// Adds one data-modifying statement, with its values bound by ``bind(_:)``.
    mutating func add(_ sql: String) {
        parts.append("w\(parts.count + 1) AS (\(sql))")
    }

    /// Whether a part for `rows` belongs in the statement.
    func includes(_ rows: some Collection) -> Bool { keepsEmptyParts || !rows.isEmpty }

    /// Adds `sql`, which reads `rows` as one JSON array from `$N::jsonb` (`jsonb_to_recordset`), unless `rows` is
    /// empty (and empty parts are not kept).
    mutating func add<Row: Encodable>(_ rows: [Row], _ sql: String) throws {
        guard includes(rows) else { return }
        let placeholder = bind(try DocumentCoding.encode(rows))
        add(sql.replacingOccurrences(of: "$N", with: placeholder))
    }

    /// Runs the statement; nothing is sent when no part was added.
    func run(on connection: PostgresConnection, logger: Logger) async throws {
        guard let sql else { return }
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
    }
}

/// A ``WriteStatement`` that keeps its empty parts, run as a prepared statement: `Shape` names it and builds it.
struct PreparedWrite<Shape: WriteShape>: PostgresPreparedStatement {
    static var name: String { Shape.statementName }
    /// The SQL of the shape built with nothing to write: the same as with anything to write.
    static var sql: String { Shape.emptySQL }
    typealias Row = Int32

    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int32.self) }
}

/// Something written by one ``WriteStatement`` of a fixed shape (every part always there), prepared once per
/// connection.
protocol WriteShape {
    /// The prepared statement's name, unique among the statements a connection prepares.
    static var statementName: String { get }
    /// The SQL built from `Self.empty`, computed once.
    static var emptySQL: String { get }
    /// Adds every part to `statement`, empty ones too.
    func addParts(to statement: inout WriteStatement) throws
}

extension WriteShape {
    /// Builds the statement and runs it prepared.
    func run(on connection: PostgresConnection, logger: Logger) async throws {
        var statement = WriteStatement(keepsEmptyParts: true)
        try addParts(to: &statement)
        assert(statement.sql == Self.emptySQL, "a WriteShape's SQL does not depend on what it writes")
        _ = try await connection.rows(PreparedWrite<Self>(bindings: statement.bindings), logger: logger)
    }

    /// The SQL of `empty`, to compute `emptySQL` once.
    static func sql(of empty: Self) -> String {
        var statement = WriteStatement(keepsEmptyParts: true)
        try! empty.addParts(to: &statement)  // Encoding no rows can not fail.
        return statement.sql!
    }
}
