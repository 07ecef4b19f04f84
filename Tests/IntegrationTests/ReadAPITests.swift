import Foundation
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The read-only HTTP API on a worker's admin port, after a real workflow through the topics.
@Suite("Read API", .serialized)
struct ReadAPITests {
    struct Answer {
        var status: Int
        var body: Data
        var contentType: String?

        func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            try ReadAPITests.decoder.decode(T.self, from: body)
        }

        /// The `error` member of an error answer.
        var error: String? {
            (try? JSONDecoder().decode([String: String].self, from: body))?["error"]
        }
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        return decoder
    }()

    static func get(_ url: String) async throws -> Answer {
        let (body, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        let http = try #require(response as? HTTPURLResponse)
        return Answer(status: http.statusCode, body: body, contentType: http.value(forHTTPHeaderField: "Content-Type"))
    }

    /// A random port in 21000…32000 that nothing listens on now: below Linux's ephemeral range (32768…), where
    /// the outgoing connections of every other test take their local ports and could take this one meanwhile.
    static func freePort() throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 21_000...32_000)
            #if canImport(Glibc)
            let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let socketFD = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard socketFD >= 0 else { continue }
            defer { close(socketFD) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return port }
        }
        throw TimedOut(what: "looking for a free port in 21000…32000")
    }

    @Test("every endpoint answers the stored state as JSON; bad ids 400, unknown ids and paths 404, with an error")
    func endpoints() async throws {
        let port = try Self.freePort()
        try await Scenario.withSystem(adminPort: port) { system, client in
            let base = "http://127.0.0.1:\(port)/api/v1"
            let waiting = TestEnvironment.unique("read-waiting")
            try await system.apply(.create(CreateSpecTask(name: "Not started yet")), task: waiting)
            let task = try await WorkflowTests.approvedTask(
                system,
                plan: "## Task 1: Schema\nEffort: small\n\n## Task 2: API\nDepends on: 1\n",
                name: "Read me"
            )
            let sessions = ["\(task)-ws1", "\(task)-ws2"]
            let helper = "\(task)-helper"
            let instance = "\(task)-zi"
            try await system.apply(
                .startImplementation(StartImplementation(zedInstanceID: instance, workSessionIDs: sessions)),
                task: task
            )
            try await system.apply(
                .updateZedThread(
                    UpdateZedThread(
                        workSessionID: sessions[0],
                        zedThreadExternalID: "zed-77",
                        status: .active,
                        progress: 40
                    )
                ),
                task: task
            )
            try await system.apply(
                .spawnWorkSession(
                    SpawnWorkSession(parentWorkSessionID: sessions[0], name: "helper", workSessionID: helper)
                ),
                task: task
            )
            try await system.apply(.setSharedContext(SetSharedContext(key: "api-base", value: "/v2")), task: task)

            let stored = try #require(
                try await client.withConnection {
                    try await SpecTaskRepository(logger: TestEnvironment.logger).load([task], on: $0)[task]
                }
            )
            let state = Normalize.state(stored.state)
            #expect(state.workSessions.map(\.id) == sessions + [helper])
            #expect(state.workSessions.map(\.status) == [.active, .pending, .active])

            // The overview: everything at once.
            let overviewAnswer = try await Self.get("\(base)/spec-tasks/\(task)/multi-session-overview")
            #expect(overviewAnswer.status == 200)
            #expect(overviewAnswer.contentType == "application/json")
            let overview: ReadAPI.Overview = try overviewAnswer.decode()
            #expect(Normalize.task(overview.specTask) == state.task)
            #expect(overview.specTask.status == .implementation)
            #expect(overview.zedInstance.map(Normalize.instance) == state.zedInstance)
            #expect(overview.zedInstance?.id == instance)
            #expect(overview.implementationTasks == state.implementationTasks)
            #expect(overview.workSessions.map(Normalize.session) == state.workSessions)
            #expect(overview.zedThreads.map(Normalize.thread) == state.zedThreads)
            #expect(overview.sharedContext.map { [$0.key: $0.value] } == [["api-base": "/v2"]])
            #expect(Normalize.progress(overview.progress) == Normalize.progress(ReadAPI.progress(stored.state)))

            // The parts.
            let workSessions = try await Self.get("\(base)/spec-tasks/\(task)/work-sessions")
            #expect(workSessions.status == 200)
            #expect(try workSessions.decode([WorkSession].self).map(Normalize.session) == state.workSessions)

            let implementationTasks = try await Self.get("\(base)/spec-tasks/\(task)/implementation-tasks")
            #expect(implementationTasks.status == 200)
            let tasks = try implementationTasks.decode([ImplementationTask].self)
            #expect(tasks == state.implementationTasks)
            #expect(tasks.map(\.title) == ["Schema", "API"])
            #expect(tasks.map(\.dependsOn) == [[], [1]])
            #expect(tasks.map(\.assignedWorkSessionID) == [sessions[0], nil])

            let progress = try await Self.get("\(base)/spec-tasks/\(task)/progress")
            #expect(progress.status == 200)
            let snapshot = try progress.decode(ProgressSnapshot.self)
            #expect(Normalize.progress(snapshot) == Normalize.progress(ReadAPI.progress(stored.state)))
            #expect(snapshot.specTaskID == task)
            #expect(snapshot.workSessions.count == 3)

            let zedInstance = try await Self.get("\(base)/spec-tasks/\(task)/zed-instance")
            #expect(zedInstance.status == 200)
            let decodedInstance = try zedInstance.decode(ZedInstance.self)
            #expect(decodedInstance.id == instance)
            #expect(decodedInstance.specTaskID == task)
            #expect(Normalize.instance(decodedInstance) == state.zedInstance)

            let zedThreads = try await Self.get("\(base)/spec-tasks/\(task)/zed-threads")
            #expect(zedThreads.status == 200)
            let threads = try zedThreads.decode([ZedThread].self)
            #expect(threads.map(Normalize.thread) == state.zedThreads)
            #expect(Set(threads.map(\.workSessionID)) == Set(sessions + [helper]))
            #expect(threads.first { $0.workSessionID == sessions[0] }?.zedThreadExternalID == "zed-77")

            let session = try await Self.get("\(base)/work-sessions/\(sessions[0])")
            #expect(session.status == 200)
            let detail = try session.decode(ReadAPI.WorkSessionDetail.self)
            #expect(Normalize.session(detail.workSession) == state.workSessions[0])
            #expect(detail.zedThread?.workSessionID == sessions[0])
            #expect(detail.zedThread?.zedThreadExternalID == "zed-77")
            #expect(detail.implementationTask?.index == 1)
            #expect(detail.spawnedWorkSessionIDs == [helper])
            let helperDetail = try await Self.get("\(base)/work-sessions/\(helper)").decode(
                ReadAPI.WorkSessionDetail.self
            )
            #expect(helperDetail.workSession.parentWorkSessionID == sessions[0])
            #expect(helperDetail.implementationTask == nil)
            #expect(helperDetail.spawnedWorkSessionIDs.isEmpty)

            // Not there: 404 with an error.
            let unknownTask = "no-such-task-\(UUID().uuidString.prefix(8))"
            let notFound: [String] = [
                "\(base)/spec-tasks/\(unknownTask)/multi-session-overview",
                "\(base)/spec-tasks/\(unknownTask)/work-sessions",
                "\(base)/spec-tasks/\(unknownTask)/implementation-tasks",
                "\(base)/spec-tasks/\(unknownTask)/progress",
                "\(base)/spec-tasks/\(unknownTask)/zed-instance",
                "\(base)/spec-tasks/\(unknownTask)/zed-threads",
                "\(base)/work-sessions/no-such-session",
                "\(base)/spec-tasks/\(waiting)/zed-instance",  // exists, but implementation has not started
                "\(base)/spec-tasks/\(String(repeating: "a", count: 128))/progress",  // the longest valid id
                "\(base)/spec-tasks/\(task)/nothing-here",
                "http://127.0.0.1:\(port)/no/such/path",
            ]
            for url in notFound {
                let answer = try await Self.get(url)
                #expect(answer.status == 404, "\(url)")
                #expect(answer.contentType == "application/json", "\(url)")
                #expect(answer.error?.isEmpty == false, "\(url): \(String(decoding: answer.body, as: UTF8.self))")
            }
            #expect(
                try await Self.get("\(base)/spec-tasks/\(unknownTask)/progress").error?.contains(unknownTask) == true
            )
            #expect(
                try await Self.get("\(base)/spec-tasks/\(waiting)/zed-instance").error?.contains("no Zed instance")
                    == true
            )

            // Not an id: 400 with an error.
            let badRequests: [String] = [
                "\(base)/spec-tasks/bad%20id%21/multi-session-overview",
                "\(base)/spec-tasks/bad%20id%21/progress",
                "\(base)/spec-tasks/\(String(repeating: "a", count: 200))/work-sessions",
                "\(base)/spec-tasks/t%C3%A2che/zed-threads",
                "\(base)/work-sessions/bad%20id%21",
                "\(base)/work-sessions/\(String(repeating: "w", count: 129))",
            ]
            for url in badRequests {
                let answer = try await Self.get(url)
                #expect(answer.status == 400, "\(url)")
                #expect(answer.contentType == "application/json", "\(url)")
                #expect(
                    answer.error?.contains("is not a valid") == true,
                    "\(url): \(String(decoding: answer.body, as: UTF8.self))"
                )
            }
        }
    }

    @Test("the coordination log and the shared context: entries in order, paging, bad query parameters 400")
    func coordinationLog() async throws {
        let port = try Self.freePort()
        try await Scenario.withSystem(adminPort: port) { system, _ in
            let base = "http://127.0.0.1:\(port)/api/v1"
            let (task, instance, sessions) = try await system.implementing(plan: ZedIntegrationTests.twoTasks)
            try await ZedIntegrationTests.createThreads(system, task, instance, sessions: sessions)
            try await system.apply(.setSharedContext(SetSharedContext(key: "db", value: "postgres")), task: task)
            let kinds: [CoordinationKind] = [.handoff, .blocking, .notification]
            for (number, kind) in kinds.enumerated() {
                try await system.sendZedEvent(
                    .coordinationMessage(
                        ZedCoordinationMessage(
                            instanceID: instance.instanceID,
                            fromWorkSessionID: sessions[0],
                            toWorkSessionID: sessions[1],
                            kind: kind,
                            message: "message \(number)"
                        )
                    ),
                    task: task,
                    token: instance.runnerToken
                )
            }
            _ = try await system.zedCommands.waitForCount(3, timeout: .seconds(60), "three deliveries") {
                $0.event.subject == task && $0.event.type == "zed.command.deliver_message"
            }

            let all = try await Self.get("\(base)/spec-tasks/\(task)/coordination-log")
            #expect(all.status == 200 && all.contentType == "application/json")
            let entries = try all.decode([CoordinationEntry].self)
            #expect(entries.map(\.kind) == kinds)
            #expect(entries.map(\.message) == ["message 0", "message 1", "message 2"])
            #expect(entries.allSatisfy { $0.fromWorkSessionID == sessions[0] && $0.toWorkSessionID == sessions[1] })
            let page = try await Self.get("\(base)/spec-tasks/\(task)/coordination-log?offset=1&limit=1")
            #expect(try page.decode([CoordinationEntry].self).map(\.message) == ["message 1"])

            let context = try await Self.get("\(base)/spec-tasks/\(task)/shared-context")
            #expect(context.status == 200)
            #expect(try context.decode([SharedContextEntry].self).map { [$0.key: $0.value] } == [["db": "postgres"]])

            for query in ["limit=0", "limit=1001", "limit=abc", "offset=-1", "offset=1e3"] {
                let answer = try await Self.get("\(base)/spec-tasks/\(task)/coordination-log?\(query)")
                #expect(answer.status == 400, "\(query)")
                #expect(
                    answer.error?.contains("query parameter") == true,
                    "\(query): \(String(describing: answer.error))"
                )
            }
            let unknown = "no-such-task-\(UUID().uuidString.prefix(8))"
            for path in ["coordination-log", "shared-context"] {
                #expect(try await Self.get("\(base)/spec-tasks/\(unknown)/\(path)").status == 404)
                #expect(try await Self.get("\(base)/spec-tasks/bad%20id/\(path)").status == 400)
            }
        }
    }
}
