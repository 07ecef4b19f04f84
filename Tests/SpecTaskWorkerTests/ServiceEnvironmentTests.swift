import Kafka
import SpecTaskDomain
import SpecTaskStore
import Testing

@testable import SpecTaskWorker

@Suite("Settings from the environment")
struct ServiceEnvironmentTests {
    @Test("nothing set: the local services of scripts/services")
    func defaults() throws {
        #expect(try ServiceEnvironment.kafka([:]).bootstrapServers == ["127.0.0.1:19092"])
        let database = try ServiceEnvironment.database([:])
        #expect(database.host == "127.0.0.1")
        #expect(database.port == 55432)
        #expect(database.database == "spectask")
        let settings = try ServiceEnvironment.workerSettings([:])
        #expect(settings == WorkerSettings())
        #expect(settings.inputTopics == ["spectask.commands", "zed.events"])
    }

    @Test("Kafka: servers, SASL, TLS and extra librdkafka properties")
    func kafka() throws {
        let configuration = try ServiceEnvironment.kafka([
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092, k2:9093",
            "KAFKA_CLIENT_ID": "worker-7",
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "scram-sha-256",
            "KAFKA_SASL_USERNAME": "user",
            "KAFKA_SASL_PASSWORD": "pass",
            "KAFKA_SSL_CA_LOCATION": "/etc/ca.pem",
            "KAFKA_PROPERTY_SOCKET_TIMEOUT_MS": "5000",
        ])
        #expect(configuration.bootstrapServers == ["k1:9092", "k2:9093"])
        #expect(configuration.clientID == "worker-7")
        #expect(configuration.securityProtocol == .saslSSL)
        #expect(configuration.sasl == .init(mechanism: "SCRAM-SHA-256", username: "user", password: "pass"))
        #expect(configuration.tls.caLocation == "/etc/ca.pem")
        #expect(configuration.additionalProperties == ["socket.timeout.ms": "5000"])
    }

    @Test("a flag wins over the environment")
    func flagWins() throws {
        let configuration = try ServiceEnvironment.kafka(
            ["KAFKA_BOOTSTRAP_SERVERS": "env:1"],
            bootstrapServers: "flag:2"
        )
        #expect(configuration.bootstrapServers == ["flag:2"])
        let database = try ServiceEnvironment.database(
            ["POSTGRES_URL": "postgres://a@env/x"],
            url: "postgres://b@flag/y"
        )
        #expect(database.host == "flag")
    }

