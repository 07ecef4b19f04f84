import Foundation
import PostgresNIO
import SpecTaskStore
import Testing

/// `spectask bench --baseline`'s yardstick against a real PostgreSQL: one transaction per message, on tables of its
/// own that the run drops, and run ids that can not reach into SQL.
@Suite("Bench baseline tables")
struct BaselineTablesTests {
    @Test("each message locks, updates and appends one event; the tables are dropped afterwards")
    func appliesAndDrops() async throws {
        let run = "t" + UUID().uuidString.prefix(8).lowercased()
        let tables = try BaselineTables(run: run, logger: TestEnvironment.logger)
        try await TestEnvironment.withClient(try TestEnvironment.database) { client in
            try await client.withConnection { connection in
                try await tables.create(on: connection)
                for step in 0..<3 {
                    try await tables.apply(task: "a", status: "step-\(step)", payload: "{}", on: connection)
                }
                try await tables.apply(task: "b", status: "step-0", payload: "{}", on: connection)
                let a = try #require(try await tables.read(task: "a", on: connection))
                #expect(a.status == "step-2" && a.count == 3 && a.events == 3)
                let b = try #require(try await tables.read(task: "b", on: connection))
                #expect(b.status == "step-0" && b.count == 1 && b.events == 1)
                #expect(try await tables.read(task: "c", on: connection) == nil)

                try await tables.drop(on: connection)
                var left = -1
                for try await count in try await connection.query(
                    "SELECT count(*) FROM pg_tables WHERE tablename LIKE \("bench_baseline%\(run)")",
                    logger: TestEnvironment.logger
                ).decode(Int.self) {
                    left = count
                }
                #expect(left == 0)
            }
        }
    }

    @Test(
        "a run id that is not 1-32 lowercase letters, digits or _ is refused before any SQL",
        arguments: ["", "Upper", "a;drop table outbox", "a b", "a-b", "é", String(repeating: "a", count: 33)]
    )
    func hostileRunIDs(_ run: String) {
        #expect(throws: BaselineTables.InvalidRun.self) { try BaselineTables(run: run, logger: TestEnvironment.logger) }
    }
}
