import Foundation
import Hummingbird
import Kafka
import Logging
import NIOCore
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

/// `spectask dashboard`'s HTTP server: the page and its assets (from the binary's resources), the read API
/// (the same endpoints as a worker's admin port), a Server-Sent Events stream of changes, and the human gate's
/// actions (POST only, each needing the dashboard token).
public enum DashboardServer {
    /// The settings of one dashboard process.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// `SPECTASK_DASHBOARD_TOKEN`: actions need it as `Authorization: Bearer <token>`; `nil`: read-only.
        public var token: String?
        public var topics: WorkerTopics
        /// How long an action waits for its command's outcome.
        public var outcomeTimeout: Duration

        public init(
            host: String = "127.0.0.1",
            port: Int = 8090,
            token: String? = nil,
            topics: WorkerTopics = WorkerTopics(),
            outcomeTimeout: Duration = .seconds(20)
        ) {
            self.host = host
            self.port = port
            self.token = token
            self.topics = topics
            self.outcomeTimeout = outcomeTimeout
        }
    }

    public static func makeApplication(
        settings: Settings,
        postgres: PostgresClient,
        feed: DashboardFeed,
        producer: KafkaProducer,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        logger: Logger
    ) throws -> some ApplicationProtocol {
        let assets = try DashboardAssets.load()
        let router = Router()
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        if LoopbackHostMiddleware.isLoopback(settings.host) { router.add(middleware: LoopbackHostMiddleware()) }

        // The page: one document for the board and every task page; the script reads the path.
        let page: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            assets.response(for: "index.html")!
        }
        router.get("/", use: page)
        router.get("tasks/:taskId", use: page)
        router.get("assets/:file") { _, context in
            guard let name = context.parameters.get("file"), let response = assets.response(for: name) else {
                throw HTTPError(.notFound, message: "no such asset")
            }
            return response
        }
        router.get("health") { _, _ in AdminServer.json(.ok, ["status": "ok"]) }
        router.get("ready") { _, _ -> Response in
            feed.isReading
                ? AdminServer.json(.ok, ["status": "ready"])
                : AdminServer.json(
                    .serviceUnavailable,
                    ["status": "unavailable", "reason": "not following the topics yet"]
                )
        }

        ReadAPI.register(on: router, postgres: postgres, logger: logger)
        let api = router.group("api/v1")
        api.get("dashboard") { _, _ in
            try ReadAPI.json(
                Info(
                    readOnly: settings.token == nil,
                    actions: DashboardActions.allowed.sorted(),
                    statusTopic: settings.topics.status,
                    progressTopic: settings.topics.progress
                )
            )
        }
        api.get("events") { _, _ in
            let stream = feed.subscribe()
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no",
                ],
                body: ResponseBody { writer in
                    for await frame in stream { try await writer.write(frame) }
                    try await writer.finish(nil)
                }
            )
        }
        DashboardActions(settings: settings, feed: feed, producer: producer, logger: logger).register(on: api)
        router.get("**") { request, _ -> Response in
            throw HTTPError(.notFound, message: "no page or endpoint at \(request.uri.path)")
        }
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(settings.host, port: settings.port),
                serverName: "spectask-dashboard"
            ),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger
        )
    }

    struct Info: Encodable {
        var readOnly: Bool
        var actions: [String]
        var statusTopic: String
        var progressTopic: String
    }

    /// JSON on one line (for SSE data lines), sorted keys, RFC 3339 dates.
    static let compactEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }()
}

/// Headers on every answer: the page runs only its own script and styles (no inline script, nothing from
/// elsewhere, no plugins, no framing), so even text that slipped into the page as HTML could not run.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        return response
    }
}

/// On a loopback address, only requests that name a loopback host: a web page whose own host name an attacker
/// points at 127.0.0.1 (DNS rebinding) can not read the dashboard through the browser of the person using it.
struct LoopbackHostMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    /// The host of an HTTP authority (`host:port`, `[v6]:port`, `host`).
    static func host(ofAuthority authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let authority = request.head.authority, Self.isLoopback(Self.host(ofAuthority: authority)) else {
            return AdminServer.json(
                .misdirectedRequest,
                ["error": "this dashboard answers requests for 127.0.0.1 or localhost only"]
            )
        }
        return try await next(request, context)
    }
}