    @Test(
        "bad Kafka settings name the variable",
        arguments: [
            (["KAFKA_BOOTSTRAP_SERVERS": ""], "are empty"),
            (["KAFKA_BOOTSTRAP_SERVERS": "host"], "'host' is not host:port"),
            (["KAFKA_BOOTSTRAP_SERVERS": "host:0"], "'host:0' is not host:port"),
            (["KAFKA_BOOTSTRAP_SERVERS": "host:70000"], "port from 1 to 65535"),
            (["KAFKA_BOOTSTRAP_SERVERS": ":9092"], "is not host:port"),
            (["KAFKA_SECURITY_PROTOCOL": "tls"], "KAFKA_SECURITY_PROTOCOL is 'tls'"),
            (["KAFKA_SECURITY_PROTOCOL": "sasl_plaintext"], "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
            (
                [
                    "KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p",
                    "KAFKA_SASL_MECHANISM": "GSSAPI",
                ], "KAFKA_SASL_MECHANISM is 'GSSAPI'"
            ),
            (["KAFKA_PROPERTY_": "x"], "names no librdkafka property"),
        ]
    )
    func badKafka(env: [String: String], message: String) {
        let error = #expect(throws: ConfigurationError.self) { try ServiceEnvironment.kafka(env) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("PostgreSQL from the POSTGRES_* variables")
    func postgresVariables() throws {
        let database = try ServiceEnvironment.database([
            "POSTGRES_HOSTNAME": "db", "POSTGRES_PORT": "6000", "POSTGRES_USER": "u", "POSTGRES_PASSWORD": "p",
            "POSTGRES_DB": "d", "POSTGRES_SSLMODE": "require", "POSTGRES_MAX_CONNECTIONS": "50",
        ])
        #expect(
            database
                == DatabaseConfiguration(
                    host: "db",
                    port: 6000,
                    username: "u",
                    password: "p",
                    database: "d",
                    tls: .require,
                    maximumConnections: 50
                )
        )
    }

    @Test(
        "bad PostgreSQL settings name the variable",
        arguments: [
            (["POSTGRES_HOSTNAME": "db", "POSTGRES_PORT": "http"], "POSTGRES_PORT is 'http'"),
            (["POSTGRES_HOSTNAME": "db", "POSTGRES_PORT": "-1"], "POSTGRES_PORT is '-1'"),
            (["POSTGRES_HOSTNAME": "db", "POSTGRES_SSLMODE": "maybe"], "POSTGRES_SSLMODE is 'maybe'"),
            (["POSTGRES_MAX_CONNECTIONS": "0"], "POSTGRES_MAX_CONNECTIONS is '0'"),
            (["POSTGRES_MAX_CONNECTIONS": "lots"], "POSTGRES_MAX_CONNECTIONS is 'lots'"),
            (["POSTGRES_URL": "http://x"], "is not a PostgreSQL URL"),
        ]
    )
    func badPostgres(env: [String: String], message: String) {
        let error = #expect(throws: ConfigurationError.self) { try ServiceEnvironment.database(env) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("worker settings from the environment, topic prefix applied to the input topics")
    func workerSettings() throws {
        let settings = try ServiceEnvironment.workerSettings([
            "SPECTASK_GROUP_ID": "blue", "SPECTASK_TOPIC_PREFIX": "staging.", "SPECTASK_ADMIN_ADDRESS": "0.0.0.0:9000",
            "SPECTASK_MAX_BATCH": "100", "SPECTASK_HEARTBEAT_TIMEOUT": "1500ms", "SPECTASK_HEARTBEAT_FAIL_AFTER": "2m",
            "SPECTASK_SWEEP_INTERVAL": "0.5", "SPECTASK_DATABASE_TIMEOUT": "45s",
            "SPECTASK_INSTANCE_READY_TIMEOUT": "5m",
        ])
        #expect(settings.databaseTimeout == .seconds(45))
        #expect(settings.groupID == "blue")
        #expect(settings.inputTopics == ["staging.spectask.commands", "staging.zed.events"])
        #expect(settings.adminHost == "0.0.0.0")
        #expect(settings.adminPort == 9000)
        #expect(settings.maxBatchSize == 100)
        #expect(settings.heartbeatTimeout == .milliseconds(1500))
        #expect(settings.heartbeatFailAfter == .seconds(120))
        #expect(settings.sweepInterval == .milliseconds(500))
        #expect(settings.instanceReadyTimeout == .seconds(300))
        let timeouts = settings.instanceTimeouts
        #expect(
            [timeouts.ready, timeouts.heartbeat, timeouts.failAfter] == [
                .seconds(300), .milliseconds(1500), .seconds(120),
            ]
        )
    }

    @Test("heartbeat timeouts default to 15 s and 60 s, swept every second")
    func heartbeatDefaults() throws {
        let settings = try ServiceEnvironment.workerSettings([:])
        #expect(settings.heartbeatTimeout == .seconds(15))
        #expect(settings.heartbeatFailAfter == .seconds(60))
        #expect(settings.sweepInterval == .seconds(1))
    }

    @Test("a pending instance times out after 2 minutes by default")
    func instanceReadyTimeoutDefault() throws {
        #expect(try ServiceEnvironment.workerSettings([:]).instanceReadyTimeout == .seconds(120))
        #expect(
            try ServiceEnvironment.workerSettings(["SPECTASK_INSTANCE_READY_TIMEOUT": "2s"]).instanceReadyTimeout
                == .seconds(2)
        )
    }

