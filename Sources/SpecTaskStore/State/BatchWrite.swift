import Logging
import PostgresNIO
import SpecTaskDomain

/// Everything an applied batch writes at its end, written in one prepared statement (see ``WriteStatement``): the changed
/// spec task states, the coordination log entries, the outbox messages and the partitions' next offsets.
public struct BatchWrite: Sendable {
    /// Each changed spec task once, with its state as loaded (`nil` for a new task).
    public var changes: [(stored: StoredSpecTask, previous: StoredSpecTask?)] = []
    public var coordination: [CoordinationEntry] = []
    /// Published in this order.
    public var outbox: [OutboxMessage] = []
    /// The next offset to read of each partition the batch came from, in `consumerGroup`; moved forward only.
    public var offsets: [(topic: String, partition: Int32, nextOffset: Int64)] = []
    public var consumerGroup = ""

    public init() {}

    /// Writes it all in the caller's transaction, in one round trip. `offsets` need the partitions' rows locked by
    /// `ConsumerOffsetStore.lock` earlier in the same transaction.
    public func write(on connection: PostgresConnection, logger: Logger) async throws {
        try await run(on: connection, logger: logger)
    }
}

extension BatchWrite: WriteShape {
    static let statementName = "spectask_batch_write"
    static let emptySQL = sql(of: BatchWrite())

    func addParts(to statement: inout WriteStatement) throws {
        try SpecTaskRepository.addSave(changes, to: &statement)
        try CoordinationLogStore.addAppend(coordination, to: &statement)
        try OutboxStore.addAppend(outbox, to: &statement)
        ConsumerOffsetStore.addAdvance(offsets, group: consumerGroup, to: &statement)
    }
}
