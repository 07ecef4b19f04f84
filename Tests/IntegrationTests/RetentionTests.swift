import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

/// The retention of `inbox`, `coordination_log` and `dead_letters` against the real database: rows are written
/// with timestamps in the past (the way time would have aged them) and pruned by `RetentionService`.
@Suite("Retention: pruning inbox, coordination_log and dead_letters")
struct RetentionTests {
    static let day = 86_400

    /// A migrated database of its own, with the spec task the coordination log entries belong to.
    static func withDatabase(_ body: @escaping @Sendable (PostgresClient) async throws -> Void) async throws {
        try await TestEnvironment.withFreshDatabase { client, _ in
            try await MigrationRunner(
                client: client,
                migrations: try Migration.bundled(),
                logger: TestEnvironment.logger
            )
            .run()
            try await client.query(
                """
                INSERT INTO spec_tasks (id, status, doc, created_at, updated_at)
                VALUES ('retention-task', 'backlog', '{}', now(), now())
                """,
                logger: TestEnvironment.logger
            )
            try await body(client)
        }
    }

    /// Writes `count` rows into `table` whose timestamps are `ageSeconds` in the past, ids starting with `tag`.
    static func insert(
        _ table: RetainedTable,
        count: Int,
        ageSeconds: Int,
        tag: String,
        client: PostgresClient
    ) async throws {
        let age = Double(ageSeconds)
        let query: PostgresQuery =
            switch table {
            case .inbox:
                """
                INSERT INTO inbox (message_id, topic, partition, kafka_offset, processed_at)
                SELECT \(tag) || '-' || g, 'retention.commands', 0, g, now() - make_interval(secs => \(age))
                FROM generate_series(1, \(count)) AS g
                """
            case .coordinationLog:
                """
                INSERT INTO coordination_log (id, spec_task_id, from_work_session_id, kind, doc, created_at)
                SELECT \(tag) || '-' || g, 'retention-task', 'ws-1', 'notification', '{}',
                       now() - make_interval(secs => \(age))
                FROM generate_series(1, \(count)) AS g
                """
            case .deadLetters:
                // dead_letters has no id of its own: the tag goes into the key.
                """
                INSERT INTO dead_letters (id, topic, message_key, payload, error_code, reason, written_at, dead_at)
                SELECT (SELECT coalesce(max(id), 0) FROM dead_letters) + g, 'retention.status', \(tag) || '-' || g,
                       '\\x00', 'msg_size_too_large', 'too large', now() - make_interval(secs => \(age)),
                       now() - make_interval(secs => \(age))
                FROM generate_series(1, \(count)) AS g
                """
            }
        try await client.query(query, logger: TestEnvironment.logger)
    }

    /// How many rows of `table` have ids (keys, for dead letters) starting with `tag`.
    static func count(_ table: RetainedTable, tag: String, client: PostgresClient) async throws -> Int {
        let column =
            switch table {
            case .inbox: "message_id"
            case .coordinationLog: "id"
            case .deadLetters: "message_key"
            }
        let rows = try await client.query(
            "SELECT count(*) FROM \(unescaped: table.rawValue) WHERE starts_with(\(unescaped: column), \(tag + "-"))",
            logger: TestEnvironment.logger
        )
        for try await count in rows.decode(Int.self) { return count }
        return -1
    }

    static func count(_ table: RetainedTable, client: PostgresClient) async throws -> Int {
        try await RetentionStore(logger: TestEnvironment.logger).count(table, client: client)
    }

    static func service(
        _ client: PostgresClient,
        settings: WorkerSettings = WorkerSettings(),
        chunkSize: Int = 7
    ) -> RetentionService {
        RetentionService(client: client, settings: settings, chunkSize: chunkSize, logger: TestEnvironment.logger)
    }

    /// Per table: ages (in days) that are past the default retention, and ages that are not.
    static let expired: [RetainedTable: Int] = [.inbox: 9, .coordinationLog: 31, .deadLetters: 31]
    static let kept: [RetainedTable: Int] = [.inbox: 7, .coordinationLog: 29, .deadLetters: 29]

