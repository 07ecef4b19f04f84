import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SpecTaskDomain
import SpecTaskStore

extension ReadAPI {
    /// One spec task as a list shows it: what a card on the dashboard's board needs, without the specs' text.
    public struct SpecTaskSummary: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var status: SpecTaskStatus
        public var archived: Bool
        public var overallPercent: Int
        /// Work sessions that are active now.
        public var activeWorkSessions: Int
        public var workSessions: Int
        public var implementationTasks: Int
        public var maxConcurrentSessions: Int?
        public var usage: Usage
        public var budget: Budget?
        public var lastActivityAt: Date?
        public var createdAt: Date
        public var updatedAt: Date

        public init(_ state: SpecTaskState) {
            let progress = ReadAPI.progress(state)
            id = state.task.id
            name = state.task.name
            status = state.task.status
            archived = state.task.archived
            overallPercent = progress.overallPercent
            activeWorkSessions = state.workSessions.count { $0.status == .active }
            workSessions = state.workSessions.count
            implementationTasks = state.implementationTasks.count
            maxConcurrentSessions = state.task.maxConcurrentSessions
            usage = progress.usage
            budget = state.task.budget
            lastActivityAt = progress.lastActivityAt
            createdAt = state.task.createdAt
            updatedAt = state.task.updatedAt
        }
    }

    /// A page of `GET /api/v1/spec-tasks`.
    public struct SpecTaskList: Codable, Sendable {
        public var items: [SpecTaskSummary]
        /// Pass as `cursor` for the next page; absent on the last page.
        public var nextCursor: String?
    }

    /// `GET /api/v1/spec-tasks?status=&q=&limit=&cursor=&archived=`: spec tasks, newest first.
    ///
    /// `status` is a comma-separated list of statuses (repeating the parameter works too), `q` a text the id,
    /// name or description contains (case-insensitive), `limit` 1…200 (default 50), `cursor` the `nextCursor` of
    /// the previous page, `archived=true` includes archived tasks.
    static func registerList(on api: RouterGroup<BasicRequestContext>, postgres: PostgresClient, logger: Logger) {
        let store = SpecTaskListStore(logger: logger)
        api.get("spec-tasks") { request, _ in
            let query = try listQuery(request.uri.queryParameters)
            let page = try await store.page(query, client: postgres)
            return try json(
                SpecTaskList(items: page.tasks.map(SpecTaskSummary.init), nextCursor: page.nextCursor?.token)
            )
        }
    }

    static func listQuery(_ parameters: Parameters) throws -> SpecTaskListStore.Query {
        var statuses: [SpecTaskStatus] = []
        for value in parameters.getAll("status") {
            for name in value.split(separator: ",", omittingEmptySubsequences: true) {
                let name = name.trimmingCharacters(in: .whitespaces)
                guard let status = SpecTaskStatus(rawValue: name) else {
                    throw HTTPError(
                        .badRequest,
                        message: "query parameter status has '\(name.prefix(100))'; expected a comma-separated list of "
                            + SpecTaskStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    )
                }
                if !statuses.contains(status) { statuses.append(status) }
            }
        }
        let text = parameters.get("q")
        if let text, text.count > 200 {
            throw HTTPError(.badRequest, message: "query parameter q is longer than 200 characters")
        }
        let limit = try integer(parameters.get("limit"), "limit", in: 1...200) ?? 50
        var cursor: SpecTaskListStore.Cursor?
        if let token = parameters.get("cursor"), !token.isEmpty {
            guard let parsed = SpecTaskListStore.Cursor(token: token) else {
                throw HTTPError(.badRequest, message: "query parameter cursor is not a cursor this API gave out")
            }
            cursor = parsed
        }
        let archived: Bool
        switch parameters.get("archived") {
        case nil, "false": archived = false
        case "true": archived = true
        case let other?:
            throw HTTPError(
                .badRequest,
                message: "query parameter archived is '\(other.prefix(100))'; expected true or false"
            )
        }
        return SpecTaskListStore.Query(
            statuses: statuses,
            text: text,
            includeArchived: archived,
            limit: limit,
            cursor: cursor
        )
    }
}
