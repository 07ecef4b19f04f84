import Foundation
import SpecTaskDomain
import Testing

/// coordination_message: a thread's message to another thread, or to all of them, recorded in the spec task's
/// coordination log and delivered to the threads that run.
@Suite("SpecTaskManager: coordination between threads")
struct ManagerCoordinationTests {
    private static let instanceID = ZedRun.instanceID
    private static func session(_ task: Int) -> String { ZedRun.session(task) }
    private static func thread(_ task: Int) -> String { ZedRun.thread(task) }

    /// Five independent tasks with a limit of 3: sessions 1 and 2 run with active threads, 3 completed, 4 runs
    /// with a thread that has not reported yet, 5 waits.
    private static func team() throws -> ZedRun {
        var run = try ZedRun.implementing(plan: ManagerFixtures.fiveIndependentTasks, maxConcurrentSessions: 3)
        try run.ready()
        for index in 1...3 {
            try run.threadCreated(session(index), externalID: "zed-\(index)")
        }
        try run.threadCompleted(session(3))
        #expect(run.state.zedThreads.map(\.status) == [.active, .active, .completed, .pending, .pending])
        #expect(run.state.workSessions.map(\.status) == [.active, .active, .completed, .active, .pending])
        return run
    }

    private static func message(
        from: Int,
        to: Int? = nil,
        kind: CoordinationKind,
        _ text: String,
        replyTo: String? = nil
    ) -> ZedEvent {
        .coordinationMessage(
            ZedCoordinationMessage(
                instanceID: instanceID,
                fromWorkSessionID: session(from),
                toWorkSessionID: to.map(session),
                kind: kind,
                message: text,
                replyTo: replyTo
            )
        )
    }

    private static func delivery(
        of entry: CoordinationEntry,
        to task: Int,
        replyTo: String? = nil
    ) -> DeliverCoordinationMessage {
        DeliverCoordinationMessage(
            instanceID: instanceID,
            specTaskID: "st-1",
            messageID: entry.id,
            workSessionID: session(task),
            threadID: thread(task),
            fromWorkSessionID: entry.fromWorkSessionID,
            kind: entry.kind,
            message: entry.message,
            isBroadcast: entry.isBroadcast,
            replyTo: replyTo
        )
    }

    /// The state before, but for the instance's heartbeat time: every runner report is a sign of life.
    private static func unchanged(_ before: SpecTaskState, _ run: ZedRun) -> Bool {
        var expected = before
        expected.zedInstance?.lastHeartbeatAt = run.now
        return run.state == expected
    }

    @Test("a directed message is recorded once and delivered to its receiver's thread; a reply carries replyTo")
    func directed() throws {
        var run = try Self.team()
        let before = run.state
        let emissions = try run.send(Self.message(from: 1, to: 2, kind: .request, "Which table holds sessions?"))
        let entry = CoordinationEntry(
            id: "cm-\(run.lastCommandID)-1",
            specTaskID: "st-1",
            fromWorkSessionID: Self.session(1),
            toWorkSessionID: Self.session(2),
            kind: .request,
            message: "Which table holds sessions?",
            createdAt: run.now
        )
        #expect(emissions == [.coordination(entry), .zed(.deliverMessage(Self.delivery(of: entry, to: 2)))])
        #expect(!entry.isBroadcast)
        #expect(Self.unchanged(before, run), "the log is kept by the store, not in the state")

        let reply = try run.send(
            Self.message(from: 2, to: 1, kind: .response, "user_sessions", replyTo: entry.id)
        )
        let answer = try #require(reply.coordinationLog.first)
        #expect(reply.coordinationLog.count == 1)
        #expect(answer.replyTo == entry.id && answer.toWorkSessionID == Self.session(1) && answer.kind == .response)
        #expect(reply.deliveries == [Self.delivery(of: answer, to: 1, replyTo: entry.id)])
        #expect(reply.count == 2)
    }

    @Test("a receiver whose thread does not run gets the message from the log only")
    func receiverNotRunning() throws {
        var run = try Self.team()
        let toWaiting = try run.send(Self.message(from: 1, to: 5, kind: .handoff, "Take the help page"))
        #expect(toWaiting.coordinationLog.map(\.toWorkSessionID) == [Self.session(5)])
        #expect(toWaiting.deliveries.isEmpty && toWaiting.count == 1)

        let toFinished = try run.send(Self.message(from: 1, to: 3, kind: .notification, "Thanks"))
        #expect(toFinished.coordinationLog.count == 1 && toFinished.deliveries.isEmpty)

        let toStarting = try run.send(Self.message(from: 1, to: 4, kind: .blocking, "Wait for my migration"))
        let entry = try #require(toStarting.coordinationLog.first)
        #expect(toStarting.deliveries == [Self.delivery(of: entry, to: 4)], "a started thread gets it, reported or not")
    }