    /// Old rows (far past, just past the retention) and rows to keep (recent, just within it) in every table.
    static func seed(_ client: PostgresClient, old: Int) async throws {
        for table in RetainedTable.allCases {
            try await insert(table, count: old, ageSeconds: 400 * day, tag: "ancient", client: client)
            try await insert(table, count: 5, ageSeconds: expired[table]! * day, tag: "expired", client: client)
            try await insert(table, count: 20, ageSeconds: 3600, tag: "recent", client: client)
            try await insert(table, count: 5, ageSeconds: kept[table]! * day, tag: "kept", client: client)
        }
    }

    /// Only the rows within their retention are left, in every table.
    static func expectOnlyRecentRows(_ client: PostgresClient) async throws {
        for table in RetainedTable.allCases {
            #expect(try await count(table, tag: "ancient", client: client) == 0, "\(table)")
            #expect(try await count(table, tag: "expired", client: client) == 0, "\(table)")
            #expect(try await count(table, tag: "recent", client: client) == 20, "\(table)")
            #expect(try await count(table, tag: "kept", client: client) == 5, "\(table)")
        }
    }

    @Test("one pass deletes exactly the rows past their retention; the real writers' rows stay")
    func onePass() async throws {
        try await Self.withDatabase { client in
            try await Self.seed(client, old: 50)
            // Written the way the worker writes them: aged by when they were written, not by the time they carry.
            let ancientEntry = CoordinationEntry(
                id: "written-1",
                specTaskID: "retention-task",
                fromWorkSessionID: "ws-1",
                toWorkSessionID: nil,
                kind: .broadcast,
                message: "sent long ago, written now",
                createdAt: Date(timeIntervalSince1970: 0)
            )
            let offsets = ConsumerOffsetStore(group: "retention", logger: TestEnvironment.logger)
            let claim = try await offsets.claim(topic: "retention.commands", partition: 0, owner: "w", client: client)
            try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                _ = try await BatchIntake(group: offsets.group, logger: TestEnvironment.logger).run(
                    generations: [.init(topic: "retention.commands", partition: 0): claim.generation],
                    inputs: [.init(messageID: "written-1", topic: "retention.commands", partition: 0, offset: 1)],
                    subjects: [],
                    on: connection
                )
                try await CoordinationLogStore(logger: TestEnvironment.logger).append([ancientEntry], on: connection)
            }

            let results = try await Self.service(client).pruneOnce()
            #expect(results.map(\.table) == [.inbox, .coordinationLog, .deadLetters])
            for result in results {
                #expect(result.deleted == 55, "\(result.table)")
                #expect(!result.skipped && !result.incomplete, "\(result)")
            }
            try await Self.expectOnlyRecentRows(client)
            #expect(try await Self.count(.inbox, tag: "written", client: client) == 1)
            #expect(try await Self.count(.coordinationLog, tag: "written", client: client) == 1)

            // A second pass finds nothing more.
            #expect(try await Self.service(client).pruneOnce().map(\.deleted) == [0, 0, 0])
        }
    }

    @Test("shorter retentions from the settings are honoured per table")
    func configuredRetention() async throws {
        try await Self.withDatabase { client in
            for table in RetainedTable.allCases {
                try await Self.insert(table, count: 3, ageSeconds: 3 * 3600, tag: "three-hours", client: client)
                try await Self.insert(table, count: 4, ageSeconds: 60, tag: "a-minute", client: client)
            }
            // Only the coordination log is pruned after 2 hours; the others keep theirs.
            let settings = WorkerSettings(coordinationRetention: .seconds(2 * 3600))
            #expect(try await Self.service(client, settings: settings).pruneOnce().map(\.deleted) == [0, 3, 0])
            #expect(try await Self.count(.coordinationLog, tag: "three-hours", client: client) == 0)
            #expect(try await Self.count(.coordinationLog, tag: "a-minute", client: client) == 4)
            #expect(try await Self.count(.inbox, tag: "three-hours", client: client) == 3)
            #expect(try await Self.count(.deadLetters, tag: "three-hours", client: client) == 3)
        }
    }

    @Test("pruners running at once (one per worker) fail nowhere and leave the same result as one")
    func concurrentPruners() async throws {
        try await Self.withDatabase { client in
            let old = 1_500
            try await Self.seed(client, old: old)
            // Small chunks, so the pruners contend for each table's lock many times over.
            let pruners = (0..<4).map { _ in Self.service(client, chunkSize: 40) }
            let results = try await withThrowingTaskGroup(of: [PruneResult].self) { group in
                for pruner in pruners { group.addTask { try await pruner.pruneOnce() } }
                var all: [PruneResult] = []
                for try await results in group { all += results }
                return all
            }
            for table in RetainedTable.allCases {
                let deleted = results.filter { $0.table == table }.map(\.deleted).reduce(0, +)
                #expect(deleted == old + 5, "\(table): \(results.filter { $0.table == table })")
            }
            try await Self.expectOnlyRecentRows(client)
        }
    }

    @Test("a pruner leaves a table alone while another holds its lock")
    func givesWay() async throws {
        try await Self.withDatabase { client in
            try await Self.seed(client, old: 10)
            let (locked, lockedContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            let lock = RetainedTable.inbox.advisoryLock
            let holder = Task {
                try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                    try await connection.query(
                        "SELECT pg_advisory_xact_lock(\(lock.classID), \(lock.objectID))",
                        logger: TestEnvironment.logger
                    )
                    lockedContinuation.yield()
                    for await _ in release { break }
                }
            }
            for await _ in locked { break }
            let blocked = try await Self.service(client).pruneOnce()
            releaseContinuation.finish()
            try await holder.value
            #expect(blocked[0].table == .inbox && blocked[0].skipped && blocked[0].deleted == 0, "\(blocked[0])")
            #expect(blocked[1].deleted == 15 && blocked[2].deleted == 15)
            #expect(try await Self.count(.inbox, tag: "ancient", client: client) == 10)

            // Once the lock is free, the next pass prunes the inbox too.
            let next = try await Self.service(client).pruneOnce()
            #expect(next.map(\.deleted) == [15, 0, 0])
            try await Self.expectOnlyRecentRows(client)
        }
    }

    @Test("a pass stops after its most chunks and says old rows are left; the next pass goes on")
    func boundedPass() async throws {
        try await Self.withDatabase { client in
            try await Self.insert(.inbox, count: 100, ageSeconds: 400 * Self.day, tag: "ancient", client: client)
            let store = RetentionStore(logger: TestEnvironment.logger)
            let first = try await store.prune(
                .inbox,
                olderThan: .seconds(8 * Self.day),
                chunkSize: 30,
                maxChunks: 2,
                client: client
            )
            #expect(first.deleted == 60 && first.incomplete && !first.skipped, "\(first)")
            let second = try await store.prune(
                .inbox,
                olderThan: .seconds(8 * Self.day),
                chunkSize: 30,
                maxChunks: 2,
                client: client
            )
            // 30 + 10: the second chunk found fewer than a chunk's worth, so nothing is left.
            #expect(second.deleted == 40 && !second.incomplete, "\(second)")
            #expect(try await Self.count(.inbox, client: client) == 0)
        }
    }

    /// Each round, time moves on by `step` (every timestamp is moved `step` into the past), the worker writes
    /// `perRound` new rows into each table and a pass prunes. With every retention 2.5 steps long, rows live for
    /// three rounds: from the third round on each table holds exactly three rounds' rows, however long it runs.
    @Test("table sizes stay flat over a long run")
    func sizesStayFlat() async throws {
        try await Self.withDatabase { client in
            let step = 3_600
            let retention: Duration = .seconds(step * 5 / 2)
            let settings = WorkerSettings(
                inboxRetention: retention,
                coordinationRetention: retention,
                deadLetterRetention: retention
            )
            let service = Self.service(client, settings: settings, chunkSize: 64)
            let perRound = 150
            let rounds = 40
            var history: [RetainedTable: [Int]] = [:]
            var heapPages: [RetainedTable: [Int]] = [:]
            for round in 0..<rounds {
                for table in RetainedTable.allCases {
                    try await client.query(
                        """
                        UPDATE \(unescaped: table.rawValue)
                        SET \(unescaped: table.timestampColumn) = \(unescaped: table.timestampColumn) - make_interval(secs => \(Double(step)))
                        """,
                        logger: TestEnvironment.logger
                    )
                    try await Self.insert(table, count: perRound, ageSeconds: 0, tag: "round\(round)", client: client)
                }
                let results = try await service.pruneOnce()
                #expect(results.allSatisfy { !$0.skipped && !$0.incomplete }, "\(results)")
                for table in RetainedTable.allCases {
                    history[table, default: []].append(try await Self.count(table, client: client))
                    // What vacuum reclaims is reused: the heap stops growing too.
                    try await client.query("VACUUM \(unescaped: table.rawValue)", logger: TestEnvironment.logger)
                    for try await pages in try await client.query(
                        "SELECT pg_relation_size(\(table.rawValue)::regclass) / 8192",
                        logger: TestEnvironment.logger
                    ).decode(Int.self) {
                        heapPages[table, default: []].append(pages)
                    }
                }
            }
            for table in RetainedTable.allCases {
                let counts = history[table]!
                #expect(counts.prefix(3) == [perRound, 2 * perRound, 3 * perRound], "\(table): \(counts)")
                #expect(counts.dropFirst(2).allSatisfy { $0 == 3 * perRound }, "\(table): \(counts)")
                let pages = heapPages[table]!
                // Pages wobble with where vacuum leaves free space; without pruning they would grow every round.
                let settled = pages[3..<10].max()!
                #expect(
                    pages.dropFirst(10).allSatisfy { $0 <= settled + settled / 4 + 2 },
                    "\(table) heap pages: \(pages)"
                )
            }
        }
    }

    @Test("the service prunes on its own every interval, and a long interval does not hold up a shutdown")
    func serviceLoop() async throws {
        try await Self.withDatabase { client in
            let settings = WorkerSettings(pruneInterval: .milliseconds(100))
            try await Self.seed(client, old: 30)
            // Chunks big enough for a pass to be a few statements: under the whole suite's load, a pass in chunks
            // of 7 took seconds.
            let looping = Task { try await Self.service(client, settings: settings, chunkSize: 64).run() }
            // A wait that times out must not leave the service running on a client that is shut down.
            defer { looping.cancel() }
            try await Self.waitUntil("the first rows are pruned") {
                try await Self.count(.inbox, tag: "ancient", client: client) == 0
            }
            // Rows that age past their retention later are pruned by a later pass.
            try await Self.insert(.deadLetters, count: 12, ageSeconds: 400 * Self.day, tag: "later", client: client)
            try await Self.waitUntil("the later rows are pruned") {
                try await Self.count(.deadLetters, tag: "later", client: client) == 0
            }
            looping.cancel()
            try await looping.value
            try await Self.expectOnlyRecentRows(client)

            // In a service group, with an hour between passes: a graceful shutdown ends the wait at once.
            let hourly = Self.service(client, settings: WorkerSettings(pruneInterval: .seconds(3600)))
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: hourly)], logger: TestEnvironment.logger)
            )
            try await Self.insert(.deadLetters, count: 3, ageSeconds: 400 * Self.day, tag: "hourly", client: client)
            let running = Task { try await group.run() }
            // Its first pass is done (what is measured below is the wait for the next one, not a pass under way).
            try await Self.waitUntil("the first hourly pass") {
                try await Self.count(.deadLetters, tag: "hourly", client: client) == 0
            }
            try await Task.sleep(for: .milliseconds(100))
            let shutdownStarted = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await running.value
            // Far below the hour it would take if the wait held the shutdown up; not a speed figure (CI once measured
            // 5.2 s here under the whole suite's load, against a bound of 5 s).
            #expect(ContinuousClock.now - shutdownStarted < .seconds(60))
        }
    }

    /// Polls `condition` until it holds; `timeout` is generous, as a loaded machine can be slow.
    static func waitUntil(
        _ what: String,
        timeout: Duration = .seconds(60),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
