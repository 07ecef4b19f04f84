import Kafka

/// Owned partitions the broker does not serve: messages are waiting (lag above 0) but nothing was fetched from
/// them for `threshold`, although the worker was reading them (not paused, not stopped).
///
/// Why: in a long chaos campaign the local broker (Tansu) stopped answering fetches on the command partitions;
/// both workers owned every partition and said ready while 28,000 commands waited (README, Reliability). A
/// worker can not repair that, but it can say so: `/ready` answers 503 naming the partitions, and the log says
/// it once per stall.
struct StalledPartitions {
    let threshold: Duration
    /// Since when each partition has had messages waiting, nothing fetched, while being read.
    private var quietSince: [KafkaTopicPartition: ContinuousClock.Instant] = [:]

    init(threshold: Duration = .seconds(30)) {
        self.threshold = threshold
    }

    /// Takes one turn of the ingest loop into account.
    ///
    /// - Parameters:
    ///   - lag: Messages behind per partition, from the fetched high watermarks (absent: not known yet).
    ///   - fetched: Partitions a message was fetched from since the last call.
    ///   - reading: Owned partitions the worker is reading now (claimed, not paused, not stopped).
    /// - Returns: The stalled partitions, each with how many messages it is behind.
    mutating func observe(
        lag: [KafkaTopicPartition: Int64],
        fetched: Set<KafkaTopicPartition>,
        reading: Set<KafkaTopicPartition>,
        now: ContinuousClock.Instant
    ) -> [KafkaTopicPartition: Int64] {
        var stalled: [KafkaTopicPartition: Int64] = [:]
        var waiting: [KafkaTopicPartition: ContinuousClock.Instant] = [:]
        for partition in reading where !fetched.contains(partition) {
            guard let behind = lag[partition], behind > 0 else { continue }
            let since = quietSince[partition] ?? now
            waiting[partition] = since
            if now - since >= threshold { stalled[partition] = behind }
        }
        // A partition that fetched, caught up, or is not being read starts again from zero.
        quietSince = waiting
        return stalled
    }
}
