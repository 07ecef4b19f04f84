import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL database is and how to reach it.
///
/// Filled from a `postgres://user:password@host:port/database?sslmode=…` URL or from the usual `POSTGRES_*`
/// variables by the executable; this type only validates and converts.
public struct DatabaseConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// TLS towards the server, named like libpq's `sslmode`.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without verifying its certificate.
        case prefer
        /// TLS always, without verifying the certificate (libpq's `require`).
        case require
        /// TLS always, certificate checked against the trust roots and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// PEM file with the CA certificates to trust (`sslrootcert`); the system's roots when `nil`.
    public var rootCertificatePath: String?
    /// Pool size of the PostgreSQL client. Default 20.
    public var maximumConnections: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 5432,
        username: String = "spectask",
        password: String? = nil,
        database: String = "spectask",
        tls: TLSMode = .disable,
        rootCertificatePath: String? = nil,
        maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
        self.maximumConnections = maximumConnections
    }

    /// Parses a PostgreSQL URL: `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…]`.
    /// - Throws: `ConfigurationError` saying which part is wrong.
    public init(url string: String) throws {
        guard let components = URLComponents(string: string), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw ConfigurationError(
                "'\(DatabaseConfiguration.redacted(string))' is not a PostgreSQL URL; expected postgres://user:password@host:port/database"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw ConfigurationError("the PostgreSQL URL '\(DatabaseConfiguration.redacted(string))' has no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ConfigurationError("the PostgreSQL URL '\(DatabaseConfiguration.redacted(string))' has no user name")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw ConfigurationError(
                "the PostgreSQL URL '\(DatabaseConfiguration.redacted(string))' names no database (…/DATABASE)"
            )
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database
        )
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode": tls = try Self.tlsMode(item.value ?? "", source: "sslmode in the PostgreSQL URL")
            case "sslrootcert": rootCertificatePath = item.value
            default:
                throw ConfigurationError(
                    "unknown PostgreSQL URL parameter '\(item.name)'; supported: sslmode, sslrootcert"
                )
            }
        }
    }

    /// Reads `sslmode`-style values; `verify-ca` is treated as the stricter `verify-full`.
    public static func tlsMode(_ value: String, source: String) throws -> TLSMode {
        if value == "verify-ca" { return .verifyFull }
        guard let mode = TLSMode(rawValue: value.lowercased()) else {
            throw ConfigurationError(
                "\(source) is '\(value)'; expected one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return mode
    }

    /// The PostgresNIO client configuration these settings stand for.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tlsSetting: PostgresClient.Configuration.TLS
        switch tls {
        case .disable:
            tlsSetting = .disable
        case .prefer, .require:
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.certificateVerification = .none
            tlsSetting = tls == .prefer ? .prefer(tlsConfiguration) : .require(tlsConfiguration)
        case .verifyFull:
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if let rootCertificatePath {
                tlsConfiguration.trustRoots = .file(rootCertificatePath)
            }
            tlsSetting = .require(tlsConfiguration)
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tlsSetting
        )
        configuration.options.maximumConnections = maximumConnections
        return configuration
    }

    /// The URL without the password, for logs and error messages.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    static func redacted(_ url: String) -> String {
        url.replacing(/:\/\/([^:@\/]*):[^@\/]*@/) { "://\($0.1):***@" }
    }
}

/// A configuration value that can not be used, with a message that says which one and what is expected.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
