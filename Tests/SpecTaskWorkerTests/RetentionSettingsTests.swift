import Foundation
import SpecTaskStore
import Testing

@testable import SpecTaskWorker

@Suite("Retention settings")
struct RetentionSettingsTests {
    static let day: Duration = .seconds(86_400)

    @Test("defaults: inbox 8 days, coordination log and dead letters 30 days, pruned every minute")
    func defaults() throws {
        let settings = try ServiceEnvironment.workerSettings([:])
        #expect(settings.inboxRetention == Self.day * 8)
        #expect(settings.coordinationRetention == Self.day * 30)
        #expect(settings.deadLetterRetention == Self.day * 30)
        #expect(settings.pruneInterval == .seconds(60))
    }

    @Test("the inbox outlives the input topics' messages: its default is their longest retention plus a day")
    func inboxOutlivesTheInputTopics() throws {
        let definitions = try TopicCatalog.load(from: TopicCatalogTests.topicsDirectory)
        let inputs = definitions.filter { [TopicNames.commands, TopicNames.zedEvents].contains($0.name) }
        #expect(inputs.count == 2)
        let retentions = try inputs.map { definition in
            let value = try #require(definition.configs["retention.ms"], "\(definition.name) has no retention.ms")
            return Duration.milliseconds(try #require(Int64(value), "\(definition.name): retention.ms '\(value)'"))
        }
        let longest = try #require(retentions.max())
        #expect(WorkerSettings.inputTopicRetention == longest, "keep inputTopicRetention in step with topics/")
        #expect(WorkerSettings.defaultInboxRetention == longest + Self.day)
        #expect(WorkerSettings().inboxRetention > longest)
    }

    @Test(
        "good values, up to 400 days",
        arguments: [
            ("12h", Duration.seconds(12 * 3600)), ("8d", Duration.seconds(8 * 86_400)),
            ("1.5d", Duration.seconds(36 * 3600)), ("90m", Duration.seconds(5400)),
            ("400d", Duration.seconds(400 * 86_400)),
            (" 30D ", Duration.seconds(30 * 86_400)), ("3600", Duration.seconds(3600)),
            ("250ms", Duration.milliseconds(250)),
        ]
    )
    func goodRetentions(value: String, expected: Duration) throws {
        let settings = try ServiceEnvironment.workerSettings([
            "SPECTASK_INBOX_RETENTION": value, "SPECTASK_COORDINATION_RETENTION": value,
            "SPECTASK_DEAD_LETTER_RETENTION": value,
        ])
        #expect(settings.inboxRetention == expected)
        #expect(settings.coordinationRetention == expected)
        #expect(settings.deadLetterRetention == expected)
    }

    @Test("the prune interval takes the same units, up to a day")
    func pruneInterval() throws {
        #expect(try ServiceEnvironment.workerSettings(["SPECTASK_PRUNE_INTERVAL": "5m"]).pruneInterval == .seconds(300))
        #expect(
            try ServiceEnvironment.workerSettings(["SPECTASK_PRUNE_INTERVAL": "1h"]).pruneInterval == .seconds(3600)
        )
        #expect(try ServiceEnvironment.workerSettings(["SPECTASK_PRUNE_INTERVAL": "24h"]).pruneInterval == Self.day)
    }

    @Test(
        "hostile values are refused, naming the variable and the range",
        arguments: [
            "SPECTASK_INBOX_RETENTION", "SPECTASK_COORDINATION_RETENTION", "SPECTASK_DEAD_LETTER_RETENTION",
        ],
        ["0", "-1d", "abc", "10000d", "401d", "", "d", "nan", "inf", "1e400d", "0.0001s", "5 d", "7dd", "1d2h"]
    )
    func hostileRetentions(variable: String, value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try ServiceEnvironment.workerSettings([variable: value])
        }
        #expect(error?.message.contains("\(variable) is '\(value)'") == true, "\(String(describing: error))")
        #expect(error?.message.contains("from 1ms to 400d") == true, "\(String(describing: error))")
    }

    @Test("a prune interval longer than a day, or hostile, is refused", arguments: ["0", "-1m", "abc", "2d", "25h"])
    func hostilePruneInterval(value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try ServiceEnvironment.workerSettings(["SPECTASK_PRUNE_INTERVAL": value])
        }
        #expect(error?.message.contains("SPECTASK_PRUNE_INTERVAL is '\(value)'") == true)
        #expect(error?.message.contains("from 1ms to 24h") == true)
    }

    @Test("the other durations keep their 24 h cap, and now also read hours and days within it")
    func otherDurationsKeepTheirCap() throws {
        let settings = try ServiceEnvironment.workerSettings([
            "SPECTASK_SWEEP_INTERVAL": "1h", "SPECTASK_DATABASE_TIMEOUT": "1d",
        ])
        #expect(settings.sweepInterval == .seconds(3600))
        #expect(settings.databaseTimeout == Self.day)
        for (variable, value) in [
            ("SPECTASK_SWEEP_INTERVAL", "25h"), ("SPECTASK_DATABASE_TIMEOUT", "2d"),
            ("SPECTASK_HEARTBEAT_FAIL_AFTER", "8d"),
        ] {
            let error = #expect(throws: ConfigurationError.self) {
                try ServiceEnvironment.workerSettings([variable: value])
            }
            #expect(
                error?.message
                    == "\(variable) is '\(value)'; expected a duration from 1ms to 24h such as 500ms, 15s or 2m"
            )
        }
    }

    @Test("durations are described in their largest whole unit")
    func describe() {
        #expect(ServiceEnvironment.describe(Self.day) == "24h")
        #expect(ServiceEnvironment.describe(Self.day * 2) == "2d")
        #expect(ServiceEnvironment.describe(Self.day * 400) == "400d")
        #expect(ServiceEnvironment.describe(.seconds(36 * 3600)) == "36h")
        #expect(ServiceEnvironment.describe(.seconds(90)) == "90s")
        #expect(ServiceEnvironment.describe(.seconds(120)) == "2m")
        #expect(ServiceEnvironment.describe(.milliseconds(1500)) == "1500ms")
    }
}
