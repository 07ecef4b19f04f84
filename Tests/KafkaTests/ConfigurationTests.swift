import Testing

@testable import Kafka

@Suite("Kafka configuration and topic names")
struct ConfigurationTests {
    let common = KafkaConfiguration(bootstrapServers: ["a:9092", "b:9093"], clientID: "me")

    @Test("producers are idempotent and wait for all replicas")
    func producerProperties() {
        let properties = KafkaProducerConfiguration(
            common: common,
            linger: .milliseconds(7),
            messageTimeout: .seconds(3)
        ).properties
        #expect(properties["enable.idempotence"] == "true")
        #expect(properties["acks"] == "all")
        #expect(properties["linger.ms"] == "7")
        #expect(properties["message.timeout.ms"] == "3000")
        #expect(properties["bootstrap.servers"] == "a:9092,b:9093")
        #expect(properties["client.id"] == "me")
    }

    @Test("consumers never commit on their own and start at the earliest offset")
    func consumerProperties() {
        let properties = KafkaConsumerConfiguration(common: common, groupID: "g", topics: ["t"]).properties
        #expect(properties["enable.auto.commit"] == "false")
        #expect(properties["enable.auto.offset.store"] == "false")
        #expect(properties["auto.offset.reset"] == "earliest")
        #expect(properties["partition.assignment.strategy"] == "cooperative-sticky")
        #expect(properties["group.id"] == "g")
        #expect(properties["session.timeout.ms"] == "10000")
        // Tansu holds an empty fetch for the whole wait: the default keeps it short.
        #expect(properties["fetch.wait.max.ms"] == "10")
    }

    @Test("security settings map to librdkafka properties; additional properties win")
    func securityAndOverrides() {
        var configuration = common
        configuration.securityProtocol = .saslSSL
        configuration.sasl = .init(mechanism: "SCRAM-SHA-512", username: "u", password: "p")
        configuration.tls = .init(caLocation: "/ca.pem")
        configuration.additionalProperties = ["acks": "1", "socket.timeout.ms": "5000"]
        let properties = KafkaProducerConfiguration(common: configuration).properties
        #expect(properties["security.protocol"] == "sasl_ssl")
        #expect(properties["sasl.mechanism"] == "SCRAM-SHA-512")
        #expect(properties["sasl.username"] == "u")
        #expect(properties["sasl.password"] == "p")
        #expect(properties["ssl.ca.location"] == "/ca.pem")
        #expect(properties["ssl.key.location"] == nil)
        #expect(properties["acks"] == "1")
        #expect(properties["socket.timeout.ms"] == "5000")
    }

    @Test("a property librdkafka rejects fails creation with its name")
    func rejectedProperty() {
        var configuration = common
        configuration.additionalProperties = ["no.such.property": "1"]
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: KafkaProducerConfiguration(common: configuration),
                logger: .init(label: "test")
            )
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("no.such.property") == true)
    }

    @Test("secrets are not echoed in configuration errors")
    func secretNotEchoed() {
        var configuration = common
        configuration.securityProtocol = .saslPlaintext
        configuration.sasl = .init(mechanism: "NOT-A-MECHANISM", username: "u", password: "hunter2")
        configuration.additionalProperties = [
            "sasl.password": "hunter2", "ssl.key.password": "hunter2", "sasl.mechanisms": "BOGUS",
        ]
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(
                configuration: KafkaProducerConfiguration(common: configuration),
                logger: .init(label: "test")
            )
        }
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test("durations become whole milliseconds")
    func milliseconds() {
        #expect(Duration.seconds(2).milliseconds == 2000)
        #expect(Duration.milliseconds(1500).milliseconds == 1500)
        #expect(Duration.microseconds(2500).milliseconds == 2)
    }

    @Test(
        "legal topic names pass",
        arguments: ["spectask.commands", "a", "A-b_c.9", String(repeating: "x", count: 249)]
    )
    func legalTopicNames(name: String) throws {
        try TopicName.validate(name)
    }

    @Test(
        "illegal topic names fail with the rule they break",
        arguments: [
            ("", "it is empty"), (".", "reserved"), ("..", "reserved"), ("has space", "only ASCII letters"),
            ("tab\there", "only ASCII letters"), ("ünïcode", "only ASCII letters"),
            ("slash/name", "only ASCII letters"),
            (String(repeating: "x", count: 250), "longer than 249"), ("semi;colon", "only ASCII letters"),
        ]
    )
    func illegalTopicNames(name: String, rule: String) {
        let error = #expect(throws: KafkaError.self) { try TopicName.validate(name) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(rule) == true, "\(String(describing: error))")
    }
}
