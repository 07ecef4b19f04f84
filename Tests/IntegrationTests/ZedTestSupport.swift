import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import SpecTaskWorker
import TestSupport
import Testing

/// The runner side of a test: what a Zed runner sends and sees, and the stored state it leads to.
extension SystemUnderTest {
    /// Sends a Zed event as a runner does (on `zed.events`, key = spec task id) and returns its id.
    @discardableResult
    func sendZedEvent(
        _ event: ZedEvent,
        task: String,
        token: String?,
        id: String = UUID().uuidString
    ) async throws -> String {
        let bytes = CommandEncoder.encode(
            id: id,
            specTaskID: task,
            source: "integration-tests-runner",
            event: event,
            runnerToken: token
        )
        try await sendRaw(bytes, key: task, topic: topics.zedEvents)
        return id
    }

    /// The `create_instance` command the worker sent for a task (the first, or the one of `instanceID`): the
    /// instance id and its runner token.
    func createdInstance(
        of task: String,
        instanceID: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> CreateZedInstance {
        let message = try await zedCommands.wait(timeout: timeout, "create_instance of \(task)") { message in
            guard message.event.subject == task, message.event.type == "zed.command.create_instance" else {
                return false
            }
            guard let instanceID else { return true }
            if case .createInstance(let create)? = try? EventDecoder.decodeZedCommand(message.raw.value).1 {
                return create.instanceID == instanceID
            }
            return false
        }
        guard case .createInstance(let create) = try EventDecoder.decodeZedCommand(message.raw.value).1 else {
            throw TimedOut(what: "a create_instance command")
        }
        return create
    }

    /// Every Zed command sent for a task, in order.
    func zedCommandsSent(for task: String) -> [ZedCommand] {
        zedCommands.messages.filter { $0.event.subject == task }.compactMap {
            try? EventDecoder.decodeZedCommand($0.raw.value).1
        }
    }

    /// The database the workers of this system use (a private one when the system was started with `POSTGRES_URL`).
    var database: DatabaseConfiguration {
        get throws {
            try ServiceEnvironment.database(ProcessInfo.processInfo.environment.merging(environment) { $1 })
        }
    }

    /// The stored state of a spec task.
    func state(of task: String) async throws -> SpecTaskState {
        let loaded = try await TestEnvironment.withClient(try database) { client in
            try await SpecTaskRepository(logger: TestEnvironment.logger).loadSnapshot([task], client: client)
        }
        return try #require(loaded[task]?.state, "spec task \(task) is not stored")
    }

    /// Polls the stored state until `predicate` holds.
    func waitForState(
        of task: String,
        timeout: Duration = .seconds(60),
        _ what: String,
        _ predicate: (SpecTaskState) -> Bool
    ) async throws -> SpecTaskState {
        let deadline = ContinuousClock.now + timeout
        while true {
            let state = try await state(of: task)
            if predicate(state) { return state }
            guard ContinuousClock.now < deadline else {
                let logs = workerProcesses.map { $0.output.suffix(3000) }.joined(separator: "\n---\n")
                throw TimedOut(what: "waiting for \(what) of \(task); state: \(state)\nworker output:\n\(logs)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The record on `spectask.rejected` of the input with this event id.
    func rejection(of eventID: String, timeout: Duration = .seconds(60)) async throws -> RejectedRecord {
        let message = try await rejected.wait(timeout: timeout, "the rejection of \(eventID)") { message in
            guard case .object(let data) = message.event.data, case .string(let id) = data["eventID"] else {
                return false
            }
            return id == eventID
        }
        return try JSONDecoder().decode(RejectedRecord.self, from: MessageJSONBytes.data(of: message.event))
    }

    /// Every message the workers of this system published so far conforms to the schema of its type.
    ///
    /// - Returns: The message types that were checked.
    @discardableResult
    func expectOutputsConform(sourceLocation: SourceLocation = #_sourceLocation) async throws -> Set<String> {
        let captured = [status, zedCommands, rejected, progress].flatMap(\.messages)
        #expect([status, zedCommands, rejected, progress].map(\.undecodableCount) == [0, 0, 0, 0])
        let result = try await SchemaCheck.run(
            captured.map { (schema: "\($0.event.type).schema.json", message: $0.raw.value) }
        )
        #expect(
            result.status == 0,
            "schema violations or a checker failure: \(result.output) \(result.errors)",
            sourceLocation: sourceLocation
        )
        return Set(captured.map(\.event.type))
    }

    /// Starts the reference Zed runner (`spectask zed-runner`) on this system's topics.
    func startRunner(_ arguments: [String] = []) throws -> WorkerProcessTests.Child {
        try WorkerProcessTests.Child(
            [
                "zed-runner", "--topic-prefix", prefix, "--group-id", TestEnvironment.unique("runner"),
                "--log-level", "debug",
            ] + arguments,
            environment: environment
        )
    }

    /// Drives a new spec task with this plan to implementation and returns it with its instance.
    func implementing(
        plan: String,
        maxConcurrentSessions: Int? = nil
    ) async throws -> (task: String, instance: CreateZedInstance, sessions: [String]) {
        let task = try await WorkflowTests.approvedTask(self, plan: plan, name: "Zed integration")
        let started = try await apply(
            .startImplementation(StartImplementation(maxConcurrentSessions: maxConcurrentSessions)),
            task: task
        )
        return (task, try await createdInstance(of: task), started.created.workSessionIDs)
    }
}

/// The `data` of an envelope as JSON bytes, for decoding a payload struct.
enum MessageJSONBytes {
    static func data(of event: CloudEvent) throws -> Data {
        try JSONEncoder().encode(try #require(event.data))
    }
}
