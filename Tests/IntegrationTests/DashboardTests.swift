import Foundation
import PostgresNIO
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `spectask dashboard` as a process against a private system: the list endpoint of the read API, the
/// Server-Sent Events stream, the page's assets and headers, and the human gate's token rules.
@Suite("Dashboard", .serialized)
struct DashboardTests {
    /// A running `spectask dashboard` and its base URL.
    struct Dashboard {
        let child: WorkerProcessTests.Child
        let base: String

        static func start(_ system: SystemUnderTest, token: String?) async throws -> Dashboard {
            let child = try WorkerProcessTests.Child(
                ["dashboard", "--topic-prefix", system.prefix, "--address", "127.0.0.1:0", "--log-level", "info"],
                environment: system.environment.merging(["SPECTASK_DASHBOARD_TOKEN": token ?? ""]) { $1 }
            )
            try await child.waitForOutput(containing: "dashboard listening on http://", timeout: .seconds(60))
            try await child.waitForOutput(containing: "dashboard following", timeout: .seconds(60))
            let line = try #require(child.output.split(separator: "\n").first { $0.contains("dashboard listening on") })
            let start = try #require(line.firstRange(of: "http://")).lowerBound
            let url = line[start...].prefix { $0 != " " }
            return Dashboard(child: child, base: url.hasSuffix("/") ? String(url.dropLast()) : String(url))
        }

        func stop() async {
            child.process.terminate()
            _ = try? await child.waitForExit(timeout: .seconds(20))
        }
    }

