import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore

/// Reads connection settings from environment variables (the executable passes `ProcessInfo`'s environment).
///
/// Kafka: `KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_CLIENT_ID`, `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`,
/// `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`, `KAFKA_SSL_CA_LOCATION`, `KAFKA_SSL_CERTIFICATE_LOCATION`,
/// `KAFKA_SSL_KEY_LOCATION`, `KAFKA_SSL_KEY_PASSWORD`, and `KAFKA_PROPERTY_<NAME>` for any librdkafka property
/// (`KAFKA_PROPERTY_SOCKET_TIMEOUT_MS=5000` sets `socket.timeout.ms`).
///
/// PostgreSQL: `POSTGRES_URL`, or `POSTGRES_HOSTNAME`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`,
/// `POSTGRES_DB`, `POSTGRES_SSLMODE`, `POSTGRES_SSLROOTCERT`; plus `POSTGRES_MAX_CONNECTIONS`.
///
/// The defaults are the local services that `scripts/services up` starts.
public enum ServiceEnvironment {
    public static let defaultBootstrapServers = "127.0.0.1:19092"
    public static let defaultPostgresURL = "postgres://spectask@127.0.0.1:55432/spectask?sslmode=disable"

    /// - Throws: `ConfigurationError` naming the variable and what it should hold.
    public static func kafka(
        _ env: [String: String],
        bootstrapServers override: String? = nil
    ) throws -> KafkaConfiguration {
        let servers = try parseBootstrapServers(override ?? env["KAFKA_BOOTSTRAP_SERVERS"] ?? defaultBootstrapServers)
        var configuration = KafkaConfiguration(
            bootstrapServers: servers,
            clientID: env["KAFKA_CLIENT_ID"] ?? "spectask"
        )
        if let value = env["KAFKA_SECURITY_PROTOCOL"] {
            guard let parsed = KafkaConfiguration.SecurityProtocol(rawValue: value.lowercased()) else {
                throw ConfigurationError(
                    "KAFKA_SECURITY_PROTOCOL is '\(value)'; expected one of "
                        + KafkaConfiguration.SecurityProtocol.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            configuration.securityProtocol = parsed
        }
        if [.saslPlaintext, .saslSSL].contains(configuration.securityProtocol) {
            guard let username = env["KAFKA_SASL_USERNAME"], let password = env["KAFKA_SASL_PASSWORD"] else {
                throw ConfigurationError(
                    "KAFKA_SECURITY_PROTOCOL=\(configuration.securityProtocol.rawValue) needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
                )
            }
            let mechanism = env["KAFKA_SASL_MECHANISM"] ?? "PLAIN"
            guard ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(mechanism.uppercased()) else {
                throw ConfigurationError(
                    "KAFKA_SASL_MECHANISM is '\(mechanism)'; expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
                )
            }
            configuration.sasl = .init(mechanism: mechanism.uppercased(), username: username, password: password)
        }
        configuration.tls = .init(
            caLocation: env["KAFKA_SSL_CA_LOCATION"],
            certificateLocation: env["KAFKA_SSL_CERTIFICATE_LOCATION"],
            keyLocation: env["KAFKA_SSL_KEY_LOCATION"],
            keyPassword: env["KAFKA_SSL_KEY_PASSWORD"]
        )
        for (key, value) in env where key.hasPrefix("KAFKA_PROPERTY_") {
            let name = key.dropFirst("KAFKA_PROPERTY_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            guard !name.isEmpty else { throw ConfigurationError("\(key) names no librdkafka property") }
            configuration.additionalProperties[name] = value
        }
        return configuration
    }

    /// `host:port[,host:port…]`.
    public static func parseBootstrapServers(_ value: String) throws -> [String] {
        let servers = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !servers.isEmpty else {
            throw ConfigurationError("the Kafka bootstrap servers are empty; expected host:port[,host:port…]")
        }
        for server in servers {
            guard let colon = server.lastIndex(of: ":"), colon != server.startIndex,
                let port = Int(server[server.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw ConfigurationError(
                    "Kafka bootstrap server '\(server)' is not host:port with a port from 1 to 65535"
                )
            }
        }
        return servers
    }

    /// - Throws: `ConfigurationError` naming the variable and what it should hold.
    public static func database(_ env: [String: String], url override: String? = nil) throws -> DatabaseConfiguration {
        var configuration: DatabaseConfiguration
        if let url = override ?? env["POSTGRES_URL"] {
            configuration = try DatabaseConfiguration(url: url)
        } else if env["POSTGRES_HOSTNAME"] != nil || env["POSTGRES_HOST"] != nil {
            configuration = DatabaseConfiguration(
                host: env["POSTGRES_HOSTNAME"] ?? env["POSTGRES_HOST"]!,
                port: try env["POSTGRES_PORT"].map { try port($0, variable: "POSTGRES_PORT") } ?? 5432,
                username: env["POSTGRES_USER"] ?? env["POSTGRES_USERNAME"] ?? "spectask",
                password: env["POSTGRES_PASSWORD"],
                database: env["POSTGRES_DB"] ?? env["POSTGRES_DATABASE"] ?? "spectask"
            )
            if let mode = env["POSTGRES_SSLMODE"] {
                configuration.tls = try DatabaseConfiguration.tlsMode(mode, source: "POSTGRES_SSLMODE")
            }
            configuration.rootCertificatePath = env["POSTGRES_SSLROOTCERT"]
        } else {
            configuration = try DatabaseConfiguration(url: defaultPostgresURL)
        }
        if let value = env["POSTGRES_MAX_CONNECTIONS"] {
            guard let count = Int(value), (1...1000).contains(count) else {
                throw ConfigurationError("POSTGRES_MAX_CONNECTIONS is '\(value)'; expected a number from 1 to 1000")
            }
            configuration.maximumConnections = count
        }
        return configuration
    }

    static func port(_ value: String, variable: String) throws -> Int {
        guard let port = Int(value), (1...65535).contains(port) else {
            throw ConfigurationError("\(variable) is '\(value)'; expected a port number from 1 to 65535")
        }
        return port
    }
}

// MARK: - Worker settings

extension ServiceEnvironment {
    /// Worker settings from flags (when given) or `SPECTASK_GROUP_ID`, `SPECTASK_TOPIC_PREFIX`,
    /// `SPECTASK_ADMIN_ADDRESS`, `SPECTASK_MAX_BATCH`.
    public static func workerSettings(
        _ env: [String: String],
        groupID: String? = nil,
        topicPrefix: String? = nil,
        adminAddress: String? = nil,
        maxBatchSize: Int? = nil
    ) throws -> WorkerSettings {
        var settings = WorkerSettings()
        if let group = groupID ?? env["SPECTASK_GROUP_ID"] {
            settings.groupID = try self.groupID(group)
        }
        settings.topicPrefix = try self.topicPrefix(topicPrefix ?? env["SPECTASK_TOPIC_PREFIX"] ?? "")
        if let secret = env["SPECTASK_RUNNER_SECRET"] {
            guard secret.utf8.count >= 16 else {
                throw ConfigurationError("SPECTASK_RUNNER_SECRET must be at least 16 bytes long")
            }
            settings.runnerSecret = secret
        }
        if let address = adminAddress ?? env["SPECTASK_ADMIN_ADDRESS"] {
            guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
                let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port)
            else {
                throw ConfigurationError("the admin address '\(address)' is not host:port with a port from 0 to 65535")
            }
            settings.adminHost = String(address[..<colon])
            settings.adminPort = port
        }
        if let batch = try maxBatchSize
            ?? env["SPECTASK_MAX_BATCH"].map({ value in
                guard let number = Int(value) else {
                    throw ConfigurationError("SPECTASK_MAX_BATCH is '\(value)'; expected a number")
                }
                return number
            })
        {
            guard (1...10_000).contains(batch) else {
                throw ConfigurationError("the batch size is \(batch); expected 1 to 10000")
            }
            settings.maxBatchSize = batch
        }
        if let value = env["SPECTASK_HEARTBEAT_TIMEOUT"] {
            settings.heartbeatTimeout = try duration(value, of: "SPECTASK_HEARTBEAT_TIMEOUT")
        }
        if let value = env["SPECTASK_HEARTBEAT_FAIL_AFTER"] {
            settings.heartbeatFailAfter = try duration(value, of: "SPECTASK_HEARTBEAT_FAIL_AFTER")
        }
        if let value = env["SPECTASK_INSTANCE_READY_TIMEOUT"] {
            settings.instanceReadyTimeout = try duration(value, of: "SPECTASK_INSTANCE_READY_TIMEOUT")
        }
        if let value = env["SPECTASK_SWEEP_INTERVAL"] {
            settings.sweepInterval = try duration(value, of: "SPECTASK_SWEEP_INTERVAL")
        }
        if let value = env["SPECTASK_DATABASE_TIMEOUT"] {
            settings.databaseTimeout = try duration(value, of: "SPECTASK_DATABASE_TIMEOUT")
        }
        try readRetention(env, into: &settings)
        settings.planning = try planningDefaults(env)
        guard settings.heartbeatFailAfter > settings.heartbeatTimeout else {
            throw ConfigurationError(
                "SPECTASK_HEARTBEAT_FAIL_AFTER (\(settings.heartbeatFailAfter)) must be longer than "
                    + "SPECTASK_HEARTBEAT_TIMEOUT (\(settings.heartbeatTimeout))"
            )
        }
        return settings
    }

    /// `250ms`, `15s`, `2m`, `12h`, `8d`, or a number of seconds; at least 1ms and at most `maximum` (a day unless
    /// the setting allows more, like the retention periods).
    public static func duration(
        _ value: String,
        of name: String,
        maximum: Duration = .seconds(86_400)
    ) throws -> Duration {
        let text = value.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, milliseconds: Double)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        let unit = units.first { text.hasSuffix($0.suffix) } ?? ("", 1000)
        let maximumMilliseconds = maximum.seconds * 1000
        guard let number = Double(text.dropLast(unit.suffix.count)), number.isFinite,
            case let milliseconds = number * unit.milliseconds, milliseconds >= 1, milliseconds <= maximumMilliseconds
        else {
            let examples = maximum > .seconds(86_400) ? "30m, 12h or 8d" : "500ms, 15s or 2m"
            throw ConfigurationError(
                "\(name) is '\(value)'; expected a duration from 1ms to \(describe(maximum)) such as \(examples)"
            )
        }
        return .milliseconds(Int64(milliseconds.rounded()))
    }

    /// A duration in the largest unit of ``duration(_:of:maximum:)`` that divides it, in days only beyond one:
    /// `24h`, `8d`, `90s`, `1500ms`.
    public static func describe(_ duration: Duration) -> String {
        let milliseconds = Int64((duration.seconds * 1000).rounded())
        guard milliseconds != 86_400_000 else { return "24h" }
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
        ]
        for unit in units where milliseconds != 0 && milliseconds % unit.milliseconds == 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }
}

// MARK: - Retention

extension ServiceEnvironment {
    /// The longest retention period a setting accepts.
    public static let maximumRetention: Duration = .seconds(400 * 86_400)

