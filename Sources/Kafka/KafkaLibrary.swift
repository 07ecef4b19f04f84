import CRdKafka

/// Facts about the librdkafka this process is linked to.
public enum KafkaLibrary {
    /// librdkafka's version string, e.g. `2.8.0`, read at run time (so it names the library actually loaded).
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
