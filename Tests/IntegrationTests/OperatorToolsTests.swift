import Foundation
import Kafka
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `spectask rejected …` and `spectask outbox …`, run as the binary against a system of their own (private topics,
/// a fresh database, a real worker).
@Suite("Operator tools", .serialized)
struct OperatorToolsTests {
    /// What a run of the binary printed, stdout and stderr apart: `--json` output is stdout alone.
    struct Run: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
        var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    /// ArgumentParser's exit status for a usage error (EX_USAGE).
    static let usageError: Int32 = 64

    /// Runs the binary with stdin at /dev/null (never a terminal) and `environment` added.
    static func spectask(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        let run = try await ChildProcess.run(
            try WorkerProcessTests.binary,
            arguments: arguments,
            environment: environment,
            timeout: .seconds(90)
        )
        return Run(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    /// `spectask rejected <arguments> --topic-prefix <the system's>`.
    static func rejected(_ arguments: [String], in system: SystemUnderTest) async throws -> Run {
        try await spectask(
            ["rejected"] + arguments + ["--topic-prefix", system.prefix],
            environment: system.environment
        )
    }

    static func jsonObjects(_ run: Run) throws -> [[String: Any]] {
        try run.lines.map { line in
            try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                "not a JSON object: \(line)"
            )
        }
    }

    /// A create command with a data member of the wrong type: a schema violation whose id, subject and type
    /// can be read (so it gets an outcome too).
    static func schemaViolation(id: String, task: String) throws -> [UInt8] {
        let valid = String(
            decoding: CommandEncoder.encode(
                id: id,
                specTaskID: task,
                source: "tests",
                command: .approveSpecs(ApproveSpecs(approver: "alice"))
            ),
            as: UTF8.self
        )
        let invalid = valid.replacingOccurrences(of: #""approver":"alice""#, with: #""approver":7"#)
        try #require(invalid != valid, "the encoded command changed its form: \(valid)")
        return Array(invalid.utf8)
    }

    static func records(_ system: SystemUnderTest, key: String) -> [RejectedRecord] {
        system.rejected.messages.compactMap(NeverStallTests.record(of:)).filter { $0.key == key }
    }

    static func position(_ record: RejectedRecord) -> String {
        "\(record.topic):\(record.partition):\(record.offset)"
    }

    // MARK: - rejected list / show

    @Test("list finds malformed, oversize and rule rejections with their codes; show prints one in full")
    func listAndShow() async throws {
        try await Scenario.withSystem { system, _ in
            let task = TestEnvironment.unique("ops")
            try await system.apply(.create(CreateSpecTask(name: "operator tools")), task: task)
            let malformed = Array(#"{"specversion":"1.0","id":"cut-off"#.utf8)
            let schemaID = "\(task)-schema"
            let oversize = NeverStallTests.paddedCommand(
                id: "\(task)-big",
                task: task,
                size: CommandDecoder.defaultMaxBytes + 1
            )
            try await system.sendRaw(malformed, key: task)
            try await system.sendRaw(try Self.schemaViolation(id: schemaID, task: task), key: task)
            try await system.sendRaw(oversize, key: task)
            // Valid, but a backlog task can not have its specs approved.
            let ruleID = try await system.send(.approveSpecs(ApproveSpecs(approver: "alice")), task: task)
            _ = try await system.rejected.waitForCount(4, timeout: .seconds(60), "4 rejected records") {
                NeverStallTests.record(of: $0)?.key == task
            }
            let records = Dictionary(uniqueKeysWithValues: Self.records(system, key: task).map { ($0.code, $0) })
            let expectedCodes: Set<String> = ["malformed_json", "schema_violation", "oversize", "illegal_transition"]
            #expect(Set(records.keys) == expectedCodes)

            // Every record, a line each, oldest first; the summary on stderr.
            let all = try await Self.rejected(["list"], in: system)
            #expect(all.status == 0, "\(all)")
            #expect(all.lines.count == 4, "\(all)")
            for code in expectedCodes {
                #expect(all.lines.filter { $0.contains("  \(code)  ") }.count == 1, "\(code) missing: \(all)")
            }
            let oversizeLine = try #require(all.lines.first { $0.contains("  oversize  ") })
            #expect(oversizeLine.contains("\(oversize.count) B (truncated)"), "\(oversizeLine)")
            #expect(oversizeLine.contains(Self.position(try #require(records["oversize"]))), "\(oversizeLine)")
            #expect(all.stderr.contains("4 of 4 record(s)"), "\(all)")

            // --code, repeatable.
            let oversized = try await Self.rejected(["list", "--code", "oversize"], in: system)
            #expect(oversized.status == 0 && oversized.lines.count == 1, "\(oversized)")
            #expect(oversized.lines.first?.contains("  oversize  ") == true, "\(oversized)")
            let two = try await Self.rejected(
                ["list", "--code", "malformed_json", "--code", "illegal_transition"],
                in: system
            )
            #expect(two.lines.count == 2, "\(two)")

            // --json: one object per line, with the input's place, the stage and no original.
            let json = try await Self.rejected(["list", "--json"], in: system)
            #expect(json.status == 0, "\(json)")
            let objects = try Self.jsonObjects(json)
            #expect(Set(objects.compactMap { $0["code"] as? String }) == expectedCodes)
            for object in objects {
                let record = try #require(records[object["code"] as? String ?? ""])
                #expect(object["topic"] as? String == system.topics.commands)
                #expect((object["offset"] as? NSNumber)?.int64Value == record.offset, "\(object)")
                #expect((object["partition"] as? NSNumber)?.int32Value == record.partition, "\(object)")
                #expect(object["originalSHA256"] as? String == record.originalSHA256)
                #expect(object["originalBase64"] == nil, "the list leaves the original out: \(object)")
                #expect(object["stage"] as? String == (record.code == "illegal_transition" ? "rule" : "input"))
            }
            let rule = try #require(objects.first { $0["code"] as? String == "illegal_transition" })
            #expect(rule["eventID"] as? String == ruleID)
            #expect(rule["specTaskID"] as? String == task)

            // --topic (with or without the prefix), --since, --limit.
            for (arguments, count) in [
                (["--topic", "spectask.commands"], 4), (["--topic", system.topics.commands], 4),
                (["--topic", "zed.events"], 0), (["--since", "10m"], 4), (["--since", "2999-01-01T00:00:00Z"], 0),
                (["--since", "2000-01-01T00:00:00+01:00"], 4), (["--limit", "2"], 2),
            ] {
                let run = try await Self.rejected(["list"] + arguments, in: system)
                #expect(run.status == 0, "\(arguments): \(run)")
                #expect(run.lines.count == count, "\(arguments): \(run)")
            }

            // show, by position (with and without the prefix) and by event id: the original as text.
            let schema = try #require(records["schema_violation"])
            let original = String(decoding: try Self.schemaViolation(id: schemaID, task: task), as: UTF8.self)
            for selector in [
                Self.position(schema), "spectask.commands:\(schema.partition):\(schema.offset)", schemaID,
            ] {
                let shown = try await Self.rejected(["show", selector], in: system)
                #expect(shown.status == 0, "\(selector): \(shown)")
                #expect(shown.stdout.contains("code         schema_violation (rejected before the rules"), "\(shown)")
                #expect(shown.stdout.contains("key          \(task)"), "\(shown)")
                #expect(shown.stdout.contains("original as UTF-8 text:\n\(original)"), "\(shown)")
                #expect(shown.stdout.contains("redrive      possible"), "\(shown)")
            }
            let shownJSON = try await Self.rejected(["show", Self.position(schema), "--json"], in: system)
            let document = try #require(try Self.jsonObjects(shownJSON).first, "\(shownJSON)")
            #expect(document["originalText"] as? String == original)
            let base64 = try #require(document["originalBase64"] as? String)
            #expect(Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) } == original)
            #expect((document["redrive"] as? [String: Any])?["possible"] as? Bool == true, "\(document)")

            // Malformed JSON is still text; the oversize one is shown as far as the record holds it.
            let shownMalformed = try await Self.rejected(
                ["show", Self.position(records["malformed_json"]!)],
                in: system
            )
            #expect(shownMalformed.stdout.contains(String(decoding: malformed, as: UTF8.self)), "\(shownMalformed)")
            let shownOversize = try await Self.rejected(["show", Self.position(records["oversize"]!)], in: system)
            #expect(shownOversize.stdout.contains("truncated to its first 65536"), "\(shownOversize)")
            #expect(shownOversize.stdout.contains("redrive      refused: the record holds only"), "\(shownOversize)")
            let shownRule = try await Self.rejected(["show", ruleID], in: system)
            #expect(shownRule.stdout.contains("redrive      only with --force"), "\(shownRule)")

            // Redrive refuses what it can not send as it was, and what the rules refused without --force.
            let truncated = try await Self.rejected(
                ["redrive", Self.position(records["oversize"]!), "--force", "--yes"],
                in: system
            )
            #expect(truncated.status == 1, "\(truncated)")
            #expect(truncated.stderr.contains("can not be sent again from it"), "\(truncated)")
            let unforced = try await Self.rejected(["redrive", ruleID, "--yes"], in: system)
            #expect(unforced.status == 1, "\(unforced)")
            #expect(unforced.stderr.contains("illegal_transition is a rule's rejection"), "\(unforced)")
            #expect(unforced.stderr.contains("--force sends it anyway"), "\(unforced)")
            let unconfirmed = try await Self.rejected(["redrive", schemaID], in: system)
            #expect(unconfirmed.status == 1, "\(unconfirmed)")
            #expect(unconfirmed.stderr.contains("stdin is not a terminal"), "\(unconfirmed)")

            // Selectors that name nothing: exit 1, saying so.
            for selector in ["spectask.commands:0:999999", "\(system.topics.commands):2:0", "no-such-event-id"] {
                for arguments in [["show", selector], ["redrive", selector, "--yes"]] {
                    let run = try await Self.rejected(arguments, in: system)
                    #expect(run.status == 1, "\(arguments): \(run)")
                    #expect(run.stderr.contains("no record on \(system.topics.rejected) is for"), "\(run)")
                }
            }
            // Nothing was sent again: still the four records.
            try await Task.sleep(for: .seconds(2))
            #expect(Self.records(system, key: task).count == 4)
        }
    }

    @Test("bad selectors and flags are usage errors (64) with a clear message")
    func hostileInput() async throws {
        let prefix = TestEnvironment.unique("ops-hostile") + "."
        let cases: [(arguments: [String], expected: String)] = [
            (["show", ""], "the selector is empty"),
            (["show", "  "], "the selector is empty"),
            (["show", "spectask.commands:-1:5"], "the partition must be a number from 0"),
            (["show", "spectask.commands:0:-5"], "the offset must be a number from 0"),
            (["show", "spectask.commands:99999999999:5"], "the partition must be a number from 0"),
            (["redrive", "bad topic!:0:1", "--yes"], "is not a topic name"),
            (["show", String(repeating: "x", count: 300)], "can not be an event id"),
            (["list", "--limit", "0"], "--limit must be 1…100000, got 0"),
            (["list", "--limit=-3"], "--limit must be 1…100000, got -3"),
            (["list", "--limit", "many"], "--limit"),
            (["list", "--since", "yesterday"], "--since is 'yesterday'; expected an RFC 3339 time"),
            (["list", "--since", "2026-13-45T99:00:00Z"], "--since is '2026-13-45T99:00:00Z'"),
            (["list", "--since=-5m"], "--since is '-5m'"),
            (["list", "--code", ""], "--code '' can not be a code"),
            (["list", "--topic", "no topic!"], "--topic:"),
            (["list", "--topic-prefix", "bad prefix!"], "would make illegal topic names"),
            (["redrive"], "Missing expected argument '<selector>'"),
            (["show", "a", "b"], "Unexpected argument 'b'"),
        ]
        for (arguments, expected) in cases {
            let ownPrefix = arguments.contains("--topic-prefix") ? [] : ["--topic-prefix", prefix]
            let run = try await Self.spectask(["rejected"] + arguments + ownPrefix)
            #expect(run.status == Self.usageError, "\(arguments): \(run)")
            #expect(run.stderr.contains(expected), "\(arguments): expected '\(expected)' in \(run)")
        }
        // A prefix with no topics: the reader says so (a failure, not a usage error).
        let missing = try await Self.spectask(["rejected", "list", "--topic-prefix", prefix])
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.stderr.contains("topic \(prefix)spectask.rejected does not exist"), "\(missing)")
    }

    // MARK: - rejected redrive

    /// An input rejected before the rules is read afresh (and rejected again); a rule's rejection sent again with
    /// --force after the task reached the right state is skipped as a duplicate, as the help says.
    @Test("redrive: rejected again before the rules; a rule's rejection forced later is a duplicate")
    func redrive() async throws {
        let port = try ReadAPITests.freePort()
        try await Scenario.withSystem(adminPort: port) { system, client in
            let task = TestEnvironment.unique("redrive")
            try await system.apply(.create(CreateSpecTask(name: "redrive me")), task: task)
            let schemaID = "\(task)-schema"
            try await system.sendRaw(try Self.schemaViolation(id: schemaID, task: task), key: task)
            guard case .commandRejected(let first) = try await system.outcome(of: schemaID) else {
                Issue.record("the schema violation was applied")
                return
            }
            #expect(first.code == "schema_violation")
            let ruleID = try await system.send(.approveSpecs(ApproveSpecs(approver: "alice")), task: task)
            guard case .commandRejected(let refused) = try await system.outcome(of: ruleID) else {
                Issue.record("approve_specs in backlog was applied")
                return
            }
            #expect(refused.code == "illegal_transition")
            _ = try await system.rejected.waitForCount(2, timeout: .seconds(60), "2 rejected records") {
                NeverStallTests.record(of: $0)?.key == task
            }

            // Before the rules: its id was not claimed, so the copy is decoded again and rejected again, with a new
            // record of a new input and a second outcome.
            let resent = try await Self.rejected(["redrive", schemaID, "--yes"], in: system)
            #expect(resent.status == 0, "\(resent)")
            #expect(resent.stdout.contains("rejected as schema_violation"), "\(resent)")
            #expect(resent.stdout.contains("read the copy afresh"), "\(resent)")
            let again = try await system.rejected.waitForCount(2, timeout: .seconds(60), "the copy's record") {
                NeverStallTests.record(of: $0)?.eventID == schemaID
            }
            let inputs = Set(again.compactMap { NeverStallTests.record(of: $0).map(Self.position) })
            #expect(inputs.count == 2, "a record for the original and one for the copy: \(inputs)")
            _ = try await system.status.waitForCount(2, timeout: .seconds(30), "two outcomes of \(schemaID)") {
                $0.event.correlationid == schemaID && Scenario.isOutcome($0)
            }
            // The event id now names two different records: redrive wants one, by position.
            let ambiguous = try await Self.rejected(["redrive", schemaID, "--yes"], in: system)
            #expect(ambiguous.status == 1, "\(ambiguous)")
            #expect(ambiguous.stderr.contains("names 2 different records"), "\(ambiguous)")

            // By the rules: the task reaches spec_review, where approve_specs would be applied ...
            try await system.apply(.startPlanning(StartPlanning()), task: task)
            try await system.apply(
                .submitSpecs(
                    SubmitSpecs(
                        requirements: "R",
                        design: "D",
                        implementationPlan: "## Task 1: Schema\nEffort: small\n"
                    )
                ),
                task: task
            )
            let duplicatesBefore = try await Self.duplicates(port: port, topic: system.topics.commands)
            let forced = try await Self.rejected(["redrive", ruleID, "--force", "--yes"], in: system)
            #expect(forced.status == 0, "\(forced)")
            #expect(forced.stdout.contains("skip the copy as a duplicate"), "\(forced)")
            // ... but its id is in the inbox: the worker counts the copy as a duplicate and does nothing.
            let deadline = ContinuousClock.now + .seconds(60)
            while try await Self.duplicates(port: port, topic: system.topics.commands) <= duplicatesBefore {
                guard ContinuousClock.now < deadline else { throw TimedOut(what: "the copy counted as a duplicate") }
                try await Task.sleep(for: .milliseconds(200))
            }
            try await Task.sleep(for: .seconds(1))
            let outcomes = system.status.messages.filter { $0.event.correlationid == ruleID && Scenario.isOutcome($0) }
            #expect(outcomes.count == 1, "still only the first outcome, the rejection: \(outcomes.map(\.event.type))")
            #expect(Self.records(system, key: task).filter { $0.eventID == ruleID }.count == 1)
            let stored = try await client.withConnection { connection in
                try await SpecTaskRepository(logger: TestEnvironment.logger).load([task], on: connection)[task]
            }
            #expect(stored?.state.task.status == .specReview)
        }
    }

    /// The worker's count of duplicate inputs of `topic`, from its /metrics.
    static func duplicates(port: Int, topic: String) async throws -> Int {
        let answer = try await ReadAPITests.get("http://127.0.0.1:\(port)/metrics")
        let text = String(decoding: answer.body, as: UTF8.self)
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("spectask_inputs_total{") && $0.contains(#"outcome="duplicate""#)
                && $0.contains(#"topic="\#(topic)""#)
        }
        return line.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) } ?? 0
    }

    // MARK: - outbox

    @Test("outbox status, dead-letters and redrive-dead-letter on a database of their own")
    func outbox() async throws {
        try await TestEnvironment.withFreshDatabase { client, database in
            let environment = ["POSTGRES_URL": Scenario.postgresURL(database)]
            func outbox(_ arguments: [String]) async throws -> Run {
                try await Self.spectask(["outbox"] + arguments, environment: environment)
            }
            let unmigrated = try await outbox(["status"])
            #expect(unmigrated.status == 1, "\(unmigrated)")
            #expect(unmigrated.stderr.contains("not migrated yet"), "\(unmigrated)")

            try await MigrationRunner(
                client: client,
                migrations: try Migration.bundled(),
                logger: TestEnvironment.logger
            )
            .run()
            let empty = try Self.jsonObjects(try await outbox(["status", "--json"]))
            #expect(empty.count == 1)
            #expect((empty.first?["rows"] as? NSNumber)?.intValue == 0, "\(empty)")
            #expect((empty.first?["deadLetters"] as? NSNumber)?.intValue == 0, "\(empty)")
            #expect((empty.first?["topics"] as? [Any])?.isEmpty == true, "\(empty)")
            let emptyText = try await outbox(["status"])
            #expect(emptyText.stdout == "outbox: empty\ndead letters: none\n", "\(emptyText)")
            let noLetters = try await outbox(["dead-letters"])
            #expect(noLetters.status == 0 && noLetters.stdout.isEmpty, "\(noLetters)")

            // A dead letter, as a relay makes one when the broker refuses a message for good (here: it says the
            // message is too large, as a broker with a lower limit would).
            let topic = try await TestEnvironment.makeTopic("dead-letter-redrive")
            let store = OutboxStore(logger: TestEnvironment.logger)
            try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                try await store.append(
                    [OutboxMessage(topic: topic, key: "dl-task", payload: Array("refused once".utf8))],
                    on: connection
                )
            }
            let pass = try await store.relay(shards: Set(OutboxShards.all), limit: 10, client: client) { messages in
                messages.map { _ in .refused(code: "MSG_SIZE_TOO_LARGE", reason: "Broker: Message size too large") }
            }
            let id = try #require(pass.deadLettered.first?.id)

            let withLetter = try #require(try Self.jsonObjects(try await outbox(["status", "--json"])).first)
            #expect((withLetter["rows"] as? NSNumber)?.intValue == 0, "\(withLetter)")
            #expect((withLetter["deadLetters"] as? NSNumber)?.intValue == 1, "\(withLetter)")
            let listed = try await outbox(["dead-letters", "--json"])
            let letters = try Self.jsonObjects(listed)
            #expect(letters.count == 1, "\(listed)")
            #expect((letters.first?["id"] as? NSNumber)?.int64Value == id)
            #expect(letters.first?["code"] as? String == "MSG_SIZE_TOO_LARGE")
            #expect(letters.first?["topic"] as? String == topic)
            #expect((letters.first?["size"] as? NSNumber)?.intValue == "refused once".utf8.count)
            let listedText = try await outbox(["dead-letters"])
            #expect(listedText.stdout.hasPrefix("\(id)  "), "\(listedText)")
            #expect(listedText.stdout.contains("MSG_SIZE_TOO_LARGE: Broker: Message size too large"), "\(listedText)")

            // Without --yes and without a terminal nothing moves; an unknown id is said to be unknown.
            let unconfirmed = try await outbox(["redrive-dead-letter", "\(id)"])
            #expect(unconfirmed.status == 1, "\(unconfirmed)")
            #expect(unconfirmed.stderr.contains("stdin is not a terminal"), "\(unconfirmed)")
            let unknown = try await outbox(["redrive-dead-letter", "\(id + 1000)", "--yes"])
            #expect(unknown.status == 1, "\(unknown)")
            #expect(unknown.stderr.contains("there is no dead letter with id \(id + 1000)"), "\(unknown)")
            let stillDead = try #require(try Self.jsonObjects(try await outbox(["status", "--json"])).first)
            #expect((stillDead["deadLetters"] as? NSNumber)?.intValue == 1, "\(stillDead)")

            let moved = try await outbox(["redrive-dead-letter", "\(id)", "--yes"])
            #expect(moved.status == 0, "\(moved)")
            #expect(moved.stdout.contains("moved dead letter \(id)"), "\(moved)")
            let afterMove = try #require(try Self.jsonObjects(try await outbox(["status", "--json"])).first)
            #expect((afterMove["rows"] as? NSNumber)?.intValue == 1, "\(afterMove)")
            #expect((afterMove["deadLetters"] as? NSNumber)?.intValue == 0, "\(afterMove)")
            let backlog = try #require((afterMove["topics"] as? [[String: Any]])?.first)
            #expect(backlog["topic"] as? String == topic)
            let text = try await outbox(["status"])
            #expect(text.stdout.contains("outbox: 1 row(s) waiting"), "\(text)")

            // The broker takes it now: a relay publishes it, and the outbox is empty again.
            try await withProducer { producer in
                let relay = OutboxRelay(client: client, producer: producer, logger: TestEnvironment.logger)
                let delivered = try await relay.publishOnce(Set(OutboxShards.all))
                #expect(delivered.delivered == 1)
            }
            let consumer = try KafkaConsumer(
                configuration: TestEnvironment.consumerConfiguration(
                    group: TestEnvironment.unique("dead-letter-redrive"),
                    topics: [topic]
                ),
                logger: TestEnvironment.logger
            )
            defer { Task { await consumer.close() } }
            let (received, _) = try await pollUntil(consumer) { !$0.isEmpty }
            #expect(received.map { String(decoding: $0.value, as: UTF8.self) } == ["refused once"])
            let drained = try #require(try Self.jsonObjects(try await outbox(["status", "--json"])).first)
            #expect((drained["rows"] as? NSNumber)?.intValue == 0, "\(drained)")

            // Usage errors.
            for (arguments, expected) in [
                (["redrive-dead-letter", "abc"], "abc"), (["redrive-dead-letter", "0", "--yes"], "positive number"),
                (["dead-letters", "--limit", "0"], "--limit must be 1…100000"), (["redrive-dead-letter"], "Missing"),
            ] {
                let run = try await outbox(arguments)
                #expect(run.status == Self.usageError, "\(arguments): \(run)")
                #expect(run.stderr.contains(expected), "\(arguments): \(run)")
            }
        }
    }

    // MARK: - help

    @Test("--help lists the commands, says what a redrive does and documents the exit codes")
    func help() async throws {
        let top = try await Self.spectask(["--help"])
        #expect(top.stdout.contains("  rejected ") && top.stdout.contains("  outbox "), "\(top)")
        let pages: [(arguments: [String], texts: [String])] = [
            (["rejected", "list"], ["--code <code>", "--since <time|duration>", "--limit <N>", "--json", "64"]),
            (["rejected", "show"], ["<selector>", "Exit status", "1 when none matches", "64"]),
            (
                ["rejected", "redrive"],
                [
                    "--force", "--yes", "claims no event id in the inbox", "claimed in the inbox",
                    "SPECTASK_INBOX_RETENTION", "skip it as a duplicate", "not truncated", "SHA-256", "64",
                ]
            ),
            (["outbox", "status"], ["--json", "oldestAgeSeconds", "Exit status", "64"]),
            (["outbox", "dead-letters"], ["--limit <N>", "--json", "64"]),
            (["outbox", "redrive-dead-letter"], ["message.max.bytes", "--yes", "no dead letter with this id", "64"]),
        ]
        for (arguments, texts) in pages {
            let run = try await Self.spectask(arguments + ["--help"])
            #expect(run.status == 0, "\(arguments): \(run)")
            let help = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for text in texts {
                #expect(help.contains(text), "\(arguments): '\(text)' missing from:\n\(run.stdout)")
            }
        }
    }
}
