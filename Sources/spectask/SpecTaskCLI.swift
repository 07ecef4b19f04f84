import ArgumentParser

@main
struct SpecTaskCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectask",
        abstract: "Coordinates SpecTask work sessions over Kafka, with state in PostgreSQL.",
        discussion: """
            Connection settings come from flags or the environment: KAFKA_BOOTSTRAP_SERVERS (and KAFKA_* for TLS/SASL), \
            POSTGRES_URL or POSTGRES_HOSTNAME/PORT/USER/PASSWORD/DB. Without them, the local services that \
            `scripts/services up` starts are used (Kafka 127.0.0.1:19092, PostgreSQL 127.0.0.1:55432).
            """,
        subcommands: [
            WorkerCommand.self, ZedRunnerCommand.self, DashboardCommand.self, DemoCommand.self, SendCommand.self,
            ShowCommand.self,
            WatchCommand.self, BenchCommand.self,
            ChaosCommand.self,
            MigrateCommand.self,
            OffsetsCommand.self,
            RejectedCommand.self, OutboxCommand.self,
            TopicsCommand.self,
            VersionCommand.self,
        ]
    )

    static func main() async {
        ParentWatch.startIfRequested()
        await main(nil)
    }
}
