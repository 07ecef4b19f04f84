import CRdKafka
import Testing

@testable import Kafka

@Suite("Mapping librdkafka errors")
struct KafkaErrorTests {
    @Test(
        "transient broker and network errors are retriable, not fatal",
        arguments: [
            RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        ]
    )
    func retriable(code: rd_kafka_resp_err_t) {
        let error = KafkaError.librdkafka(code, "sending")
        #expect(error.isRetriable)
        #expect(!error.isFatal)
        #expect(error.code == .librdkafka(code.rawValue))
        #expect(error.code.librdkafkaCode == code.rawValue)
    }

    @Test(
        "fencing and authentication failures are fatal, not retriable",
        arguments: [
            RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
            RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
        ]
    )
    func fatal(code: rd_kafka_resp_err_t) {
        let error = KafkaError.librdkafka(code, "sending")
        #expect(error.isFatal)
        #expect(!error.isRetriable)
    }

    @Test("permanent request errors are neither retriable nor fatal")
    func permanent() {
        for code in [
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
            RD_KAFKA_RESP_ERR__INVALID_ARG,
        ] {
            let error = KafkaError.librdkafka(code, "sending")
            #expect(!error.isRetriable, "\(error)")
            #expect(!error.isFatal, "\(error)")
        }
    }

    @Test("the message says what failed, librdkafka's reason and the code's name")
    func message() {
        let error = KafkaError.librdkafka(
            RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
            "delivering a message to topic spectask.commands"
        )
        #expect(error.message.hasPrefix("delivering a message to topic spectask.commands failed: "))
        #expect(error.message.hasSuffix("(MSG_SIZE_TOO_LARGE)"))
        #expect(error.code.description == "MSG_SIZE_TOO_LARGE")
        #expect("\(error)".hasPrefix("KafkaError(MSG_SIZE_TOO_LARGE): "))
    }
}
