import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore

/// The read-only HTTP API: the original product's GET endpoints, served from PostgreSQL.
///
/// Every answer is JSON. An id that can not be an id is a 400, an id that names nothing a 404; both with
/// `{"error": "<what is wrong>"}`.
public enum ReadAPI {
    /// The multi-session overview: the spec task, its instance, sessions, threads, implementation tasks, progress and
    /// the paths the threads hold or wait for.
    public struct Overview: Codable, Sendable {
        public var specTask: SpecTask
        public var zedInstance: ZedInstance?
        public var implementationTasks: [ImplementationTask]
        public var workSessions: [WorkSession]
        public var zedThreads: [ZedThread]
        public var progress: ProgressSnapshot
        public var sharedContext: [SharedContextEntry]
        public var pathClaims: [PathClaim]

        public init(_ state: SpecTaskState) {
            specTask = state.task
            zedInstance = state.zedInstance
            implementationTasks = state.implementationTasks
            workSessions = state.workSessions
            zedThreads = state.zedThreads
            progress = ReadAPI.progress(state)
            sharedContext = state.sharedContext
            pathClaims = state.pathClaims
        }
    }

    /// One work session with its thread, implementation task and the sessions it spawned.
    public struct WorkSessionDetail: Codable, Sendable {
        public var workSession: WorkSession
        public var zedThread: ZedThread?
        public var implementationTask: ImplementationTask?
        public var spawnedWorkSessionIDs: [String]
    }

    public static func register(on router: Router<BasicRequestContext>, postgres: PostgresClient, logger: Logger) {
        let repository = SpecTaskRepository(logger: logger)
        let coordinationLog = CoordinationLogStore(logger: logger)
        let api = router.group("api/v1")
        registerList(on: api, postgres: postgres, logger: logger)

        @Sendable func task(_ context: BasicRequestContext) async throws -> SpecTaskState {
            let id = try validID(context.parameters.get("taskId"), "spec task id")
            let loaded = try await repository.loadSnapshot([id], client: postgres)
            guard let stored = loaded[id] else { throw HTTPError(.notFound, message: "spec task \(id) not found") }
            return stored.state
        }

        api.get("spec-tasks/:taskId/multi-session-overview") { _, context in
            try json(Overview(try await task(context)))
        }
        api.get("spec-tasks/:taskId/work-sessions") { _, context in try json(try await task(context).workSessions) }
        api.get("spec-tasks/:taskId/implementation-tasks") { _, context in
            try json(try await task(context).implementationTasks)
        }
        api.get("spec-tasks/:taskId/progress") { _, context in try json(progress(try await task(context))) }
        api.get("spec-tasks/:taskId/zed-threads") { _, context in try json(try await task(context).zedThreads) }
        api.get("spec-tasks/:taskId/zed-instance") { _, context in
            let state = try await task(context)
            guard let instance = state.zedInstance else {
                throw HTTPError(
                    .notFound,
                    message: "spec task \(state.task.id) has no Zed instance (implementation has not started)"
                )
            }
            return try json(instance)
        }
        api.get("spec-tasks/:taskId/shared-context") { _, context in try json(try await task(context).sharedContext) }
        api.get("spec-tasks/:taskId/path-claims") { _, context in try json(try await task(context).pathClaims) }
        api.get("spec-tasks/:taskId/coordination-log") { request, context in
            let state = try await task(context)
            let offset = try integer(request.uri.queryParameters.get("offset"), "offset", in: 0...Int(Int32.max)) ?? 0
            let limit = try integer(request.uri.queryParameters.get("limit"), "limit", in: 1...1000) ?? 1000
            return try json(
                try await coordinationLog.entries(of: state.task.id, offset: offset, limit: limit, client: postgres)
            )
        }
        api.get("work-sessions/:sessionId") { _, context in
            let id = try validID(context.parameters.get("sessionId"), "work session id")
            let state: SpecTaskState? = try await repository.readSnapshot(postgres) { connection in
                guard let taskID = try await repository.specTaskID(ofWorkSession: id, on: connection) else {
                    return nil
                }
                return try await repository.load([taskID], on: connection)[taskID]?.state
            }
            guard let state, let session = state.workSessions.first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, message: "work session \(id) not found")
            }
            return try json(
                WorkSessionDetail(
                    workSession: session,
                    zedThread: state.zedThreads.first { $0.workSessionID == id },
                    implementationTask: session.implementationTaskIndex.flatMap { index in
                        state.implementationTasks.first { $0.index == index }
                    },
                    spawnedWorkSessionIDs: state.workSessions.filter { $0.parentWorkSessionID == id }.map(\.id)
                )
            )
        }
    }

    public static func progress(_ state: SpecTaskState) -> ProgressSnapshot {
        ProgressCalculator.snapshot(
            for: state.task,
            implementationTasks: state.implementationTasks,
            workSessions: state.workSessions,
            zedThreads: state.zedThreads,
            threadProgress: state.threadProgress
        )
    }

    /// Ids are what command subjects may be (`CommandDecoder.subjectProblem`).
    public static func validID(_ value: String?, _ what: String) throws -> String {
        let value = value ?? ""
        if let problem = CommandDecoder.subjectProblem(value) {
            throw HTTPError(.badRequest, message: "'\(value)' is not a valid \(what): \(problem)")
        }
        return value
    }

    /// An optional integer query parameter within `range`.
    static func integer(_ value: String?, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value else { return nil }
        guard let number = Int(value), range.contains(number) else {
            throw HTTPError(
                .badRequest,
                message: "query parameter \(name) is '\(value.prefix(100))'; expected an integer from "
                    + "\(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }

    /// JSON as the read API writes it: sorted keys, RFC 3339 dates.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }()

    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }
}

/// Errors answer with a JSON body, like every other response.
public struct JSONErrorMiddleware: RouterMiddleware {
    public typealias Context = BasicRequestContext

    public init() {}

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return AdminServer.json(error.status, ["error": error.body ?? error.status.reasonPhrase])
        } catch let error as PSQLError {
            context.logger.error("read API: \(String(reflecting: error))")
            return AdminServer.json(.serviceUnavailable, ["error": "the database is unavailable"])
        }
    }
}
