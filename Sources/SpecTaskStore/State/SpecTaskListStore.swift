import Foundation
import Logging
import PostgresNIO
import SpecTaskDomain

/// Pages through spec tasks, newest first: what the read API's list endpoint and the dashboard's board show.
///
/// Keyset paging on `(created_at, id)`: a page never repeats or skips a task because others were created
/// meanwhile (new tasks appear on the first page). The cursor is opaque to clients.
public struct SpecTaskListStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// What to list.
    public struct Query: Sendable, Hashable {
        /// Only these statuses; empty: every status.
        public var statuses: [SpecTaskStatus]
        /// Case-insensitive text the id, name or description contains; `nil` or empty: no text filter.
        public var text: String?
        /// Also archived tasks.
        public var includeArchived: Bool
        /// At most this many tasks (1…500).
        public var limit: Int
        /// Where the previous page ended (``Page/nextCursor``); `nil`: the first page.
        public var cursor: Cursor?

        public init(
            statuses: [SpecTaskStatus] = [],
            text: String? = nil,
            includeArchived: Bool = false,
            limit: Int = 50,
            cursor: Cursor? = nil
        ) {
            self.statuses = statuses
            self.text = text
            self.includeArchived = includeArchived
            self.limit = limit
            self.cursor = cursor
        }
    }

    /// The position after the last task of a page.
    public struct Cursor: Sendable, Hashable {
        public var createdAt: Date
        public var id: String

        public init(createdAt: Date, id: String) {
            self.createdAt = createdAt
            self.id = id
        }

        /// URL-safe text: base64url of `<microseconds since 1970>:<id>`.
        public var token: String {
            let micros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
            return Data("\(micros):\(id)".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }

        /// Reads ``token``; `nil` when `token` is not one.
        public init?(token: String) {
            guard token.count <= 2048 else { return nil }
            var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":"), let micros = Int64(text[..<colon])
            else { return nil }
            let id = String(text[text.index(after: colon)...])
            guard !id.isEmpty else { return nil }
            self.init(createdAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
        }
    }

    public struct Page: Sendable {
        /// The tasks of the page with their children, in list order.
        public var tasks: [SpecTaskState]
        /// The cursor of the next page; `nil` when this is the last one.
        public var nextCursor: Cursor?
    }

    /// One page of spec tasks, read from one snapshot.
    public func page(_ query: Query, client: PostgresClient) async throws -> Page {
        let logger = self.logger
        let repository = SpecTaskRepository(logger: logger)
        let statuses = query.statuses.map(\.rawValue)
        let pattern = query.text.flatMap { $0.isEmpty ? nil : "%" + Self.escapeLike($0) + "%" }
        let limit = max(1, min(query.limit, 500))
        // A cursor far in the past or the future orders like any other; without one, everything is after it.
        let afterTime = query.cursor?.createdAt ?? Date.distantFuture
        let afterID = query.cursor?.id ?? ""
        let hasCursor = query.cursor != nil
        return try await repository.readSnapshot(client) { connection in
            let rows = try await connection.query(
                """
                SELECT id, created_at FROM spec_tasks
                WHERE (cardinality(\(statuses)::text[]) = 0 OR status = ANY(\(statuses)::text[]))
                  AND (\(query.includeArchived) OR NOT archived)
                  AND (\(pattern)::text IS NULL OR id ILIKE \(pattern)::text OR doc->>'name' ILIKE \(pattern)::text
                    OR doc->>'description' ILIKE \(pattern)::text)
                  AND (NOT \(hasCursor) OR (created_at, id) < (\(afterTime)::timestamptz, \(afterID)::text))
                ORDER BY created_at DESC, id DESC
                LIMIT \(limit + 1)
                """,
                logger: logger
            )
            var ids: [(String, Date)] = []
            for try await (id, createdAt) in rows.decode((String, Date).self) { ids.append((id, createdAt)) }
            let more = ids.count > limit
            if more { ids.removeLast() }
            let loaded = try await repository.load(ids.map(\.0), on: connection)
            let tasks = ids.compactMap { loaded[$0.0]?.state }
            let next = more ? ids.last.map { Cursor(createdAt: $0.1, id: $0.0) } : nil
            return Page(tasks: tasks, nextCursor: next)
        }
    }

    /// `text` matched literally by LIKE (its `\`, `%` and `_` escaped with LIKE's default escape, `\`).
    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