    @Test("planning runs outside Zed unless SPECTASK_PLANNING_IN_ZED says otherwise, with the agent config given")
    func planningDefaults() throws {
        #expect(try ServiceEnvironment.workerSettings([:]).planning == PlanningDefaults())
        let settings = try ServiceEnvironment.workerSettings([
            "SPECTASK_PLANNING_IN_ZED": " Yes ", "SPECTASK_PLANNING_AGENT_CONFIG": #"{"model": "planner", "depth": 2}"#,
        ])
        #expect(settings.planning.inZed)
        #expect(settings.planning.agentConfig == .object(["model": .string("planner"), "depth": .number(2)]))
        #expect(try !ServiceEnvironment.workerSettings(["SPECTASK_PLANNING_IN_ZED": "0"]).planning.inZed)
    }

    @Test(
        "bad worker settings are refused",
        arguments: [
            (["SPECTASK_GROUP_ID": ""], "must be non-empty"), (["SPECTASK_GROUP_ID": "a b"], "without spaces"),
            (["SPECTASK_TOPIC_PREFIX": "a/b"], "would make illegal topic names"),
            (["SPECTASK_ADMIN_ADDRESS": "8081"], "is not host:port"),
            (["SPECTASK_ADMIN_ADDRESS": "h:-1"], "is not host:port"),
            (["SPECTASK_MAX_BATCH": "many"], "SPECTASK_MAX_BATCH is 'many'"),
            (["SPECTASK_RUNNER_SECRET": "short"], "at least 16 bytes"),
            (["SPECTASK_MAX_BATCH": "100000"], "expected 1 to 10000"),
            (["SPECTASK_HEARTBEAT_TIMEOUT": "soon"], "SPECTASK_HEARTBEAT_TIMEOUT is 'soon'"),
            (["SPECTASK_HEARTBEAT_TIMEOUT": "-5s"], "expected a duration"),
            (["SPECTASK_HEARTBEAT_TIMEOUT": "0"], "expected a duration"),
            (["SPECTASK_HEARTBEAT_TIMEOUT": "nan"], "expected a duration"),
            (["SPECTASK_SWEEP_INTERVAL": "2d"], "SPECTASK_SWEEP_INTERVAL is '2d'"),
            (["SPECTASK_DATABASE_TIMEOUT": "-5s"], "SPECTASK_DATABASE_TIMEOUT is '-5s'"),
            (["SPECTASK_HEARTBEAT_FAIL_AFTER": "100000m"], "expected a duration"),
            (["SPECTASK_INSTANCE_READY_TIMEOUT": "later"], "SPECTASK_INSTANCE_READY_TIMEOUT is 'later'"),
            (["SPECTASK_INSTANCE_READY_TIMEOUT": "-2m"], "expected a duration from 1ms to 24h"),
            (["SPECTASK_INSTANCE_READY_TIMEOUT": "0s"], "SPECTASK_INSTANCE_READY_TIMEOUT is '0s'"),
            (["SPECTASK_INSTANCE_READY_TIMEOUT": "3d"], "SPECTASK_INSTANCE_READY_TIMEOUT is '3d'"),
            (["SPECTASK_INSTANCE_READY_TIMEOUT": "2 minutes"], "SPECTASK_INSTANCE_READY_TIMEOUT is '2 minutes'"),
            (["SPECTASK_HEARTBEAT_TIMEOUT": "60s", "SPECTASK_HEARTBEAT_FAIL_AFTER": "30s"], "must be longer than"),
            (["SPECTASK_PLANNING_IN_ZED": "maybe"], "SPECTASK_PLANNING_IN_ZED is 'maybe'; expected true or false"),
            (["SPECTASK_PLANNING_AGENT_CONFIG": "{\"model\":"], "SPECTASK_PLANNING_AGENT_CONFIG is not JSON"),
            (["SPECTASK_PLANNING_AGENT_CONFIG": "{\"a\":1,\"a\":2}"], "SPECTASK_PLANNING_AGENT_CONFIG is not JSON"),
            (["SPECTASK_PLANNING_AGENT_CONFIG": "[1]"], "must be a JSON object"),
            (["SPECTASK_PLANNING_AGENT_CONFIG": String(repeating: "[", count: 10_000)], "is not JSON"),
        ]
    )
    func badWorkerSettings(env: [String: String], message: String) {
        let error = #expect(throws: ConfigurationError.self) { try ServiceEnvironment.workerSettings(env) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }
}