    struct Answer {
        var status: Int
        var body: Data
        var headers: [String: String]

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func request(
        _ url: String,
        method: String = "GET",
        headers: [String: String] = [:],
        body: String? = nil
    ) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, body: data, headers: fields)
    }

    /// A task in spec review (created, planned, specs submitted).
    static func taskInReview(
        _ system: SystemUnderTest,
        name: String,
        plan: String = "## Task 1: Only\n"
    ) async throws
        -> String
    {
        let task = TestEnvironment.unique("dash")
        try await system.apply(.create(CreateSpecTask(name: name, description: "for the dashboard tests")), task: task)
        try await system.apply(.startPlanning(StartPlanning()), task: task)
        try await system.apply(
            .submitSpecs(SubmitSpecs(requirements: "R", design: "D", implementationPlan: plan)),
            task: task
        )
        return task
    }

    @Test("the list endpoint pages newest first and filters by status and text; bad parameters are 400")
    func listEndpoint() async throws {
        try await Scenario.withSystem { system, _ in
            let dashboard = try await Dashboard.start(system, token: nil)
            let marker = TestEnvironment.unique("zebra")
            var tasks: [String] = []
            for number in 1...3 {
                let task = TestEnvironment.unique("list")
                try await system.apply(.create(CreateSpecTask(name: "\(marker) \(number)")), task: task)
                tasks.append(task)
            }
            try await system.apply(.startPlanning(StartPlanning()), task: tasks[2])
            let api = "\(dashboard.base)/api/v1/spec-tasks"

            let first = try await Self.request("\(api)?q=\(marker)&limit=2")
            #expect(first.status == 200)
            let items = try #require(first.json["items"] as? [[String: Any]])
            #expect(items.compactMap { $0["id"] as? String } == [tasks[2], tasks[1]])
            #expect(items.first?["status"] as? String == "spec_generation")
            #expect(items.first?["overallPercent"] as? Int != nil)
            #expect(items.first?["activeWorkSessions"] as? Int == 0)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let second = try await Self.request("\(api)?q=\(marker)&limit=2&cursor=\(cursor)")
            #expect((second.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [tasks[0]])
            #expect(second.json["nextCursor"] == nil)

            let backlog = try await Self.request("\(api)?q=\(marker)&status=backlog,done")
            #expect(
                (backlog.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [tasks[1], tasks[0]]
            )
            // Text is matched literally: % and _ are no wildcards.
            let literal = try await Self.request("\(api)?q=%25")
            #expect((literal.json["items"] as? [[String: Any]])?.isEmpty == true)

            for bad in ["status=flying", "limit=0", "limit=abc", "cursor=!!", "archived=maybe"] {
                let answer = try await Self.request("\(api)?\(bad)")
                #expect(answer.status == 400, "\(bad): \(answer.text)")
                #expect(answer.json["error"] is String)
            }
            // The worker's read API has the same endpoint.
            let page = try await Self.request("\(dashboard.base)/")
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(try await Self.request("\(dashboard.base)/assets/app.js").status == 200)
            #expect(try await Self.request("\(dashboard.base)/assets/..%2FPackage.swift").status == 404)
            // Bound to 127.0.0.1, it answers only requests for a loopback host (no DNS rebinding).
            let port = try #require(URL(string: dashboard.base)?.port)
            let rebound = try EventStreamReader(port: port, path: "/api/v1/spec-tasks", host: "evil.example:\(port)")
            try await rebound.waitFor("HTTP/1.1 421", timeout: 10)
            rebound.close()
            let local = try EventStreamReader(port: port, path: "/api/v1/dashboard", host: "localhost:\(port)")
            try await local.waitFor("HTTP/1.1 200", timeout: 10)
            local.close()
            await dashboard.stop()
        }
    }

    @Test("the event stream tells the page about every change as it happens")
    func serverSentEvents() async throws {
        try await Scenario.withSystem { system, _ in
            let dashboard = try await Dashboard.start(system, token: nil)
            let port = try #require(URL(string: dashboard.base)?.port)
            let stream = try EventStreamReader(port: port, path: "/api/v1/events")
            defer { stream.close() }
            try await stream.waitFor("connected", timeout: 10)
            let task = TestEnvironment.unique("sse")
            try await system.apply(.create(CreateSpecTask(name: "Streamed")), task: task)
            // The change comes from spectask.status and the snapshot from spectask.progress: two topics, read
            // side by side, so either may come first.
            let taskField = "\"specTaskID\":\"\(task)\""
            try await stream.waitForEvent("change", containing: taskField, timeout: 30)
            let text = try await stream.waitForEvent("progress", containing: taskField, timeout: 30)
            #expect(text.contains("HTTP/1.1 200"))
            #expect(text.lowercased().contains("content-type: text/event-stream"))
            await dashboard.stop()
        }
    }

    @Test("actions: read-only without a token, 401 without or with a wrong one, POST only, applied with it")
    func actionsNeedTheToken() async throws {
        try await Scenario.withSystem { system, client in
            let readOnly = try await Dashboard.start(system, token: nil)
            let token = "secret-\(UUID().uuidString)"
            let gated = try await Dashboard.start(system, token: token)
            let task = try await Self.taskInReview(system, name: "Gate me")
            let path = "/api/v1/spec-tasks/\(task)/actions/approve_specs"
            let json = ["Content-Type": "application/json"]

            let info = try await Self.request("\(readOnly.base)/api/v1/dashboard")
            #expect(info.json["readOnly"] as? Bool == true)
            #expect(try await Self.request("\(gated.base)/api/v1/dashboard").json["readOnly"] as? Bool == false)

            let refused = try await Self.request(
                "\(readOnly.base)\(path)",
                method: "POST",
                headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 },
                body: "{}"
            )
            #expect(refused.status == 403, "\(refused.text)")
            #expect(
                try await Self.request("\(gated.base)\(path)", method: "POST", headers: json, body: "{}").status == 401
            )
            let wrong = try await Self.request(
                "\(gated.base)\(path)",
                method: "POST",
                headers: json.merging(["Authorization": "Bearer nope-nope-nope"]) { $1 },
                body: "{}"
            )
            #expect(wrong.status == 401)
            // No state-changing GET: the action's address does not answer GET.
            #expect(try await Self.request("\(gated.base)\(path)").status == 404)
            // A form post (not JSON) and a page of another origin are refused.
            let form = try await Self.request(
                "\(gated.base)\(path)",
                method: "POST",
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/x-www-form-urlencoded"],
                body: "a=b"
            )
            #expect(form.status == 415)
            let foreign = try await Self.request(
                "\(gated.base)\(path)",
                method: "POST",
                headers: json.merging(["Authorization": "Bearer \(token)", "Origin": "http://evil.example"]) { $1 },
                body: "{}"
            )
            #expect(foreign.status == 403)
            // Agents' commands are not actions of the page.
            let agentOnly = try await Self.request(
                "\(gated.base)/api/v1/spec-tasks/\(task)/actions/submit_specs",
                method: "POST",
                headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 },
                body: "{}"
            )
            #expect(agentOnly.status == 404)

            let repository = SpecTaskRepository(logger: TestEnvironment.logger)
            #expect(try await repository.loadSnapshot([task], client: client)[task]?.state.task.status == .specReview)

            let approved = try await Self.request(
                "\(gated.base)\(path)",
                method: "POST",
                headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 },
                body: #"{"comments": "ship it", "actor": "alice"}"#
            )
            #expect(approved.status == 200, "\(approved.text)")
            #expect(approved.json["outcome"] as? String == "applied")
            let state = try #require(try await repository.loadSnapshot([task], client: client)[task]?.state)
            #expect(state.task.status == .specApproved)
            #expect(state.task.approvedBy == "alice")

            // A command the state machine refuses comes back as rejected, with the reason.
            let again = try await Self.request(
                "\(gated.base)\(path)",
                method: "POST",
                headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 },
                body: "{}"
            )
            #expect(again.status == 409)
            #expect(again.json["outcome"] as? String == "rejected")
            #expect((again.json["reason"] as? String)?.isEmpty == false)

            // The rest of the gate, with the data the page sends.
            func act(_ command: String, _ body: String) async throws -> Answer {
                try await Self.request(
                    "\(gated.base)/api/v1/spec-tasks/\(task)/actions/\(command)",
                    method: "POST",
                    headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 },
                    body: body
                )
            }
            let started = try await act("start_implementation", #"{"maxConcurrentSessions": 1}"#)
            #expect(started.json["outcome"] as? String == "applied", "\(started.text)")
            let sessions = try #require(started.json["createdWorkSessionIDs"] as? [String])
            #expect(sessions.count == 1)
            #expect(try await act("set_budget", #"{"maxCostMicros": 5000000, "maxTokens": null}"#).status == 200)
            #expect(try await act("set_concurrency_limit", #"{"maxConcurrentSessions": null}"#).status == 200)
            try await system.apply(
                .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: sessions[0], status: .failed)),
                task: task
            )
            let retried = try await act("retry_work_session", #"{"workSessionID": "\#(sessions[0])"}"#)
            #expect(retried.json["outcome"] as? String == "applied", "\(retried.text)")
            let cancelled = try await act("cancel", #"{"reason": "enough"}"#)
            #expect(cancelled.json["outcome"] as? String == "applied", "\(cancelled.text)")
            let final = try #require(try await repository.loadSnapshot([task], client: client)[task]?.state)
            #expect(final.task.status == .cancelled)
            #expect(final.task.budget?.maxCostMicros == 5_000_000)
            #expect(final.task.maxConcurrentSessions == nil)
            #expect(final.workSessions.count == 2)
            await readOnly.stop()
            await gated.stop()
        }
    }
}

