/// Settings every Kafka client (producer, consumer, admin) shares: where the brokers are and how to reach them.
public struct KafkaConfiguration: Sendable, Hashable {
    /// How to talk to the brokers (`security.protocol`).
    public enum SecurityProtocol: String, Sendable, Hashable, CaseIterable {
        case plaintext
        case ssl
        case saslPlaintext = "sasl_plaintext"
        case saslSSL = "sasl_ssl"
    }

    /// SASL credentials, used with `saslPlaintext` and `saslSSL`.
    public struct SASL: Sendable, Hashable {
        /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
        public var mechanism: String
        public var username: String
        public var password: String

        public init(mechanism: String = "PLAIN", username: String, password: String) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
        }
    }

    /// TLS files, used with `ssl` and `saslSSL`. Unset paths fall back to the system's trust store.
    public struct TLS: Sendable, Hashable {
        public var caLocation: String?
        public var certificateLocation: String?
        public var keyLocation: String?
        public var keyPassword: String?

        public init(
            caLocation: String? = nil,
            certificateLocation: String? = nil,
            keyLocation: String? = nil,
            keyPassword: String? = nil
        ) {
            self.caLocation = caLocation
            self.certificateLocation = certificateLocation
            self.keyLocation = keyLocation
            self.keyPassword = keyPassword
        }
    }

    /// `host:port` of one or more brokers. Default: `127.0.0.1:9092`.
    public var bootstrapServers: [String]
    /// Identifies this process in broker logs. Default: `spectask`.
    public var clientID: String
    public var securityProtocol: SecurityProtocol
    public var sasl: SASL?
    public var tls: TLS
    /// Any other librdkafka property (see librdkafka's CONFIGURATION.md); applied last, so it wins.
    public var additionalProperties: [String: String]

    public init(
        bootstrapServers: [String] = ["127.0.0.1:9092"],
        clientID: String = "spectask",
        securityProtocol: SecurityProtocol = .plaintext,
        sasl: SASL? = nil,
        tls: TLS = TLS(),
        additionalProperties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.securityProtocol = securityProtocol
        self.sasl = sasl
        self.tls = tls
        self.additionalProperties = additionalProperties
    }

    /// The librdkafka properties these settings stand for.
    var properties: [String: String] {
        var p: [String: String] = [
            "bootstrap.servers": bootstrapServers.joined(separator: ","),
            "client.id": clientID,
            "security.protocol": securityProtocol.rawValue,
        ]
        if let sasl {
            p["sasl.mechanism"] = sasl.mechanism
            p["sasl.username"] = sasl.username
            p["sasl.password"] = sasl.password
        }
        p["ssl.ca.location"] = tls.caLocation
        p["ssl.certificate.location"] = tls.certificateLocation
        p["ssl.key.location"] = tls.keyLocation
        p["ssl.key.password"] = tls.keyPassword
        return p
    }
}

/// Producer settings. Idempotence is always on: a retried send never writes a message twice.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    public var common: KafkaConfiguration
    /// How long librdkafka waits to fill a batch (`linger.ms`). Default 5 ms.
    public var linger: Duration
    /// How long a message may wait for delivery before `send` fails (`message.timeout.ms`). Default 30 s.
    public var messageTimeout: Duration

    public init(
        common: KafkaConfiguration,
        linger: Duration = .milliseconds(5),
        messageTimeout: Duration = .seconds(30)
    ) {
        self.common = common
        self.linger = linger
        self.messageTimeout = messageTimeout
    }

    var properties: [String: String] {
        var p = [
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": String(linger.milliseconds),
            "message.timeout.ms": String(messageTimeout.milliseconds),
        ]
        p.merge(common.properties) { $1 }
        p.merge(common.additionalProperties) { $1 }
        return p
    }
}

/// Consumer settings. Offsets are never committed automatically: the application commits what it has finished.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    public enum OffsetReset: String, Sendable, Hashable {
        case earliest, latest
    }

    public var common: KafkaConfiguration
    /// The consumer group this member joins (`group.id`).
    public var groupID: String
    /// Topics to subscribe to.
    public var topics: [String]
    /// Where a partition without a committed offset starts. Default: `earliest`, so nothing is missed.
    public var offsetReset: OffsetReset
    /// A member silent for this long is expelled (`session.timeout.ms`). Default 10 s.
    public var sessionTimeout: Duration
    /// A member that does not poll for this long leaves the group (`max.poll.interval.ms`). Default 30 s;
    /// it also bounds how long a join waits for slow members on brokers like Tansu.
    public var maxPollInterval: Duration
    /// `partition.assignment.strategy`. Default `cooperative-sticky`: a rebalance only moves the partitions that change owner.
    public var assignmentStrategy: String
    /// How long the broker may hold a fetch that finds nothing (`fetch.wait.max.ms`). Default 10 ms: Tansu looks
    /// for new data only at the start and then after half the remaining wait each time, so librdkafka's 500 ms
    /// default put up to a quarter of a second between a message's arrival and its delivery. The other side of it:
    /// Tansu's memory storage lists every stored batch of a partition on each fetch and answers empty when that
    /// takes longer than this wait, so very long topics (about 20,000 batches per partition on a busy 2-core
    /// machine) need a longer one (`KAFKA_PROPERTY_FETCH_WAIT_MAX_MS`; `spectask chaos --fetch-wait-ms`).
    public var fetchWaitMax: Duration

    public init(
        common: KafkaConfiguration,
        groupID: String,
        topics: [String],
        offsetReset: OffsetReset = .earliest,
        sessionTimeout: Duration = .seconds(10),
        maxPollInterval: Duration = .seconds(30),
        assignmentStrategy: String = "cooperative-sticky",
        fetchWaitMax: Duration = .milliseconds(10)
    ) {
        self.common = common
        self.groupID = groupID
        self.topics = topics
        self.offsetReset = offsetReset
        self.sessionTimeout = sessionTimeout
        self.maxPollInterval = maxPollInterval
        self.assignmentStrategy = assignmentStrategy
        self.fetchWaitMax = fetchWaitMax
    }

    var properties: [String: String] {
        var p = [
            "group.id": groupID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": offsetReset.rawValue,
            "session.timeout.ms": String(sessionTimeout.milliseconds),
            "max.poll.interval.ms": String(maxPollInterval.milliseconds),
            "partition.assignment.strategy": assignmentStrategy,
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": String(fetchWaitMax.milliseconds),
        ]
        p.merge(common.properties) { $1 }
        p.merge(common.additionalProperties) { $1 }
        return p
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (librdkafka takes integer milliseconds).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
