import Logging
import PostgresNIO
import SpecTaskDomain

/// The coordination log: every message between the threads of a spec task, oldest first.
public struct CoordinationLogStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Appends entries in the caller's transaction, in this order; an entry already there (same id: the same event
    /// applied again after a crash) is left as it is.
    public func append(_ entries: [CoordinationEntry], on connection: PostgresConnection) async throws {
        var statement = WriteStatement()
        try Self.addAppend(entries, to: &statement)
        try await statement.run(on: connection, logger: logger)
    }

    /// Adds the insert of `append` to `statement`: one part for any number of entries.
    static func addAppend(_ entries: [CoordinationEntry], to statement: inout WriteStatement) throws {
        try statement.add(
            entries.enumerated().map { CoordinationRow(entry: $1, ordinal: $0) },
            """
            INSERT INTO coordination_log (id, spec_task_id, from_work_session_id, to_work_session_id, kind, doc)
            SELECT id, spec_task_id, from_work_session_id, to_work_session_id, kind, doc
            FROM jsonb_to_recordset($N::jsonb) AS r(id text, spec_task_id text, from_work_session_id text,
                to_work_session_id text, kind text, doc jsonb, ordinal integer)
            ORDER BY ordinal
            ON CONFLICT (id) DO NOTHING
            """
        )
    }

    /// The log of one spec task, oldest first; at most `limit` entries after the first `offset`.
    public func entries(
        of specTaskID: String,
        offset: Int = 0,
        limit: Int = 1000,
        client: PostgresClient
    ) async throws -> [CoordinationEntry] {
        let rows = try await client.query(
            """
            SELECT doc::text FROM coordination_log WHERE spec_task_id = \(specTaskID)
            ORDER BY position OFFSET \(offset) LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [CoordinationEntry] = []
        for try await doc in rows.decode(String.self) {
            entries.append(try DocumentCoding.decode(CoordinationEntry.self, from: doc))
        }
        return entries
    }
}

/// A coordination log row as `addAppend` sends it; `ordinal` keeps the entries' order in the log.
private struct CoordinationRow: Encodable {
    var entry: CoordinationEntry
    var ordinal: Int

    enum CodingKeys: String, CodingKey {
        case id, kind, doc, ordinal
        case specTaskID = "spec_task_id"
        case fromWorkSessionID = "from_work_session_id"
        case toWorkSessionID = "to_work_session_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entry.id, forKey: .id)
        try container.encode(entry.specTaskID, forKey: .specTaskID)
        try container.encode(entry.fromWorkSessionID, forKey: .fromWorkSessionID)
        try container.encode(entry.toWorkSessionID, forKey: .toWorkSessionID)
        try container.encode(entry.kind.rawValue, forKey: .kind)
        try container.encode(entry, forKey: .doc)
        try container.encode(ordinal, forKey: .ordinal)
    }
}
