import Testing

@testable import SpecTaskStore

@Suite("PostgreSQL connection settings")
struct DatabaseConfigurationTests {
    @Test("a full URL fills every field, percent-decoding the credentials")
    func fullURL() throws {
        let configuration = try DatabaseConfiguration(
            url: "postgres://app%40x:p%3Ass@db.example:6543/prod?sslmode=verify-full&sslrootcert=/ca.pem"
        )
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "app@x")
        #expect(configuration.password == "p:ss")
        #expect(configuration.database == "prod")
        #expect(configuration.tls == .verifyFull)
        #expect(configuration.rootCertificatePath == "/ca.pem")
        _ = try configuration.clientConfiguration()
    }

    @Test("defaults: port 5432, no password, TLS off; postgresql:// works too")
    func defaults() throws {
        let configuration = try DatabaseConfiguration(url: "postgresql://me@localhost/db")
        #expect(configuration.port == 5432)
        #expect(configuration.password == nil)
        #expect(configuration.tls == .disable)
    }

    @Test(
        "sslmode values map like libpq's",
        arguments: [
            ("disable", DatabaseConfiguration.TLSMode.disable), ("prefer", .prefer), ("require", .require),
            ("verify-ca", .verifyFull), ("VERIFY-FULL", .verifyFull),
        ]
    )
    func sslModes(value: String, expected: DatabaseConfiguration.TLSMode) throws {
        #expect(try DatabaseConfiguration(url: "postgres://u@h/d?sslmode=\(value)").tls == expected)
    }

    @Test(
        "malformed URLs fail with what is wrong",
        arguments: [
            ("mysql://u@h/d", "is not a PostgreSQL URL"), ("not a url", "is not a PostgreSQL URL"),
            ("postgres:///d", "has no host"),
            ("postgres://h/d", "has no user name"), ("postgres://u@h", "names no database"),
            ("postgres://u@h/", "names no database"),
            ("postgres://u@h/d?sslmode=always", "expected one of disable, prefer, require, verify-full"),
            ("postgres://u@h/d?timeout=3", "unknown PostgreSQL URL parameter 'timeout'"),
        ]
    )
    func malformed(url: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) { try DatabaseConfiguration(url: url) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("passwords never appear in errors or descriptions")
    func redaction() throws {
        let error = #expect(throws: ConfigurationError.self) { try DatabaseConfiguration(url: "postgres://u:secret@h") }
        #expect(error?.message.contains("secret") == false)
        #expect(error?.message.contains("postgres://u:***@h") == true)
        let configuration = try DatabaseConfiguration(url: "postgres://u:secret@h/d")
        #expect(!"\(configuration)".contains("secret"))
    }
}
