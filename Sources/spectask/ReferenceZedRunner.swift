import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

#if canImport(Glibc)
import Glibc
#endif

/// The runner side of the Zed protocol, played honestly through the broker: it reads `zed.commands`, keeps
/// the instances and threads it was asked for, and reports on `zed.events` with each instance's runner token.
///
/// It stands in for real Zed runners (the demo and the tests use it): instead of an agent editing code, each
/// thread reports a few activities over a few seconds (edits, files, tests, tokens and cost), then completes; a
/// planning session's thread plays the planning agent (``ReferencePlanner``).
actor ReferenceZedRunner {
    struct Settings: Sendable {
        var heartbeatInterval: Duration = .seconds(1)
        var stepInterval: Duration = .milliseconds(500)
        var steps = 6
        /// The thread working on this implementation task asks for a helper session half way.
        var spawnHelperForTask: Int?
        /// Threads ask a running sibling a question half way, and answer the questions they get.
        var coordinate = true
        var tokensPerStep = 1_500
        var costMicrosPerStep = 2_500
        /// Threads claim the paths they pretend to edit, and wait while another thread holds them.
        var claimPaths = true
        /// How long a thread waits for a granted claim before it sends the claim again.
        var claimRetryInterval: Duration = .seconds(5)
    }

    private struct Instance {
        var specTaskID: String
        var token: String
        var startedAt: ContinuousClock.Instant
        var threads: [String: RunningThread] = [:]
    }

    private struct RunningThread {
        var command: CreateZedThread
        /// Which start of this thread id the entry belongs to: a loop whose thread was stopped and created again
        /// must not go on as the new one.
        var serial: Int
        var progress = 0
        /// What the thread handed in, when it is a planning session's thread (``ReferencePlanner``).
        var planner: ReferencePlanner?
    }

    /// A thread to run: what `handle` returns for a `create_thread`, for the caller to run as a child task.
    struct ThreadStart: Sendable {
        var command: CreateZedThread
        var serial: Int
    }

    private let producer: KafkaProducer
    private let topics: WorkerTopics
    let settings: Settings
    let logger: Logger
    /// Event ids are `<run id>-<n>`: unique across restarts of the runner, so none is mistaken for a duplicate.
    private let runID = UUID().uuidString.prefix(8).lowercased()
    private var sent = 0
    private var instances: [String: Instance] = [:]
    private var threadStarts = 0
    /// The latest `claim_result` of each claim, by claim id, for the threads waiting on them.
    var claimResults: [String: ClaimResult] = [:]

    init(producer: KafkaProducer, topics: WorkerTopics, settings: Settings, logger: Logger) {
        self.producer = producer
        self.topics = topics
        self.settings = settings
        self.logger = logger
    }

    /// Sends a heartbeat for every live instance every `heartbeatInterval`, until cancelled.
    func heartbeatLoop() async {
        var cpu = CPUSampler()
        while !Task.isCancelled {
            do { try await Task.sleep(for: settings.heartbeatInterval) } catch { return }
            let cpuPercent = cpu.percentSinceLastSample()
            for (instanceID, instance) in instances {
                let threads = instance.threads.map { id, thread in
                    ZedHeartbeat.Thread(
                        workSessionID: thread.command.workSessionID,
                        status: .active,
                        progress: thread.progress
                    )
                }
                .sorted { $0.workSessionID < $1.workSessionID }
                let uptime = ContinuousClock.now - instance.startedAt
                await send(
                    .heartbeat(
                        ZedHeartbeat(
                            instanceID: instanceID,
                            cpuPercent: cpuPercent,
                            memoryMB: ResidentMemory.megabytes(),
                            uptimeSeconds: Int(uptime.components.seconds),
                            threads: threads
                        )
                    ),
                    of: instanceID
                )
            }
        }
    }

    /// Cancels every thread's work and waits for it, so nothing sends after this returns.
    func stopAllThreads() {
        instances.removeAll()
    }

    /// Acts on one command from the worker.
    /// - Returns: The thread to run when the command created one; the caller runs it (``run(_:)``) as a child task.
    func handle(_ command: ZedCommand) async -> ThreadStart? {
        switch command {
        case .createInstance(let create):
            guard instances[create.instanceID] == nil else { return nil }
            instances[create.instanceID] = Instance(
                specTaskID: create.specTaskID,
                token: create.runnerToken,
                startedAt: .now
            )
            logger.info("instance \(create.instanceID) opened for spec task \(create.specTaskID)")
            await send(.instanceReady(ZedInstanceReady(instanceID: create.instanceID)), of: create.instanceID)
        case .createThread(let create):
            guard instances[create.instanceID] != nil,
                instances[create.instanceID]?.threads[create.threadID] == nil
            else { return nil }
            logger.info("thread \(create.threadID) started for work session \(create.workSessionID)")
            threadStarts += 1
            instances[create.instanceID]?.threads[create.threadID] = RunningThread(
                command: create,
                serial: threadStarts
            )
            return ThreadStart(command: create, serial: threadStarts)
        case .stopThread(let stop):
            // Its loop notices at its next step that the thread is gone.
            instances[stop.instanceID]?.threads.removeValue(forKey: stop.threadID)
        case .stopInstance(let stop):
            guard let instance = instances.removeValue(forKey: stop.instanceID) else { return nil }
            logger.info("instance \(stop.instanceID) stopped: \(stop.reason)")
            await send(
                .instanceStopped(ZedInstanceStopped(instanceID: stop.instanceID, reason: "stopped as asked")),
                of: stop.instanceID,
                token: instance.token,
                specTaskID: instance.specTaskID
            )
        case .deliverMessage(let message):
            logger.info(
                "thread \(message.threadID) got a \(message.kind.rawValue) from \(message.fromWorkSessionID): \(message.message)"
            )
            guard settings.coordinate, message.kind == .request,
                instances[message.instanceID]?.threads[message.threadID] != nil
            else { return nil }
            await send(
                .coordinationMessage(
                    ZedCoordinationMessage(
                        instanceID: message.instanceID,
                        fromWorkSessionID: message.workSessionID,
                        toWorkSessionID: message.fromWorkSessionID,
                        kind: .response,
                        message: "Here is what you asked for: the interface is in the shared context.",
                        replyTo: message.messageID
                    )
                ),
                of: message.instanceID
            )
        case .budgetExceeded(let notice):
            logger.warning("thread \(notice.threadID): \(notice.reason)")
        case .reviseSpecs(let order):
            guard var planner = instances[order.instanceID]?.threads[order.threadID]?.planner else { return nil }
            logger.info("planning thread \(order.threadID) revises the specs: \(order.comments)")
            planner.revise(order)
            instances[order.instanceID]?.threads[order.threadID]?.planner = planner
            await send(
                planner.submitted(instanceID: order.instanceID, workSessionID: order.workSessionID),
                of: order.instanceID
            )
        case .claimResult(let result):
            claimAnswered(result)
        }
        return nil
    }

    /// A planning session's thread: reads the task, writes the specs and hands them in, then stays open for
    /// the reviewer (revise_specs) until it is stopped when the specs are approved.
    private func plan(_ start: ThreadStart) async {
        let thread = start.command
        for (step, summary) in ["read the request", "wrote the requirements and the design"].enumerated() {
            try? await Task.sleep(for: settings.stepInterval)
            guard !Task.isCancelled, isRunning(start) else { return }
            let progress = (step + 1) * 40
            instances[thread.instanceID]?.threads[thread.threadID]?.progress = progress
            await send(
                .threadActivity(
                    ZedThreadActivity(
                        instanceID: thread.instanceID,
                        workSessionID: thread.workSessionID,
                        kind: .message,
                        summary: summary,
                        progress: progress,
                        tokensIn: settings.tokensPerStep,
                        tokensOut: settings.tokensPerStep / 3,
                        costMicros: settings.costMicrosPerStep
                    )
                ),
                of: thread.instanceID
            )
        }
        guard !Task.isCancelled, isRunning(start) else { return }
        let planner = ReferencePlanner(for: thread)
        instances[thread.instanceID]?.threads[thread.threadID]?.planner = planner
        instances[thread.instanceID]?.threads[thread.threadID]?.progress = 100
        await send(
            planner.submitted(instanceID: thread.instanceID, workSessionID: thread.workSessionID),
            of: thread.instanceID
        )
    }

    /// Whether the thread of `start` still runs: not stopped, its instance not stopped, not started anew since.
    func isRunning(_ start: ThreadStart) -> Bool {
        instances[start.command.instanceID]?.threads[start.command.threadID]?.serial == start.serial
    }

    /// One thread's work: created, a few activities, maybe a spawn request and a question, then completed. Ends
    /// early, at its next step, when the thread or its instance is stopped.
    func run(_ start: ThreadStart) async {
        let thread = start.command
        let instanceID = thread.instanceID
        await send(
            .threadCreated(
                ZedThreadCreated(
                    instanceID: instanceID,
                    workSessionID: thread.workSessionID,
                    zedThreadExternalID: "zed-\(thread.threadID)"
                )
            ),
            of: instanceID
        )
        if thread.phase == .planning {
            await plan(start)
            return
        }
        guard await claimOwnPaths(start) else { return }
        let kinds: [ZedThreadActivity.Kind] = [.codeEdit, .fileCreate, .codeEdit, .testRun, .codeEdit, .gitCommit]
        let steps = max(1, settings.steps)
        for step in 1...steps {
            let editsSharedFile = step == (steps + 1) / 2
            if editsSharedFile { guard await claimSharedFile(start) else { return } }
            try? await Task.sleep(for: settings.stepInterval)
            guard !Task.isCancelled, isRunning(start) else { return }
            let progress = step * 100 / steps
            instances[instanceID]?.threads[thread.threadID]?.progress = progress
            let kind = kinds[(step - 1) % kinds.count]
            await send(
                .threadActivity(
                    ZedThreadActivity(
                        instanceID: instanceID,
                        workSessionID: thread.workSessionID,
                        kind: kind,
                        summary: "\(kind.rawValue.replacingOccurrences(of: "_", with: " ")) for \(thread.name)",
                        filesChanged: kind == .codeEdit || kind == .fileCreate ? 2 : 0,
                        linesAdded: kind == .codeEdit || kind == .fileCreate ? 40 + step : 0,
                        linesRemoved: kind == .codeEdit ? 5 : 0,
                        testsRun: kind == .testRun ? 12 : 0,
                        testsPassed: kind == .testRun ? 12 : 0,
                        progress: progress,
                        tokensIn: settings.tokensPerStep,
                        tokensOut: settings.tokensPerStep / 3,
                        costMicros: settings.costMicrosPerStep
                    )
                ),
                of: instanceID
            )
            if editsSharedFile { await releaseSharedFile(start) }
            if step == (steps + 1) / 2 { await halfway(thread) }
        }
        guard !Task.isCancelled, isRunning(start) else { return }
        instances[instanceID]?.threads.removeValue(forKey: thread.threadID)
        await send(
            .threadCompleted(
                ZedThreadCompleted(
                    instanceID: instanceID,
                    workSessionID: thread.workSessionID,
                    summary: "\(thread.name) done"
                )
            ),
            of: instanceID
        )
    }

    /// Half way through, a thread may ask for a helper and put a question to a sibling.
    private func halfway(_ thread: CreateZedThread) async {
        if let index = settings.spawnHelperForTask, thread.implementationTaskIndex == index {
            await send(
                .spawnRequested(
                    ZedSpawnRequested(
                        instanceID: thread.instanceID,
                        workSessionID: thread.workSessionID,
                        name: "Helper: tests for \(thread.implementationTaskTitle ?? thread.name)",
                        description: "Spawned by \(thread.workSessionID) to write the tests while it goes on",
                        initialPrompt: "Write tests for the work of session \(thread.workSessionID)."
                    )
                ),
                of: thread.instanceID
            )
        }
        guard settings.coordinate,
            let sibling = instances[thread.instanceID]?.threads.values
                .filter({ $0.command.threadID != thread.threadID }).map(\.command)
                .min(by: { $0.workSessionID < $1.workSessionID })
        else { return }
        await send(
            .coordinationMessage(
                ZedCoordinationMessage(
                    instanceID: thread.instanceID,
                    fromWorkSessionID: thread.workSessionID,
                    toWorkSessionID: sibling.workSessionID,
                    kind: .request,
                    message: "\(thread.name) needs to know how \(sibling.name) is exposed."
                )
            ),
            of: thread.instanceID
        )
    }

    func send(_ event: ZedEvent, of instanceID: String) async {
        guard let instance = instances[instanceID] else { return }
        await send(event, of: instanceID, token: instance.token, specTaskID: instance.specTaskID)
    }

    private func send(_ event: ZedEvent, of instanceID: String, token: String, specTaskID: String) async {
        sent += 1
        let bytes = CommandEncoder.encode(
            id: "\(runID)-\(sent)",
            specTaskID: specTaskID,
            source: "spectask-zed-runner",
            event: event,
            runnerToken: token,
            time: Date()
        )
        do {
            _ = try await producer.send(
                KafkaProducerRecord(topic: topics.zedEvents, key: Array(specTaskID.utf8), value: bytes)
            )
        } catch {
            logger.error("could not send \(event.type) of instance \(instanceID): \(error)")
        }
    }
}

/// The process's CPU use between two samples, in percent of one core.
struct CPUSampler {
    private var lastCPU = CPUSampler.cpuSeconds()
    private var lastWall = ContinuousClock.now

    mutating func percentSinceLastSample() -> Int {
        let cpu = Self.cpuSeconds()
        let wall = ContinuousClock.now
        let elapsed = (wall - lastWall).seconds
        defer { (lastCPU, lastWall) = (cpu, wall) }
        guard elapsed > 0 else { return 0 }
        return max(0, Int(((cpu - lastCPU) / elapsed * 100).rounded()))
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// The resident memory of this process, from /proc (Linux).
enum ResidentMemory {
    static func megabytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }
}
