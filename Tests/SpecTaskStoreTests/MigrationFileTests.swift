import Foundation
import Testing

@testable import SpecTaskStore

@Suite("Migration files")
struct MigrationFileTests {
    @Test("NNNN_name.sql gives the version and name")
    func fileName() throws {
        let migration = try Migration(fileName: "0007_add_leases.sql", contents: "SELECT 1;")
        #expect(migration.version == 7)
        #expect(migration.name == "add_leases")
        #expect(migration.checksum.count == 64)
    }

    @Test(
        "other names are refused",
        arguments: ["add.sql", "0001.sql", "0000_zero.sql", "01_a.txt", "1_a b.sql", "x1_a.sql", "0001_ünï.sql"]
    )
    func badFileNames(name: String) {
        let error = #expect(throws: MigrationError.self) { try Migration(fileName: name, contents: "") }
        #expect(error?.code == .invalidFileName)
        #expect(error?.message.contains(name) == true)
    }

    @Test("the checksum follows the contents")
    func checksum() {
        let a = Migration(version: 1, name: "a", sql: "SELECT 1;")
        #expect(a.checksum == Migration(version: 1, name: "a", sql: "SELECT 1;").checksum)
        #expect(a.checksum != Migration(version: 1, name: "a", sql: "SELECT 1; ").checksum)
        #expect(a.checksum == "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a")
    }

    @Test("migrations are ordered by version and duplicates refused")
    func ordering() throws {
        let ordered = try Migration.ordered([
            Migration(version: 3, name: "c", sql: ""), Migration(version: 1, name: "a", sql: ""),
            Migration(version: 2, name: "b", sql: ""),
        ])
        #expect(ordered.map(\.version) == [1, 2, 3])
        let error = #expect(throws: MigrationError.self) {
            try Migration.ordered([
                Migration(version: 1, name: "a", sql: ""), Migration(version: 1, name: "b", sql: ""),
            ])
        }
        #expect(error?.code == .duplicateVersion)
    }

    @Test("the bundled migrations load, numbered from 1 without gaps, each with statements")
    func bundled() throws {
        let migrations = try Migration.bundled()
        #expect(!migrations.isEmpty)
        #expect(migrations.map(\.version) == Array(1...migrations.count))
        for migration in migrations {
            #expect(!SQLStatementSplitter.split(migration.sql).isEmpty, "\(migration.name) has no statement")
        }
    }

    @Test("loading from a folder that does not exist says so")
    func missingFolder() {
        let error = #expect(throws: MigrationError.self) {
            try Migration.load(from: URL(fileURLWithPath: "/nonexistent/migrations"))
        }
        #expect(error?.code == .missingFiles)
        #expect(error?.message.contains("/nonexistent/migrations") == true)
    }
}
