import Foundation
import SpecTaskDomain
import SpecTaskStore
import Testing

@testable import SpecTaskWorker

/// `ApplyStep`: what an applied decision amounts to, for the batch applier and the heartbeat sweeper alike.
@Suite("The apply step")
struct ApplyStepTests {
    static let topics = WorkerTopics(prefix: "unit.")
    static let context = DecisionContext(runnerToken: { _ in "token" })

    static func command(_ id: String, _ task: String, _ command: SpecTaskCommand) -> IncomingCommand {
        IncomingCommand(id: id, specTaskID: task, time: Date(timeIntervalSince1970: 1_800_000_000), command: command)
    }

    /// Decides `input` against the step's state and records it, as the batch applier does.
    static func apply(_ input: IncomingCommand, to step: inout ApplyStep) throws {
        guard
            case .applied(let state, let emissions) = SpecTaskManager.decide(
                step.state(of: input.specTaskID),
                input,
                context: context
            )
        else {
            Issue.record("\(input.id) was not applied")
            return
        }
        step.applied(input, state: state, emissions: emissions)
    }

    /// The `spectasksequence` of each message, in order (`nil` for a message without one).
    static func sequences(_ messages: [OutboxMessage]) throws -> [Int64?] {
        try messages.map { message in
            let event = try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
            return (event["spectasksequence"] as? NSNumber)?.int64Value
        }
    }

    @Test("two commands of a new task: its state written once, status events numbered on, one progress snapshot last")
    func newTask() throws {
        var step = ApplyStep(loaded: [:], outputs: OutputBatch(topics: Self.topics, time: Date()))
        step.outputs.beginInput(position: "in.0.1")
        try Self.apply(Self.command("c-1", "t-1", .create(CreateSpecTask(name: "t-1"))), to: &step)
        step.outputs.beginInput(position: "in.0.2")
        try Self.apply(Self.command("c-2", "t-1", .startPlanning(StartPlanning())), to: &step)
        let write = step.finish()

        #expect(write.changes.count == 1)
        #expect(write.changes.first?.previous == nil)
        #expect(write.changes.first?.stored.state.task.status == .specGeneration)
        let statuses = write.outbox.filter { $0.topic == Self.topics.status }
        #expect(statuses.count >= 2)
        #expect(try Self.sequences(statuses) == (1...Int64(statuses.count)).map { $0 })
        #expect(write.outbox.last?.topic == Self.topics.progress, "the progress snapshot comes after the changes")
        #expect(write.outbox.filter { $0.topic == Self.topics.progress }.count == 1)
        #expect(Set(write.outbox.map(\.shard)) == [OutboxShards.shard(of: "t-1")])
    }

    @Test("a rejected command's outcome takes the next sequence number; no progress snapshot, nothing else changes")
    func rejectedOutcome() throws {
        var created = ApplyStep(loaded: [:], outputs: OutputBatch(topics: Self.topics, time: Date()))
        try Self.apply(Self.command("c-1", "t-2", .create(CreateSpecTask(name: "t-2"))), to: &created)
        let loaded = try #require(created.finish().changes.first?.stored)

        var step = ApplyStep(loaded: ["t-2": loaded], outputs: OutputBatch(topics: Self.topics, time: Date()))
        step.commandRejected(
            CommandOutcome(
                commandID: "c-9",
                commandType: "approve_specs",
                reason: "not now",
                code: "illegal_transition"
            ),
            task: "t-2"
        )
        let write = step.finish()

        #expect(write.outbox.map(\.topic) == [Self.topics.status])
        #expect(try Self.sequences(write.outbox) == [loaded.nextSequence])
        #expect(write.changes.map(\.stored.state) == [loaded.state], "only the sequence number moved")
        #expect(write.changes.first?.stored.nextSequence == loaded.nextSequence + 1)
        #expect(write.coordination.isEmpty)
    }
}