    @Test("a broadcast reaches every other running thread of the task, not the sender")
    func broadcast() throws {
        var run = try Self.team()
        let emissions = try run.send(Self.message(from: 1, kind: .broadcast, "Schema is merged"))
        let entry = CoordinationEntry(
            id: "cm-\(run.lastCommandID)-1",
            specTaskID: "st-1",
            fromWorkSessionID: Self.session(1),
            toWorkSessionID: nil,
            kind: .broadcast,
            message: "Schema is merged",
            createdAt: run.now
        )
        #expect(entry.isBroadcast)
        #expect(
            emissions == [
                .coordination(entry),
                .zed(.deliverMessage(Self.delivery(of: entry, to: 2))),
                .zed(.deliverMessage(Self.delivery(of: entry, to: 4))),
            ]
        )

        // Without a receiver any kind goes to all; the message id is the same for every receiver.
        let notification = try run.send(Self.message(from: 4, kind: .notification, "Heads up", replyTo: entry.id))
        let second = try #require(notification.coordinationLog.first)
        #expect(second.isBroadcast && second.replyTo == entry.id)
        #expect(notification.deliveries.map(\.workSessionID) == [Self.session(1), Self.session(2)])
        #expect(notification.deliveries.allSatisfy { $0.messageID == second.id && $0.isBroadcast })
        #expect(notification.deliveries.allSatisfy { $0.replyTo == entry.id })
    }

    @Test("a broadcast with a receiver, a message to oneself and an unknown receiver are rejected")
    func invalid() throws {
        var run = try Self.team()
        let before = run.state
        let broadcastTo = try run.reject(Self.message(from: 1, to: 2, kind: .broadcast, "hi"))
        #expect(
            broadcastTo
                == Rejection(
                    .invalidArgument,
                    "a broadcast goes to every work session of the task; leave out toWorkSessionID (it is ws-cmd-5-2)"
                )
        )
        let toSelf = try run.reject(Self.message(from: 1, to: 1, kind: .notification, "note to self"))
        #expect(
            toSelf
                == Rejection(.invalidArgument, "work session ws-cmd-5-1 can not send a coordination message to itself")
        )
        let unknown = try run.reject(
            .coordinationMessage(
                ZedCoordinationMessage(
                    instanceID: Self.instanceID,
                    fromWorkSessionID: Self.session(1),
                    toWorkSessionID: "ws-nobody",
                    kind: .request,
                    message: "hello?"
                )
            )
        )
        #expect(unknown == Rejection(.unknownWorkSession, "work session ws-nobody does not exist in spec task st-1"))
        #expect(run.state == before)
    }

    @Test("a session that has not started has no thread to send from")
    func senderNotStarted() throws {
        let run = try Self.team()
        let incoming = run.incoming(Self.message(from: 5, to: 1, kind: .notification, "I am not running").asCommand)
        let decision = SpecTaskManager.decide(run.state, incoming, context: run.context)
        // A session that has not started has no thread in Zed, so nothing there can speak for it.
        guard case .rejected(let rejection) = decision else {
            Issue.record("a message from pending work session ws-cmd-5-5 was applied: \(decision)")
            return
        }
        #expect(rejection.code == .illegalTransition)
        #expect(rejection.message.contains("has not started"))
    }

    @Test("a session whose thread completed, failed or was cancelled can not send: sender_closed, nothing recorded")
    func senderClosed() throws {
        var run = try Self.team()
        // Session 3 completed in the team; session 1's thread fails now; session 2 is cancelled by the owner.
        _ = try run.send(
            .threadFailed(ZedThreadFailed(instanceID: Self.instanceID, workSessionID: Self.session(1), reason: "crash"))
        )
        _ = try run.apply(
            .updateWorkSessionStatus(UpdateWorkSessionStatus(workSessionID: Self.session(2), status: .cancelled))
        )
        let before = run.state
        for (from, closed) in [(3, "completed"), (1, "failed"), (2, "cancelled")] {
            for target in [4, nil] {
                let rejection = try run.reject(Self.message(from: from, to: target, kind: .notification, "late news"))
                #expect(rejection.code == .senderClosed)
                #expect(rejection.code.rawValue == "sender_closed")
                #expect(rejection.message.hasPrefix("work session \(Self.session(from)) "), "\(rejection.message)")
                #expect(rejection.message.contains(closed), "\(rejection.message)")
                #expect(rejection.message.hasSuffix("only a running session's thread can send a coordination message"))
            }
        }
        #expect(run.state == before)
        // A running session's thread still can.
        let emissions = try run.send(Self.message(from: 4, to: 5, kind: .notification, "still here"))
        #expect(emissions.contains { if case .coordination = $0 { true } else { false } })
    }
}

extension ZedEvent {
    fileprivate var asCommand: SpecTaskCommand { .zedEvent(self) }
}
