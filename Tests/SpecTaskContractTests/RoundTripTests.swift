import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    /// What the encoders write, the decoders read back unchanged.
    @Suite("Round trips")
    struct RoundTripTests {
        static let appliedAt = Date(timeIntervalSince1970: 1_750_000_000)

        @Test(
            "every command, fully and minimally filled, survives CommandEncoder → CommandDecoder",
            arguments: MessageSamples.commands + MessageSamples.minimalCommands
        )
        func command(_ command: SpecTaskCommand) throws {
            let bytes = CommandEncoder.encode(
                id: "cmd-1",
                specTaskID: "st-9",
                actor: "svc-planner",
                source: "planner",
                command: command,
                time: MessageSamples.time
            )
            let decoded = try CommandDecoder.decode(bytes, appliedAt: Self.appliedAt).get()
            #expect(
                decoded
                    == IncomingCommand(
                        id: "cmd-1",
                        specTaskID: "st-9",
                        actor: "svc-planner",
                        time: Self.appliedAt,
                        command: command
                    )
            )

            let event = try JSONDecoder().decode(CloudEvent.self, from: Data(bytes))
            #expect(event.type == "spectask.command.\(command.name)")
            #expect(event.type == command.type)
            #expect(event.subject == "st-9")
            #expect(event.source == "planner")
            #expect(event.time == "2025-03-01T12:00:00.125000Z")
            #expect(event.date == MessageSamples.time)
            #expect(event.datacontenttype == "application/json")
        }

        @Test(
            "every Zed event, fully and minimally filled, survives CommandEncoder → CommandDecoder with its token",
            arguments: MessageSamples.zedEvents + MessageSamples.minimalZedEvents
        )
        func zedEvent(_ event: ZedEvent) throws {
            let bytes = CommandEncoder.encode(
                id: "zev-1",
                specTaskID: "st-9",
                source: "zed-runner",
                event: event,
                runnerToken: MessageSamples.runnerToken,
                time: MessageSamples.time
            )
            let decoded = try CommandDecoder.decode(bytes, appliedAt: Self.appliedAt, family: .zedEvents).get()
            #expect(
                decoded
                    == IncomingCommand(
                        id: "zev-1",
                        specTaskID: "st-9",
                        time: Self.appliedAt,
                        command: .zedEvent(event),
                        runnerToken: MessageSamples.runnerToken
                    )
            )
            #expect(decoded.command.isZedEvent)
            #expect(decoded.command.isHeartbeat == (event.name == "heartbeat"))
            #expect(decoded.command.name == event.name)

            let cloudEvent = try JSONDecoder().decode(CloudEvent.self, from: Data(bytes))
            #expect(cloudEvent.type == "zed.event.\(event.name)")
            #expect(cloudEvent.type == event.type)
            #expect(cloudEvent.type == decoded.command.type)
            #expect(cloudEvent.subject == "st-9")
            #expect(cloudEvent.source == "zed-runner")
            #expect(cloudEvent.runnertoken == MessageSamples.runnerToken)
            #expect(cloudEvent.actor == nil)
            #expect(cloudEvent.date == MessageSamples.time)
        }

        @Test("a Zed event encoded without a token decodes without one (the worker then refuses it)")
        func zedEventWithoutToken() throws {
            let event = MessageSamples.zedEvents[0]
            let bytes = CommandEncoder.encode(
                id: "zev-2",
                specTaskID: "st-9",
                source: "zed-runner",
                event: event,
                runnerToken: nil
            )
            #expect(!String(decoding: bytes, as: UTF8.self).contains("runnertoken"))
            let decoded = try CommandDecoder.decode(bytes, appliedAt: Self.appliedAt, family: .zedEvents).get()
            #expect(decoded.runnerToken == nil)
            #expect(decoded.command == .zedEvent(event))
        }

        @Test("every status event survives EventEncoder → EventDecoder", arguments: MessageSamples.statusEvents)
        func status(_ status: StatusEvent) throws {
            let bytes = EventEncoder.status(
                status,
                specTaskID: MessageSamples.specTaskID,
                sequence: 42,
                eventID: "out-42",
                time: MessageSamples.later,
                correlationID: "cmd-7"
            )
            let (event, decoded) = try EventDecoder.decode(bytes)
            #expect(decoded == status)
            #expect(event.type == status.type)
            #expect(event.type == "spectask.status.\(status.name)")
            #expect(event.id == "out-42")
            #expect(event.source == EventEncoder.source)
            #expect(event.subject == MessageSamples.specTaskID)
            #expect(event.spectasksequence == 42)
            #expect(event.correlationid == "cmd-7")
            #expect(event.date == MessageSamples.later)
            #expect(event.data != nil)
        }

        @Test("every Zed command survives EventEncoder → EventDecoder", arguments: MessageSamples.zedCommands)
        func zedCommand(_ command: ZedCommand) throws {
            let bytes = EventEncoder.zedCommand(
                command,
                specTaskID: MessageSamples.specTaskID,
                eventID: "z-1",
                time: MessageSamples.time,
                correlationID: nil
            )
            let (event, decoded) = try EventDecoder.decodeZedCommand(bytes)
            #expect(decoded == command)
            #expect(decoded.instanceID == "zed-1")
            #expect(event.type == "zed.command.\(command.name)")
            #expect(event.spectasksequence == nil)
            #expect(event.correlationid == nil)
            #expect(try EventDecoder.decode(bytes).1 == nil)
        }

        @Test("a progress snapshot survives EventEncoder → EventDecoder")
        func progress() throws {
            let bytes = EventEncoder.progress(
                MessageSamples.progress,
                sequence: 7,
                eventID: "p-7",
                time: MessageSamples.later
            )
            let (event, snapshot) = try EventDecoder.decodeProgress(bytes)
            #expect(snapshot == MessageSamples.progress)
            #expect(snapshot.lastActivityAt == MessageSamples.later)
            #expect(event.type == "spectask.progress.snapshot")
            #expect(event.subject == MessageSamples.specTaskID)
            #expect(event.spectasksequence == 7)
        }

        @Test("a rejected-input record survives EventEncoder → EventDecoder, original bytes included")
        func rejected() throws {
            let bytes = EventEncoder.rejected(MessageSamples.rejected, eventID: "r-1", time: MessageSamples.time)
            let (event, record) = try EventDecoder.decodeRejected(bytes)
            #expect(record == MessageSamples.rejected)
            #expect(
                record.original == Array(#"{"specversion":"1.0","id":"e-1","type":"spectask.command.fly"}"#.utf8) + [
                    0xFF, 0x00,
                ]
            )
            #expect(event.type == "spectask.rejected.input")
            #expect(event.subject == MessageSamples.specTaskID)
            #expect(event.correlationid == "e-1")
        }

        @Test("a decoder rejection becomes a rejected-input record with its code, reason, event id and subject")
        func rejectionRecord() throws {
            let original = Array(MessageSamples.commandJSON(data: #"{"nmae":"x"}"#).utf8)
            let rejection = try #require(
                {
                    if case .failure(let rejection) = CommandDecoder.decode(original, appliedAt: Self.appliedAt) {
                        return rejection
                    }
                    return nil
                }()
            )
            let record = RejectedRecord(
                original: original,
                topic: "spectask.commands",
                partition: 0,
                offset: 9,
                key: nil,
                rejection: rejection
            )
            #expect(record.code == "schema_violation")
            #expect(record.reason == rejection.message)
            #expect(record.eventID == "evt-1")
            #expect(record.specTaskID == MessageSamples.specTaskID)
            #expect(record.original == original)
            let (_, decoded) = try EventDecoder.decodeRejected(
                EventEncoder.rejected(record, eventID: "r", time: MessageSamples.time)
            )
            #expect(decoded == record)
        }

        @Test("the event decoder names what is wrong with a message")
        func eventDecoderErrors() throws {
            func code(_ body: () throws -> Void) -> InputRejection.Code? {
                do {
                    try body()
                    return nil
                } catch {
                    return (error as? InputRejection)?.code
                }
            }
            let progress = EventEncoder.progress(
                MessageSamples.progress,
                sequence: 1,
                eventID: "p",
                time: MessageSamples.time
            )
            #expect(code { _ = try EventDecoder.decode(Array("nope".utf8)) } == .malformedJSON)
            #expect(code { _ = try EventDecoder.decode(Array("[]".utf8)) } == .notACloudEvent)
            #expect(code { _ = try EventDecoder.decode(Array(#"{"id":"x"}"#.utf8)) } == .notACloudEvent)
            #expect(code { _ = try EventDecoder.decodeZedCommand(progress) } == .unknownType)
            #expect(code { _ = try EventDecoder.decodeRejected(progress) } == .unknownType)

            let unknownStatus =
                #"{"specversion":"1.0","id":"x","source":"s","type":"spectask.status.exploded","data":{}}"#
            #expect(code { _ = try EventDecoder.decode(Array(unknownStatus.utf8)) } == .unknownType)
            let oldVersion = #"{"specversion":"0.3","id":"x","source":"s","type":"spectask.status.exploded"}"#
            #expect(code { _ = try EventDecoder.decode(Array(oldVersion.utf8)) } == .unsupportedSpecVersion)

            let badData =
                #"{"specversion":"1.0","id":"x","source":"s","type":"spectask.status.shared_context_changed","data":{"value":"v"}}"#
            do {
                _ = try EventDecoder.decode(Array(badData.utf8))
                Issue.record("expected a rejection")
            } catch {
                #expect(error.code == .schemaViolation)
                #expect(
                    error.message == "data does not match spectask.status.shared_context_changed: data.key is missing"
                )
                #expect(error.eventID == "x")
            }
        }

        @Test("the name lists cover every sample, in case order")
        func names() {
            #expect(StatusEvent.names == MessageSamples.statusEvents.map(\.name))
            #expect(ZedCommand.names == MessageSamples.zedCommands.map(\.name))
            #expect(Set(ZedCommand.names).count == 8)
            #expect(ZedEvent.names == MessageSamples.zedEvents.map(\.name))
            #expect(ZedEvent.names == MessageSamples.minimalZedEvents.map(\.name))
            #expect(Set(ZedEvent.names).count == 16)
            #expect(SpecTaskCommand.names == MessageSamples.minimalCommands.map(\.name))
        }
    }
}
