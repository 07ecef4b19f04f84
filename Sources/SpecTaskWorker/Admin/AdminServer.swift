import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SpecTaskStore

/// The worker's admin HTTP endpoints: liveness and readiness for orchestrators, Prometheus metrics, the read API.
///
/// `GET /health` (liveness) answers 503 only when the ingest loop has not turned for a while (a stuck process that a
/// restart would fix), never because a dependency is down. `GET /ready` answers 503 with the reason while
/// PostgreSQL does not answer `SELECT 1` within `databaseCheckTimeout`, while applying input fails, or when the
/// worker has owned no partition for a while after its start.
public enum AdminServer {
    public static func makeApplication(
        host: String,
        port: Int,
        postgres: PostgresClient,
        metrics: WorkerMetrics = WorkerMetrics(),
        health: WorkerHealth = WorkerHealth(),
        databaseCheckTimeout: Duration = .seconds(2),
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        router.get("health") { _, _ -> Response in
            if let problem = health.livenessProblem() {
                return json(.serviceUnavailable, ["status": "stuck", "reason": problem])
            }
            return json(.ok, ["status": "ok"])
        }
        router.get("ready") { _, _ -> Response in
            do {
                // Bounded: a database that does not answer must not make the probe hang (it answers 503 instead).
                try await awaitServing(
                    "PostgreSQL's answer to SELECT 1",
                    timeout: databaseCheckTimeout,
                    { try await SpecTaskRepository(logger: logger).ping(client: postgres) },
                    whileWaiting: {}
                )
            } catch {
                return json(
                    .serviceUnavailable,
                    ["status": "unavailable", "reason": "PostgreSQL: \(String(describing: error))"]
                )
            }
            if let problem = health.readinessProblem() {
                return json(.serviceUnavailable, ["status": "unavailable", "reason": problem])
            }
            return json(.ok, ["status": "ready"])
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

    public static func json(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
