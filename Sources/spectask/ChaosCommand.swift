import ArgumentParser
import Foundation
import Kafka
import SpecTaskWorker
import UnixSignals

struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "A repeatable fault campaign: load on N workers while killing, freezing and cutting them off.",
        discussion: """
            Sets up a system of its own, so nothing else is disturbed: a PostgreSQL cluster started with the \
            checkout's scripts/services on a free port (in a temporary folder), topics chaos-<run>.* on the broker \
            (--kafka / KAFKA_BOOTSTRAP_SERVERS), its own consumer groups, --workers worker processes of this binary \
            and the reference Zed runner.

            Load: --rate commands/s, open loop, to "model" spec tasks (8 commands each: create, start_planning, three \
            rounds of submit_specs with two request_changes between them, approve_specs), plus --zed-rate spec tasks \
            per second that go through implementation with the Zed runner (approve_implementation once the runner \
            finished their thread). It runs for --duration seconds, longer if the faults need it.

            Faults, one at a time at random moments (seeded: --seed, printed, repeats a campaign), each waiting for \
            the previous one to recover: --kills (SIGKILL a random worker, start a new one at once), --zombies \
            (SIGSTOP a worker for --zombie-seconds, past its 6 s session timeout, then SIGCONT: its partitions moved \
            on, so it must be fenced, not apply its stale batch), --pg-restarts (pg_ctl stop -m immediate, start \
            again at once), --pg-outages (PostgreSQL down for --pg-outage-seconds), --runner-restarts (SIGKILL the \
            Zed runner, start a new one). Recovery time: from the fault until commands sent after its last action \
            have outcomes on every partition and no command has waited more than 2 s (or 1.5 times the longest wait \
            before the first fault, on a machine slower than that); runner: until a Zed task started after the \
            restart has its instance ready. Workers run with a 6 s Kafka session timeout and heartbeat timeouts of \
            10 s (disconnected) and 20 s (failed). Progress is printed every 5 s.

            At the end, from the outside: every command has exactly one outcome on the status topic; per spec task \
            the status sequence numbers are gap-free and in order (copies republished under the same event id are \
            dropped first and counted); the model tasks' state in PostgreSQL equals the sequential model (their \
            commands replayed per task in send order through SpecTaskManager.decide), with the same outcomes; the \
            last published status of every task is the stored one; every Zed task is done (or failed by a \
            heartbeat timeout because its runner was killed); the outbox is empty, no dead letters; the offsets the \
            workers stored equal the input partitions' ends (lag 0). Prints a table (fault, count, longest recovery, \
            commands lost, effects doubled) and the checks; exits 0 only when nothing was lost or doubled and every \
            check held, 1 otherwise. The defaults finish within 5 minutes on 2 cores.

            Everything it started is stopped and deleted at the end, also on Ctrl-C (--keep keeps the logs and the \
            stopped cluster). Needs the checkout (scripts/services, topics/): found above the binary, or --repo.
            """
    )

    @Option(help: ArgumentHelp("Worker processes.", valueName: "n"))
    var workers = 2

    @Option(help: ArgumentHelp("Commands per second to model tasks (open loop).", valueName: "n"))
    var rate = 300

    @Option(help: ArgumentHelp("Zed tasks started per second (0: no Zed tasks and no runner).", valueName: "n"))
    var zedRate = 1.0

    @Option(help: ArgumentHelp("Seconds of load at least (longer when the faults need it).", valueName: "seconds"))
    var duration = 150

    @Option(help: ArgumentHelp("Workers killed with SIGKILL and restarted.", valueName: "n"))
    var kills = 3

    @Option(
        help: ArgumentHelp("Workers frozen with SIGSTOP past their session timeout, then continued.", valueName: "n")
    )
    var zombies = 1

    @Option(
        help: ArgumentHelp("Seconds a zombie stays frozen (more than the 6 s session timeout).", valueName: "seconds")
    )
    var zombieSeconds = 12

    @Option(
        name: .customLong("pg-restarts"),
        help: ArgumentHelp("PostgreSQL crashes (-m immediate) and restarts.", valueName: "n")
    )
    var postgresRestarts = 1

    @Option(name: .customLong("pg-outages"), help: ArgumentHelp("PostgreSQL outages.", valueName: "n"))
    var postgresOutages = 1

    @Option(
        name: .customLong("pg-outage-seconds"),
        help: ArgumentHelp("How long each PostgreSQL outage lasts.", valueName: "seconds")
    )
    var postgresOutageSeconds = 30

    @Option(help: ArgumentHelp("Zed runner kills (SIGKILL) and restarts.", valueName: "n"))
    var runnerRestarts = 1

    @Option(
        name: .customLong("fetch-wait-ms"),
        help: ArgumentHelp(
            "fetch.wait.max.ms of every consumer in the campaign (workers, runner, its own followers).",
            discussion: """
                Longer than the workers' 10 ms default because the local broker (Tansu, memory storage) lists every \
                stored batch of a partition on each fetch and answers empty, without an error, when that takes \
                longer than this: a campaign writes tens of thousands of batches per partition, and at 10 ms the \
                command partitions stopped moving after about 20,000 of them. Costs latency, not correctness: \
                the broker looks again at half the remaining wait.
                """,
            valueName: "ms"
        )
    )
    var fetchWaitMilliseconds = 100

    @Option(help: ArgumentHelp("Seed of the fault plan and targets; random (and printed) by default.", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("A fault not recovered after this long fails the campaign.", valueName: "seconds"))
    var recoveryTimeout = 120

    @Option(help: ArgumentHelp("The spectask checkout (scripts/services, topics/).", valueName: "path"))
    var repo: String?

    @Flag(help: "Keep the run's folder (worker, runner and PostgreSQL logs) instead of deleting it.")
    var keep = false

    @Option(
        name: .customLong("kafka"),
        help: ArgumentHelp(
            "Kafka bootstrap servers, host:port[,host:port…].",
            discussion: "Env: KAFKA_BOOTSTRAP_SERVERS. Default: \(ServiceEnvironment.defaultBootstrapServers).",
            valueName: "servers"
        )
    )
    var kafkaBootstrapServers: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...6).contains(workers) else {
            throw ValidationError("--workers must be 1…6 (the input topics have 6 partitions), got \(workers)")
        }
        guard (1...5000).contains(rate) else { throw ValidationError("--rate must be 1…5000 commands/s, got \(rate)") }
        guard zedRate.isFinite, (0...20).contains(zedRate) else {
            throw ValidationError("--zed-rate must be 0…20 Zed tasks/s, got \(zedRate)")
        }
        guard (10...3600).contains(duration) else {
            throw ValidationError("--duration must be 10…3600 seconds, got \(duration)")
        }
        for (flag, count) in [
            ("--kills", kills), ("--zombies", zombies), ("--pg-restarts", postgresRestarts),
            ("--pg-outages", postgresOutages), ("--runner-restarts", runnerRestarts),
        ] {
            guard count >= 0 else { throw ValidationError("\(flag) must not be negative, got \(count)") }
            guard count <= 1000 else { throw ValidationError("\(flag) must be at most 1000, got \(count)") }
        }
        let sessionTimeout = Int(ChaosCampaign.sessionTimeout.seconds)
        guard zombieSeconds > sessionTimeout, zombieSeconds <= 600 else {
            throw ValidationError(
                "--zombie-seconds must be more than the workers' \(sessionTimeout) s session timeout (and at most "
                    + "600), got \(zombieSeconds)"
            )
        }
        guard (1...600).contains(postgresOutageSeconds) else {
            throw ValidationError("--pg-outage-seconds must be 1…600, got \(postgresOutageSeconds)")
        }
        guard (1...1000).contains(fetchWaitMilliseconds) else {
            throw ValidationError("--fetch-wait-ms must be 1…1000, got \(fetchWaitMilliseconds)")
        }
        guard (10...1800).contains(recoveryTimeout) else {
            throw ValidationError("--recovery-timeout must be 10…1800 seconds, got \(recoveryTimeout)")
        }
        if runnerRestarts > 0 && zedRate == 0 {
            throw ValidationError("--runner-restarts needs Zed tasks (--zed-rate above 0): without them no runner runs")
        }
        if let kafkaBootstrapServers { _ = try ServiceEnvironment.parseBootstrapServers(kafkaBootstrapServers) }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "spectask.chaos")
        var kafka = try ServiceEnvironment.kafka(
            ProcessInfo.processInfo.environment,
            bootstrapServers: kafkaBootstrapServers
        )
        kafka.additionalProperties["fetch.wait.max.ms"] = String(fetchWaitMilliseconds)
        let checkout = try ChaosCheckout.find(explicit: repo)
        let binary = try ChaosCheckout.binary
        let seed = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spectask-chaos-\(run)")
        let commandLine =
            "spectask chaos --workers \(workers) --rate \(rate) --zed-rate \(zedRate) --duration \(duration) "
            + "--kills \(kills) --zombies \(zombies) --zombie-seconds \(zombieSeconds) "
            + "--pg-restarts \(postgresRestarts) --pg-outages \(postgresOutages) "
            + "--pg-outage-seconds \(postgresOutageSeconds) --runner-restarts \(runnerRestarts) "
            + "--fetch-wait-ms \(fetchWaitMilliseconds) --seed \(seed)"
        print("chaos run \(run), seed \(seed) (repeat the plan with --seed \(seed))")
        print("  binary \(binary), checkout \(checkout.path), run folder \(directory.path)")

        let system = ChaosSystem(
            settings: .init(
                run: run,
                workers: workers,
                runner: zedRate > 0,
                checkout: checkout,
                binary: binary,
                directory: directory,
                kafka: kafka,
                bootstrapServers: kafkaBootstrapServers,
                fetchWaitMilliseconds: fetchWaitMilliseconds,
                sessionTimeout: ChaosCampaign.sessionTimeout,
                heartbeatTimeout: ChaosCampaign.heartbeatTimeout,
                heartbeatFailAfter: ChaosCampaign.heartbeatFailAfter
            ),
            logger: logger
        )
        let campaign = ChaosCampaign(
            run: run,
            seed: seed,
            workers: workers,
            rate: rate,
            zedRate: zedRate,
            duration: .seconds(duration),
            counts: [
                .kill: kills, .zombie: zombies, .postgresRestart: postgresRestarts, .postgresOutage: postgresOutages,
                .runnerRestart: runnerRestarts,
            ],
            outageSeconds: postgresOutageSeconds,
            zombieSeconds: zombieSeconds,
            recoveryTimeout: .seconds(recoveryTimeout),
            kafka: kafka,
            commandLine: commandLine,
            logger: logger
        )

        // Ctrl-C or SIGTERM: stop the campaign, then clean up like at the end of a run.
        let (result, interrupted) = await withTaskGroup(of: CampaignEnd?.self) { group in
            group.addTask {
                do { return .finished(.success(try await campaign.run(system: system))) } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    print("interrupted: stopping the campaign and cleaning up…")
                    return .interrupted
                }
                return nil
            }
            // The first to finish cancels the other: an interruption ends the campaign, the campaign's end the
            // watch for signals.
            var result: Result<Bool, any Error> = .failure(CancellationError())
            var interrupted = false
            while let next = await group.next() {
                group.cancelAll()
                switch next {
                case .finished(let outcome): result = outcome
                case .interrupted: interrupted = true
                case nil: break
                }
            }
            return (result, interrupted)
        }

        print(keep ? "stopping the workers and PostgreSQL (keeping \(directory.path))…" : "cleaning up…")
        for problem in await system.tearDown(keep: keep) { print("warning: \(problem)") }

        switch result {
        case .success(true):
            return
        case .success(false):
            throw ExitCode(1)
        case .failure(let error) where error is CancellationError || interrupted:
            throw ExitCode(130)
        case .failure(let error):
            print("chaos campaign aborted: \(error)")
            throw ExitCode(1)
        }
    }
}

/// How a campaign run ended, as the task group in `run()` sees it.
private enum CampaignEnd: Sendable {
    case finished(Result<Bool, any Error>)
    case interrupted
}