/// Reads a Server-Sent Events response over a plain socket (FoundationNetworking on Linux streams no bodies).
final class EventStreamReader: @unchecked Sendable {
    private let socketFD: Int32
    private var received = ""

    init(port: Int, path: String, host: String? = nil) throws {
        #if canImport(Glibc)
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        socketFD = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TimedOut(what: "connecting to 127.0.0.1:\(port)") }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { send(socketFD, $0, strlen($0), 0) }
    }

    /// Reads until the text received so far contains `text`; returns everything received.
    @discardableResult
    func waitFor(_ text: String, timeout: Double) async throws -> String {
        try await waitUntil("'\(text)'", timeout: timeout) { $0.contains(text) }
    }

    /// Reads until an event named `name` whose data contains `text` has arrived; returns everything received.
    @discardableResult
    func waitForEvent(_ name: String, containing text: String, timeout: Double) async throws -> String {
        try await waitUntil("an event '\(name)' with '\(text)'", timeout: timeout) { received in
            received.split(separator: "\n\n").contains { frame in
                // `isNewline`, not "\n": Swift reads the chunked encoding's "\r\n" as one character.
                frame.split(whereSeparator: \.isNewline).contains("event: \(name)") && frame.contains(text)
            }
        }
    }

    /// Polls the socket without blocking, sleeping between empty reads so no pool thread is held while waiting.
    private func waitUntil(_ what: String, timeout: Double, _ done: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !done(received) {
            guard Date() < deadline else {
                throw TimedOut(what: "waiting for \(what) in the event stream; got:\n\(received.suffix(2000))")
            }
            let count = recv(socketFD, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received += String(decoding: buffer[0..<count], as: UTF8.self)
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return received
    }

    func close() {
        #if canImport(Glibc)
        Glibc.close(socketFD)
        #endif
    }
}
