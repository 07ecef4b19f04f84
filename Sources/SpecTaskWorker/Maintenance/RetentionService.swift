import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskStore

/// Keeps the tables that grow with every input bounded: every `pruneInterval` it deletes what is past its
/// retention from `inbox` (`inboxRetention`, longer than the input topics keep messages, so a redelivered input is
/// still recognised), `coordination_log` (`coordinationRetention`) and `dead_letters` (`deadLetterRetention`).
///
/// Every worker runs one. Each table is pruned in chunks of a bounded size, a short transaction each, by one
/// worker at a time: a chunk runs under the table's advisory lock, and a worker that finds it taken leaves that
/// table to the other one until its next pass (``RetentionStore``). A pass that leaves old rows behind (a large
/// backlog) is followed by the next one after a second rather than a whole interval.
public struct RetentionService: Service {
    let client: PostgresClient
    let store: RetentionStore
    /// Each pruned table with its retention, in the order a pass visits them.
    let policy: [(table: RetainedTable, retention: Duration)]
    let interval: Duration
    let chunkSize: Int
    let maxChunksPerTable: Int
    let logger: Logger

    public init(
        client: PostgresClient,
        settings: WorkerSettings,
        chunkSize: Int = RetentionStore.defaultChunkSize,
        maxChunksPerTable: Int = 100,
        logger: Logger
    ) {
        self.client = client
        self.store = RetentionStore(logger: logger)
        self.policy = [
            (.inbox, settings.inboxRetention),
            (.coordinationLog, settings.coordinationRetention),
            (.deadLetters, settings.deadLetterRetention),
        ]
        self.interval = settings.pruneInterval
        self.chunkSize = chunkSize
        self.maxChunksPerTable = maxChunksPerTable
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Backoff()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let delay: Duration
            do {
                // Bounded: a database that hangs must not hold up shutdown (a pass resumes where this one stopped).
                let results = try await awaitServing(
                    "pruning old rows",
                    timeout: .seconds(300),
                    { try await pruneOnce() },
                    whileWaiting: {}
                )
                backoff.reset()
                delay = results.contains(where: \.incomplete) ? min(interval, .seconds(1)) : interval
            } catch is CancellationError {
                break
            } catch {
                delay = backoff.next()
                logger.error(
                    "pruning old rows failed; retrying",
                    metadata: ["error": "\(String(reflecting: error))", "retry.in": "\(delay)"]
                )
            }
            // A long interval must not hold up a shutdown.
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch {
                break
            }
        }
    }

    /// One pass over every table: deletes what is past its retention, up to `maxChunksPerTable` chunks each.
    ///
    /// - Returns: What happened to each table, in the order of the policy.
    @discardableResult
    public func pruneOnce() async throws -> [PruneResult] {
        var results: [PruneResult] = []
        for (table, retention) in policy {
            guard !Task.isShuttingDownGracefully else { break }
            let result = try await store.prune(
                table,
                olderThan: retention,
                chunkSize: chunkSize,
                maxChunks: maxChunksPerTable,
                client: client,
                shouldContinue: { !Task.isShuttingDownGracefully }
            )
            results.append(result)
            let metadata: Logger.Metadata = [
                "table": "\(table)", "deleted": "\(result.deleted)",
                "older.than": "\(ServiceEnvironment.describe(retention))",
            ]
            if result.deleted > 0 {
                logger.info(
                    result.incomplete ? "pruned old rows; more are left for the next pass" : "pruned old rows",
                    metadata: metadata
                )
            } else if result.skipped {
                logger.debug("another worker is pruning this table; leaving it to that one", metadata: metadata)
            } else {
                logger.debug("nothing to prune", metadata: metadata)
            }
        }
        return results
    }
}
