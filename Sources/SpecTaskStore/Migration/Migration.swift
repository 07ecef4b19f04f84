import Crypto
import Foundation

/// One numbered schema change, read from a file named `NNNN_description.sql`.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String
    /// SHA-256 of the file's contents: a migration that changed after it was applied is refused.
    public var checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Parses a file name and its contents.
    /// - Throws: `MigrationError` with code `.invalidFileName` unless the name is `NNNN_description.sql`.
    public init(fileName: String, contents: String) throws {
        let match = fileName.wholeMatch(of: /(\d+)_([A-Za-z0-9_\-]+)\.sql/)
        guard let match, let version = Int(match.1), version > 0 else {
            throw MigrationError(
                code: .invalidFileName,
                message: "migration file '\(fileName)' must be named NNNN_description.sql with a positive number"
            )
        }
        self.init(version: version, name: String(match.2), sql: contents)
    }

    /// The migrations shipped with this module, in version order.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError(
                code: .missingFiles,
                message: "the bundled Migrations folder is missing from \(Bundle.module.bundlePath)"
            )
        }
        return try load(from: directory)
    }

    /// Every `.sql` file of a folder, in version order.
    /// - Throws: `MigrationError` for a bad file name, two files with one version, or an unreadable folder.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        } catch {
            throw MigrationError(
                code: .missingFiles,
                message: "cannot read migrations from \(directory.path): \(error)"
            )
        }
        let migrations = try names.map { name in
            try Migration(
                fileName: name,
                contents: String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            )
        }
        return try ordered(migrations)
    }

    /// Sorts by version and refuses duplicates.
    public static func ordered(_ migrations: [Migration]) throws -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw MigrationError(
                code: .duplicateVersion,
                message: "migrations \(a.name) and \(b.name) share version \(a.version)"
            )
        }
        return sorted
    }
}

/// Why migrations could not run. Nothing is applied after the first error.
public struct MigrationError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let invalidFileName = Code(name: "invalidFileName")
        public static let duplicateVersion = Code(name: "duplicateVersion")
        public static let missingFiles = Code(name: "missingFiles")
        /// A migration recorded as applied has different contents now.
        public static let checksumMismatch = Code(name: "checksumMismatch")
        /// The database has a migration this build does not know: it is newer than the code.
        public static let unknownAppliedMigration = Code(name: "unknownAppliedMigration")
        /// A migration's SQL failed; it was rolled back.
        public static let failed = Code(name: "failed")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "MigrationError(\(code)): \(message)" }
}
