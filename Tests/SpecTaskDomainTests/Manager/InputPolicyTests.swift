import Foundation
import SpecTaskDomain
import Testing

/// The rules about inputs around the decision function (`InputPolicy`), one by one.
@Suite("Input policy")
struct InputPolicyTests {
    static func input(_ command: SpecTaskCommand, id: String = "in-1", task: String = "st-1") -> IncomingCommand {
        IncomingCommand(id: id, specTaskID: task, time: ManagerFixtures.start, command: command)
    }

    static let heartbeat = SpecTaskCommand.zedEvent(.heartbeat(ZedHeartbeat(instanceID: "zi-1", cpuPercent: 3)))
    static let activity = SpecTaskCommand.zedEvent(
        .threadActivity(ZedThreadActivity(instanceID: "zi:2", workSessionID: "ws-1", kind: .codeEdit))
    )
    static let command = SpecTaskCommand.create(CreateSpecTask(name: "a task"))

    @Test("a Zed event's key is scoped to its instance, unambiguously; a command's is its id; a heartbeat has none")
    func idempotencyKeys() {
        #expect(InputPolicy.idempotencyKey(of: Self.input(Self.command)) == "in-1")
        #expect(InputPolicy.idempotencyKey(of: Self.input(Self.activity)) == "zed:4:zi:2:in-1")
        #expect(InputPolicy.idempotencyKey(of: Self.input(Self.heartbeat)) == nil)
        // The instance id's length keeps `zi` + `2:x` and `zi:2` + `x` apart.
        let other = SpecTaskCommand.zedEvent(
            .threadActivity(ZedThreadActivity(instanceID: "zi", workSessionID: "ws-1", kind: .codeEdit))
        )
        #expect(
            InputPolicy.scoped(Self.input(other, id: "2:in-1")).id != InputPolicy.scoped(Self.input(Self.activity)).id
        )
        #expect(InputPolicy.scoped(Self.input(Self.command)) == Self.input(Self.command))
    }

    @Test("commands get an outcome; a runner's Zed events do not")
    func outcomes() {
        #expect(InputPolicy.getsOutcome(Self.input(Self.command)))
        #expect(!InputPolicy.getsOutcome(Self.input(Self.activity)))
        #expect(!InputPolicy.getsOutcome(Self.input(Self.heartbeat)))
    }

    @Test("a malformed command gets an outcome only when its id, spec task and command type could be read")
    func malformedCommands() throws {
        let readable = try #require(
            InputPolicy.outcomeOfMalformedCommand(
                id: "c-1",
                specTaskID: "st-1",
                type: "spectask.command.create",
                reason: "name is missing",
                code: "invalid_payload"
            )
        )
        #expect(readable.specTaskID == "st-1")
        #expect(
            readable.outcome
                == CommandOutcome(
                    commandID: "c-1",
                    commandType: "spectask.command.create",
                    reason: "name is missing",
                    code: "invalid_payload"
                )
        )
        let unreadable: [(String?, String?, String?)] = [
            (nil, "st-1", "spectask.command.create"),
            ("c-1", nil, "spectask.command.create"),
            ("c-1", "st-1", nil),
            ("c-1", "st-1", "zed.event.heartbeat"),
            ("c-1", "st-1", "spectask.command." + String(repeating: "x", count: 200)),
        ]
        for (id, task, type) in unreadable {
            #expect(
                InputPolicy.outcomeOfMalformedCommand(id: id, specTaskID: task, type: type, reason: "r", code: "c")
                    == nil
            )
        }
    }

    @Test("a heartbeat that changed no status and no progress is not news; anything else is")
    func news() {
        let start = ManagerFixtures.start
        var state = SpecTaskState(task: SpecTask(id: "st-1", name: "a task", createdAt: start, updatedAt: start))
        let heartbeat = Self.input(Self.heartbeat)
        #expect(!InputPolicy.isNews(heartbeat, previous: state, new: state, emissions: []))
        var moved = state
        moved.threadProgress = ["ws-1": 40]
        #expect(InputPolicy.isNews(heartbeat, previous: state, new: moved, emissions: []))
        let stop = StopZedInstanceOrder(instanceID: "zi-1", specTaskID: "st-1", reason: "r")
        let change = Emission.zed(.stopInstance(stop))
        #expect(InputPolicy.isNews(heartbeat, previous: state, new: state, emissions: [change]))
        #expect(InputPolicy.isNews(Self.input(Self.activity), previous: state, new: state, emissions: []))
        state.threadProgress = [:]
        #expect(InputPolicy.isNews(Self.input(Self.command), previous: nil, new: state, emissions: []))
    }

    @Test("heartbeats of one instance of one task supersede each other; nothing else does")
    func heartbeatKeys() {
        #expect(InputPolicy.heartbeatKey(of: Self.input(Self.heartbeat)) == "st-1\u{0}zi-1")
        #expect(InputPolicy.heartbeatKey(of: Self.input(Self.heartbeat, task: "st-2")) == "st-2\u{0}zi-1")
        #expect(InputPolicy.heartbeatKey(of: Self.input(Self.activity)) == nil)
        #expect(InputPolicy.heartbeatKey(of: Self.input(Self.command)) == nil)
    }

    @Test("the ids a decision claims are the sessions, threads and instance the state before did not have")
    func claimedIDs() throws {
        let run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks)
        let claimed = InputPolicy.newIDs(previous: nil, new: run.state)
        #expect(Set(claimed.workSessions) == Set(run.state.workSessions.map(\.id)))
        #expect(claimed.zedInstances == [ZedRun.instanceID])
        #expect(claimed.keys.contains("zed_instance:\(ZedRun.instanceID)"))
        #expect(InputPolicy.newIDs(previous: run.state, new: run.state).isEmpty)
        #expect(
            InputPolicy.conflictReason(key: "work_session:ws-9", owner: "st-2")
                == "work session id ws-9 is already used by spec task st-2; choose another id"
        )
    }
}
