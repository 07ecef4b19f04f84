import Crypto
import Foundation
import Hummingbird
import Kafka
import Logging
import NIOCore
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

/// The human gate: `POST /api/v1/spec-tasks/:taskId/actions/:command` publishes the command to
/// `spectask.commands`, built and validated by the same code as `spectask send` (``CommandMessage``), and answers
/// its outcome from `spectask.status`.
///
/// Every action needs `Authorization: Bearer <SPECTASK_DASHBOARD_TOKEN>` and a JSON body (so a form on another
/// site can not send one); a dashboard started without a token is read-only (403). Nothing changes state on GET.
struct DashboardActions: Sendable {
    /// The commands a person sends from the page; the rest belong to agents and runners.
    static let allowed: Set<String> = [
        "approve_specs", "request_changes", "start_implementation", "approve_implementation",
        "request_implementation_changes", "cancel", "set_concurrency_limit", "set_budget", "retry_work_session",
    ]

    let settings: DashboardServer.Settings
    let feed: DashboardFeed
    let producer: KafkaProducer
    let logger: Logger

    func register(on api: RouterGroup<BasicRequestContext>) {
        api.post("spec-tasks/:taskId/actions/:command") { request, context in
            try await act(request, context)
        }
    }

    struct Answer: Encodable {
        var commandID: String
        var command: String
        var outcome: String
        var code: String?
        var reason: String?
        var createdWorkSessionIDs: [String]
    }

    private func act(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request)
        let task = try ReadAPI.validID(context.parameters.get("taskId"), "spec task id")
        let command = context.parameters.get("command") ?? ""
        guard Self.allowed.contains(command) else {
            throw HTTPError(
                .notFound,
                message: "no action '\(command.prefix(100))'; actions: \(Self.allowed.sorted().joined(separator: ", "))"
            )
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw HTTPError(
                .unsupportedMediaType,
                message: "an action's body is a JSON object (Content-Type: application/json)"
            )
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard case .object(var data)? = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: body)) else {
            throw HTTPError(.badRequest, message: "an action's body is a JSON object: the command's data")
        }
        let actor = Self.actor(data)
        data["actor"] = nil
        // Who approves or reviews: the name the page gives, else "dashboard".
        switch command {
        case "approve_specs", "approve_implementation":
            if data["approver"] == nil { data["approver"] = .string(actor) }
        case "request_changes", "request_implementation_changes":
            if data["reviewer"] == nil { data["reviewer"] = .string(actor) }
        default:
            break
        }
        let message: (bytes: [UInt8], command: IncomingCommand)
        do {
            message = try CommandMessage.validated(
                command: command,
                task: task,
                data: data,
                actor: actor,
                source: "spectask-dashboard"
            )
        } catch let problem as InputRejection {
            throw HTTPError(.badRequest, message: "invalid \(command) (\(problem.code)): \(problem.message)")
        }
        let id = message.command.id
        feed.expect(id)
        do {
            _ = try await producer.send(
                KafkaProducerRecord(topic: settings.topics.commands, key: Array(task.utf8), value: message.bytes)
            )
        } catch {
            feed.forget(id)
            logger.error("dashboard could not publish \(command) \(id) for \(task): \(error)")
            throw HTTPError(.serviceUnavailable, message: "the command could not be published: \(error)")
        }
        logger.info("dashboard published \(command) \(id) for \(task) as \(actor)")
        guard let outcome = await feed.outcome(of: id, timeout: settings.outcomeTimeout) else {
            return try ReadAPI.json(
                Answer(
                    commandID: id,
                    command: command,
                    outcome: "timeout",
                    reason: "no outcome within \(settings.outcomeTimeout); is a worker running?",
                    createdWorkSessionIDs: []
                ),
                status: .gatewayTimeout
            )
        }
        return try ReadAPI.json(
            Answer(
                commandID: id,
                command: command,
                outcome: outcome.outcome,
                code: outcome.code,
                reason: outcome.reason,
                createdWorkSessionIDs: outcome.createdWorkSessionIDs
            ),
            status: outcome.outcome == "applied" ? .ok : .conflict
        )
    }

    /// The name the page sends as `actor` (letters, digits, `.-_@ `; at most 64), else `dashboard`.
    static func actor(_ data: [String: JSONValue]) -> String {
        guard case .string(let name)? = data["actor"] else { return "dashboard" }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-_@ "))
        guard !trimmed.isEmpty, trimmed.count <= 64, trimmed.unicodeScalars.allSatisfy(allowed.contains) else {
            return "dashboard"
        }
        return trimmed
    }

    private func authorize(_ request: Request) throws {
        guard let token = settings.token else {
            throw HTTPError(
                .forbidden,
                message: "this dashboard is read-only: it was started without SPECTASK_DASHBOARD_TOKEN"
            )
        }
        // A page of another origin never acts (browsers send Origin with every POST).
        if let origin = request.headers[.origin], let host = request.head.authority,
            origin != "http://\(host)" && origin != "https://\(host)"
        {
            throw HTTPError(.forbidden, message: "actions are only accepted from the dashboard's own page")
        }
        let header = request.headers[.authorization] ?? ""
        let given = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : ""
        guard Self.same(given, token) else {
            throw HTTPError(
                .unauthorized,
                message: given.isEmpty
                    ? "actions need the dashboard token (Authorization: Bearer …)" : "wrong dashboard token"
            )
        }
    }

    /// Compares in time independent of where the texts differ (their SHA-256 digests, byte by byte).
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(SHA256.hash(data: Data(a.utf8)))
        let y = Array(SHA256.hash(data: Data(b.utf8)))
        var difference: UInt8 = 0
        for index in 0..<x.count { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
