import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskDomain
import SpecTaskStore

/// Fires the timeouts of silent Zed instances: a ready one silent for `heartbeatTimeout` becomes disconnected
/// (its active threads too), a disconnected one silent for `heartbeatFailAfter` fails (its sessions too), and a
/// pending one that no runner reported ready within `instanceReadyTimeout` of its creation fails (its sessions
/// too). What is due is ``ZedInstanceTimeouts``' to say.
///
/// Every worker runs one. Each timeout is applied like a runner's event, through the decision function and the
/// batch applier's ``ApplyStep``, under the spec task's locks, in one transaction with its outbox rows: the sweeper takes the task's advisory lock
/// with `pg_try_advisory_xact_lock` (a task another worker is busy with is skipped until the next pass) and
/// checks the silence again under the row lock, so two sweepers never fire one timeout twice.
public struct HeartbeatSweeper: Service {
    let client: PostgresClient
    let topics: WorkerTopics
    let settings: WorkerSettings
    let repository: SpecTaskRepository
    let doorbell: RelayDoorbell
    let decisionContext: DecisionContext
    let metrics: WorkerMetrics
    let scope: SweepScope
    let clock: @Sendable () -> Date
    let logger: Logger

    /// - Parameter scope: The `zed.events` partitions this worker owns and has read to the end (kept by the
    ///   ingest service); only instances whose events come from them are timed out here.
    public init(
        client: PostgresClient,
        settings: WorkerSettings,
        runnerTokens: RunnerTokens,
        scope: SweepScope,
        metrics: WorkerMetrics = WorkerMetrics(),
        doorbell: RelayDoorbell = RelayDoorbell(),
        clock: @escaping @Sendable () -> Date = Date.init,
        logger: Logger
    ) {
        self.client = client
        self.topics = settings.topics
        self.settings = settings
        self.repository = SpecTaskRepository(logger: logger)
        self.doorbell = doorbell
        self.decisionContext = DecisionContext(
            runnerToken: { runnerTokens.token(for: $0) },
            planning: settings.planning
        )
        self.metrics = metrics
        self.scope = scope
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Backoff()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                // Bounded: a database that hangs must not hold up shutdown.
                _ = try await awaitServing(
                    "a heartbeat sweep",
                    timeout: settings.databaseTimeout,
                    { try await sweepOnce() },
                    whileWaiting: {}
                )
                backoff.reset()
                try await Task.sleep(for: settings.sweepInterval)
            } catch is CancellationError {
                break
            } catch {
                let delay = backoff.next()
                logger.error(
                    "the heartbeat sweep failed; retrying",
                    metadata: ["error": "\(String(reflecting: error))", "retry.in": "\(delay)"]
                )
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// One pass over the instances that went quiet.
    ///
    /// - Returns: How many timeouts this pass fired.
    public func sweepOnce() async throws -> Int {
        let partitions = scope.current.sorted()
        guard !partitions.isEmpty else { return 0 }
        let now = clock()
        let candidates = try await repository.tasksWithSilentInstances(
            eventsTopic: topics.zedEvents,
            partitions: partitions,
            pendingBefore: now.addingTimeInterval(-settings.instanceReadyTimeout.seconds),
            readyBefore: now.addingTimeInterval(-settings.heartbeatTimeout.seconds),
            disconnectedBefore: now.addingTimeInterval(-settings.heartbeatFailAfter.seconds),
            limit: 200,
            client: client
        )
        var fired = 0
        for specTaskID in candidates {
            // One task that can not be expired (a broken row) must not keep the others from their timeouts.
            do {
                if let (shards, timeout) = try await expire(specTaskID, now: now) {
                    fired += 1
                    metrics.recordInstanceTimeout(timeout)
                    doorbell.ring(shards)
                }
            } catch let error as PSQLError {
                throw error
            } catch {
                logger.error(
                    "could not apply the timeout of a spec task's Zed instance; skipping it",
                    metadata: ["spec_task": "\(specTaskID)", "error": "\(String(reflecting: error))"]
                )
            }
        }
        return fired
    }

    /// Applies the timeout of one spec task's instance, if it is still due once the task is locked.
    /// - Returns: The outbox shards written (for the relay, once committed) and which timeout fired, or `nil` when
    ///   nothing was due.
    private func expire(
        _ specTaskID: String,
        now: Date
    ) async throws -> (shards: Set<Int32>, timeout: WorkerMetrics.InstanceTimeout)? {
        try await client.transaction(logger: logger) { connection in
            guard try await repository.tryLockSubject(specTaskID, on: connection) else { return nil }
            let loaded = try await repository.lockAndLoad([specTaskID], on: connection)
            guard let instance = loaded[specTaskID]?.state.zedInstance,
                let due = settings.instanceTimeouts.due(for: instance, at: now)
            else { return nil }

            let input = IncomingCommand(
                id: due.id,
                specTaskID: specTaskID,
                actor: "heartbeat-sweeper",
                time: now,
                command: .zedEvent(due.event)
            )
            var step = ApplyStep(loaded: loaded, outputs: OutputBatch(topics: topics, time: now))
            guard
                case .applied(let state, let emissions) = SpecTaskManager.decide(
                    step.state(of: specTaskID),
                    input,
                    context: decisionContext
                )
            else { return nil }
            step.outputs.beginInput(position: due.id)
            step.applied(input, state: state, emissions: emissions)
            try await step.finish().write(on: connection, logger: logger)
            logger.info(
                instance.status == .pending ? "instance ready timeout" : "heartbeat timeout",
                metadata: [
                    "spec_task": "\(specTaskID)", "zed_instance": "\(instance.id)", "event": "\(due.event.name)",
                    "silence.seconds": "\(Int(due.silence))",
                ]
            )
            let timeout: WorkerMetrics.InstanceTimeout =
                switch instance.status {
                case .pending: .ready
                case .ready: .heartbeat
                default: .failAfter
                }
            return (step.outputs.shards, timeout)
        }
    }
}

extension Duration {
    /// The duration in seconds, for date arithmetic.
    public var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
