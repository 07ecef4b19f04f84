import Synchronization

/// The `zed.events` partitions this worker owns and has read to the end: the only ones whose instances its
/// heartbeat sweeper may time out. Kept up to date by the ingest service after every poll.
public final class SweepScope: Sendable {
    private let partitions = Mutex<Set<Int32>>([])

    public init(partitions: Set<Int32> = []) {
        self.partitions.withLock { $0 = partitions }
    }

    public var current: Set<Int32> { partitions.withLock { $0 } }

    func set(_ value: Set<Int32>) {
        partitions.withLock { $0 = value }
    }
}