    /// `SPECTASK_INBOX_RETENTION`, `SPECTASK_COORDINATION_RETENTION`, `SPECTASK_DEAD_LETTER_RETENTION` (up to
    /// 400 days each) and `SPECTASK_PRUNE_INTERVAL` (up to a day).
    static func readRetention(_ env: [String: String], into settings: inout WorkerSettings) throws {
        if let value = env["SPECTASK_INBOX_RETENTION"] {
            settings.inboxRetention = try duration(value, of: "SPECTASK_INBOX_RETENTION", maximum: maximumRetention)
        }
        if let value = env["SPECTASK_COORDINATION_RETENTION"] {
            settings.coordinationRetention = try duration(
                value,
                of: "SPECTASK_COORDINATION_RETENTION",
                maximum: maximumRetention
            )
        }
        if let value = env["SPECTASK_DEAD_LETTER_RETENTION"] {
            settings.deadLetterRetention = try duration(
                value,
                of: "SPECTASK_DEAD_LETTER_RETENTION",
                maximum: maximumRetention
            )
        }
        if let value = env["SPECTASK_PRUNE_INTERVAL"] {
            settings.pruneInterval = try duration(value, of: "SPECTASK_PRUNE_INTERVAL")
        }
    }
}

extension ServiceEnvironment {
    /// A consumer group id: non-empty ASCII without spaces.
    public static func groupID(_ group: String) throws -> String {
        guard !group.isEmpty, group.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ConfigurationError("the group id '\(group)' must be non-empty ASCII without spaces")
        }
        return group
    }

