import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// The worker's admin HTTP endpoints: liveness and readiness for orchestrators, Prometheus metrics, the read API.
///
/// `GET /health` answers as long as the process serves requests; `GET /ready` also checks that PostgreSQL
/// answers `SELECT 1`, and says 503 with the reason otherwise.
public enum AdminServer {
    public static func makeApplication(
        host: String,
        port: Int,
        postgres: PostgresClient,
        metrics: WorkerMetrics = WorkerMetrics(),
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        router.get("health") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))
            )
        }
        router.get("ready") { _, _ -> Response in
            do {
                try await postgres.query("SELECT 1", logger: logger)
                return json(.ok, ["status": "ready"])
            } catch {
                return json(
                    .serviceUnavailable,
                    ["status": "unavailable", "reason": "PostgreSQL: \(String(reflecting: error))"]
                )
            }
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        ReadAPI.register(on: router, postgres: postgres, logger: logger)
        router.get("**") { request, _ -> Response in
            throw HTTPError(.notFound, message: "no endpoint at \(request.uri.path); see the README's read API")
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "spectask"),
            logger: logger
        )
    }

    static func json(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
