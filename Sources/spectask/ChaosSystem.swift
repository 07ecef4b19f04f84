import Foundation
import Kafka
import Logging
import SpecTaskStore
import SpecTaskWorker

#if canImport(Glibc)
import Glibc
#endif

/// The private system a chaos campaign runs against and breaks: its own PostgreSQL cluster (started by the
/// checkout's `scripts/services` with `SPECTASK_LOCAL` in the run's folder and a free port), its own topics
/// (`chaos-<run>.` on the shared broker), its own consumer groups, N worker processes and the reference Zed runner.
/// Nothing another test or system uses is touched: stopping this PostgreSQL or killing these workers disturbs no one.
actor ChaosSystem {
    struct Settings {
        var run: String
        var workers: Int
        var runner: Bool
        var checkout: URL
        var binary: String
        var directory: URL
        var kafka: KafkaConfiguration
        /// `--kafka`, passed on to the children; without it they read the same environment as this process.
        var bootstrapServers: String?
        /// `fetch.wait.max.ms` of the workers and the runner (`--fetch-wait-ms`).
        var fetchWaitMilliseconds: Int
        var sessionTimeout: Duration
        var heartbeatTimeout: Duration
        var heartbeatFailAfter: Duration
    }

    let settings: Settings
    let prefix: String
    let group: String
    let runnerGroup: String
    let topics: WorkerTopics
    let logger: Logger
    private(set) var postgresPort = 0
    private var adminPorts: [Int] = []
    private var workers: [ChaosChild?] = []
    private var runner: ChaosChild?
    private var postgresStarted = false
    /// The binary workers and runner run: a copy of this one in the run's folder, taken at the start, so another
    /// build of the checkout during the campaign neither changes nor blocks it ("text file busy").
    private var binary: String
    /// Each worker slot's log offset when its current process started.
    private var workerLogOffsets: [Int] = []

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.prefix = "chaos-\(settings.run)."
        self.group = "chaos-\(settings.run)-workers"
        self.runnerGroup = "chaos-\(settings.run)-runner"
        self.topics = WorkerTopics(prefix: prefix)
        self.logger = logger
        self.binary = settings.binary
    }

    var postgresURL: String { "postgres://spectask@127.0.0.1:\(postgresPort)/spectask?sslmode=disable" }
    var local: URL { settings.directory.appendingPathComponent("local") }
    var logs: URL { settings.directory.appendingPathComponent("logs") }
    var workerCount: Int { workers.count }

    func workerLog(_ index: Int) -> URL { logs.appendingPathComponent("worker-\(index + 1).log") }
    var runnerLog: URL { logs.appendingPathComponent("zed-runner.log") }

    // MARK: - Setting up

    /// PostgreSQL, migrations, topics, workers (until each owns partitions) and the runner.
    func start() async throws {
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let copy = settings.directory.appendingPathComponent("bin/spectask")
        try FileManager.default.createDirectory(
            at: copy.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try FileManager.default.copyItem(at: URL(fileURLWithPath: settings.binary), to: copy)
        binary = copy.path
        try await startPostgres()
        let migrated = try await ChaosCommandRunner.run(
            binary,
            ["migrate"],
            environment: childEnvironment(),
            logFile: logs.appendingPathComponent("migrate.log"),
            timeout: .seconds(120)
        )
        guard migrated.status == 0 else { throw CLIError("spectask migrate failed:\n\(migrated.output)") }
        try await createTopics()
        adminPorts = try (0..<settings.workers).map { _ in try ChaosPorts.free() }
        workers = Array(repeating: nil, count: settings.workers)
        workerLogOffsets = Array(repeating: 0, count: settings.workers)
        for index in 0..<settings.workers { try startWorker(index) }
        for index in 0..<settings.workers {
            guard let worker = workers[index],
                await worker.waitForLog("owning partitions", timeout: .seconds(120))
            else {
                throw CLIError(
                    "worker \(index + 1) did not get partitions within 120 s; its log (\(workerLog(index).path)):\n"
                        + (workers[index]?.log(last: 3000) ?? "")
                )
            }
        }
        if settings.runner {
            try startRunner()
            guard let runner, await runner.waitForLog("reference Zed runner consuming", timeout: .seconds(60)) else {
                throw CLIError(
                    "the Zed runner did not start; its log (\(runnerLog.path)):\n\(runner?.log(last: 3000) ?? "")"
                )
            }
        }
    }

    /// `scripts/services postgres-up` for the private cluster: on the first call a free port is picked (another one
    /// if the script finds it taken meanwhile), later calls restart it on the same port.
    func startPostgres() async throws {
        if postgresStarted {
            let result = try await services("postgres-up")
            guard result.status == 0 else { throw CLIError("restarting PostgreSQL failed:\n\(result.output)") }
            return
        }
        var last = ""
        for _ in 0..<3 {
            postgresPort = try ChaosPorts.free()
            postgresStarted = true
            let result = try await services("postgres-up")
            if result.status == 0 { return }
            last = result.output
            guard result.output.contains("is taken by another process") else { break }
        }
        throw CLIError("starting a private PostgreSQL cluster failed:\n\(last)")
    }

    /// `scripts/services postgres-crash`: `pg_ctl stop -m immediate`, no shutdown checkpoint.
    func crashPostgres() async throws {
        let result = try await services("postgres-crash")
        guard result.status == 0 else { throw CLIError("crashing PostgreSQL failed:\n\(result.output)") }
    }

    private func services(_ command: String) async throws -> ChaosCommandRunner.Result {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("POSTGRES_") }
        environment["SPECTASK_LOCAL"] = local.path
        environment["SPECTASK_PG_PORT"] = String(postgresPort)
        return try await ChaosCommandRunner.run(
            settings.checkout.appendingPathComponent("scripts/services").path,
            [command],
            environment: environment,
            logFile: logs.appendingPathComponent("services.log"),
            timeout: .seconds(180)
        )
    }

    private func createTopics() async throws {
        let directory = settings.checkout.appendingPathComponent("topics")
        let definitions = try TopicCatalog.load(from: directory).map { $0.prefixed(prefix) }
        let admin = try KafkaAdmin(configuration: settings.kafka, logger: logger)
        do {
            _ = try await admin.createTopics(definitions.map { $0.specification(replicationFactor: nil) })
        } catch {
            throw CLIError(
                "could not create the topics \(prefix)* (\(error)); is the broker up? (scripts/services status)"
            )
        }
    }

    /// The environment of every child: this process's, pointed at the private PostgreSQL (and `--kafka`).
    private func childEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("POSTGRES_") }
        environment["POSTGRES_URL"] = postgresURL
        // If this process dies without stopping them (SIGKILL), the workers and the runner stop by themselves.
        environment["SPECTASK_EXIT_WITH_PARENT"] = "1"
        if let servers = settings.bootstrapServers { environment["KAFKA_BOOTSTRAP_SERVERS"] = servers }
        environment["KAFKA_PROPERTY_FETCH_WAIT_MAX_MS"] = String(settings.fetchWaitMilliseconds)
        return environment
    }

    // MARK: - Workers

    /// Starts (or restarts) worker `index` on its admin port.
    ///
    /// Settings for quick recovery: a 6 s session timeout (`KAFKA_PROPERTY_SESSION_TIMEOUT_MS`, as the tests' consumers
    /// use) so a killed or frozen member's partitions move on soon; heartbeat timeouts of seconds (10 s to
    /// disconnected, 20 s to failed), so instances a killed runner left behind are timed out within the campaign.
    /// (Static group membership, `group.instance.id`, was tried for faster rejoins after a kill: with Tansu a killed
    /// and restarted static member did not get its partitions back within 2 minutes, so it is not used.)
    func startWorker(_ index: Int) throws {
        var environment = childEnvironment()
        environment["KAFKA_PROPERTY_SESSION_TIMEOUT_MS"] = String(Int(settings.sessionTimeout.seconds * 1000))
        environment["SPECTASK_HEARTBEAT_TIMEOUT"] = "\(Int(settings.heartbeatTimeout.seconds))s"
        environment["SPECTASK_HEARTBEAT_FAIL_AFTER"] = "\(Int(settings.heartbeatFailAfter.seconds))s"

        let log = workerLog(index)
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        workerLogOffsets[index] =
            (try? FileManager.default.attributesOfItem(atPath: log.path)[.size] as? NSNumber)?
            .intValue ?? 0
        workers[index] = try ChaosChild(
            name: "worker \(index + 1)",
            executable: binary,
            arguments: [
                "worker", "--topic-prefix", prefix, "--group-id", group, "--admin", "127.0.0.1:\(adminPorts[index])",
            ],
            environment: environment,
            logFile: log
        )
    }

    /// SIGKILL, then a new process in the same slot at once.
    func killAndRestartWorker(_ index: Int) async throws -> pid_t {
        let victim = workers[index]
        await victim?.killNow()
        try startWorker(index)
        return victim?.pid ?? 0
    }

    func pauseWorker(_ index: Int) {
        workers[index]?.signal(SIGSTOP)
    }

    /// SIGCONT; returns where the worker's log stood, to look for what it did afterwards.
    func resumeWorker(_ index: Int) -> Int {
        let offset = workers[index]?.logSize ?? 0
        if let worker = workers[index], worker.isRunning { kill(worker.pid, SIGCONT) }
        return offset
    }

    func workerLogText(_ index: Int, from offset: Int) -> String { workers[index]?.log(from: offset) ?? "" }

    /// Workers that exited on their own (not killed by the campaign): a crash is a finding.
    func exitedWorkers() -> [(index: Int, status: Int32)] {
        workers.enumerated().compactMap { index, worker in
            guard let worker, let status = worker.exited else { return nil }
            return (index, status)
        }
    }

    var runnerExited: Int32? { runner?.exited }

    // MARK: - The reference Zed runner

    func startRunner() throws {
        runner = try ChaosChild(
            name: "zed-runner",
            executable: binary,
            arguments: ["zed-runner", "--topic-prefix", prefix, "--group-id", runnerGroup, "--no-coordinate"],
            environment: childEnvironment(),
            logFile: runnerLog
        )
    }

    /// SIGKILL, then a new runner in the same consumer group at once (it resumes from the group's committed offsets,
    /// so no instance the worker asks for meanwhile is missed).
    func killAndRestartRunner() async throws {
        await runner?.killNow()
        try startRunner()
    }

    /// SIGTERM: the runner stops its threads and leaves its group.
    func stopRunner() async {
        await runner?.stop(grace: .seconds(15))
    }

    // MARK: - Tearing down

    /// Stops workers and runner (SIGTERM, SIGKILL after a grace period); idempotent.
    func stopProcesses() async {
        await withTaskGroup(of: Void.self) { group in
            for worker in workers.compactMap({ $0 }) {
                group.addTask { await worker.stop(grace: .seconds(20)) }
            }
            if let runner { group.addTask { await runner.stop(grace: .seconds(15)) } }
        }
    }

    /// Stops the processes, deletes the private cluster (`scripts/services reset` with the run's SPECTASK_LOCAL:
    /// it only knows that cluster) and, unless `keep`, the run's folder.
    func tearDown(keep: Bool) async -> [String] {
        var problems: [String] = []
        await stopProcesses()
        if postgresStarted {
            do {
                let result = try await services(keep ? "postgres-down" : "reset")
                if result.status != 0 { problems.append("stopping the private PostgreSQL failed:\n\(result.output)") }
            } catch {
                problems.append("stopping the private PostgreSQL failed: \(error)")
            }
            postgresStarted = false
        }
        if !keep { try? FileManager.default.removeItem(at: settings.directory) }
        return problems
    }
}