    /// A topic prefix must keep every topic name legal: ASCII letters, digits, '.', '_' and '-'.
    public static func topicPrefix(_ prefix: String) throws -> String {
        guard !prefix.isEmpty else { return "" }
        do {
            try TopicName.validate(prefix + TopicNames.commands)
        } catch {
            throw ConfigurationError(
                "the topic prefix '\(prefix)' would make illegal topic names; use ASCII letters, digits, '.', '_' and '-'"
            )
        }
        return prefix
    }
}

// MARK: - Planning

extension ServiceEnvironment {
    /// `SPECTASK_PLANNING_IN_ZED` (`true`/`false`, `1`/`0`, `yes`/`no`) and `SPECTASK_PLANNING_AGENT_CONFIG` (a
    /// JSON object): how `start_planning` plans when the command does not say.
    static func planningDefaults(_ env: [String: String]) throws -> PlanningDefaults {
        var defaults = PlanningDefaults()
        if let value = env["SPECTASK_PLANNING_IN_ZED"] {
            switch value.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "1", "yes", "on": defaults.inZed = true
            case "false", "0", "no", "off", "": defaults.inZed = false
            default:
                throw ConfigurationError("SPECTASK_PLANNING_IN_ZED is '\(value)'; expected true or false")
            }
        }
        if let text = env["SPECTASK_PLANNING_AGENT_CONFIG"] {
            switch JSONValue.parse(text) {
            case .success(let config):
                guard case .object = config else {
                    throw ConfigurationError(
                        "SPECTASK_PLANNING_AGENT_CONFIG must be a JSON object, like {\"model\": \"x\"}"
                    )
                }
                defaults.agentConfig = config
            case .failure(let error):
                throw ConfigurationError("SPECTASK_PLANNING_AGENT_CONFIG is not JSON: \(error.message)")
            }
        }
        return defaults
    }
}
