import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    /// `CommandDecoder` on `zed.events`: the runner's events, each with its `runnertoken`.
    @Suite("CommandDecoder: Zed events")
    struct ZedEventDecoderTests {
        static let appliedAt = Date(timeIntervalSince1970: 1_750_000_000)

        static func decode(
            _ text: String,
            family: CommandDecoder.InputFamily = .zedEvents
        ) -> Result<IncomingCommand, InputRejection> {
            CommandDecoder.decode(Array(text.utf8), appliedAt: appliedAt, family: family)
        }

        /// The rejection of `text`, failing the test when it was accepted.
        static func rejection(
            _ text: String,
            family: CommandDecoder.InputFamily = .zedEvents,
            sourceLocation: SourceLocation = #_sourceLocation
        ) -> InputRejection? {
            switch decode(text, family: family) {
            case .success(let command):
                Issue.record("expected a rejection, got \(command)", sourceLocation: sourceLocation)
                return nil
            case .failure(let rejection):
                return rejection
            }
        }

        // MARK: - Accepted

        @Test("accepts a valid example of every Zed event, keeping its token", arguments: MessageSamples.zedEvents)
        func acceptsEveryEvent(_ event: ZedEvent) throws {
            let bytes = CommandEncoder.encode(
                id: "zev-\(event.name)",
                specTaskID: MessageSamples.specTaskID,
                source: "zed-runner",
                event: event,
                runnerToken: MessageSamples.runnerToken,
                time: MessageSamples.time
            )
            let decoded = try CommandDecoder.decode(bytes, appliedAt: Self.appliedAt, family: .zedEvents).get()
            #expect(decoded.id == "zev-\(event.name)")
            #expect(decoded.specTaskID == MessageSamples.specTaskID)
            #expect(decoded.actor == nil)
            #expect(decoded.time == Self.appliedAt)
            #expect(decoded.runnerToken == MessageSamples.runnerToken)
            #expect(decoded.command == .zedEvent(event))
            if case .zedEvent(let decodedEvent) = decoded.command {
                #expect(decodedEvent.instanceID == "zed-1")
            }
        }

        @Test("accepts hand-written JSON: nulls for optional members, inside thread items too")
        func acceptsHandWritten() throws {
            let heartbeat = try Self.decode(
                MessageSamples.zedEventJSON(
                    data: #"""
                        {"instanceID":"zed-1","cpuPercent":null,"memoryMB":2048.0,"uptimeSeconds":0,
                         "threads":[{"workSessionID":"ws-1","status":"active","progress":null},
                                    {"workSessionID":"ws-2","status":"failed","progress":100}]}
                        """#
                )
            ).get()
            #expect(
                heartbeat.command
                    == .zedEvent(
                        .heartbeat(
                            ZedHeartbeat(
                                instanceID: "zed-1",
                                memoryMB: 2048,
                                uptimeSeconds: 0,
                                threads: [
                                    ZedHeartbeat.Thread(workSessionID: "ws-1", status: .active),
                                    ZedHeartbeat.Thread(workSessionID: "ws-2", status: .failed, progress: 100),
                                ]
                            )
                        )
                    )
            )
            #expect(heartbeat.runnerToken == MessageSamples.runnerToken)

            let empty = try Self.decode(MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","threads":[]}"#))
                .get()
            #expect(empty.command == .zedEvent(.heartbeat(ZedHeartbeat(instanceID: "zed-1", threads: []))))

            let broadcast = try Self.decode(
                MessageSamples.zedEventJSON(
                    type: "zed.event.coordination_message",
                    data: #"""
                        {"instanceID":"zed-1","fromWorkSessionID":"ws-1","toWorkSessionID":null,"kind":"broadcast",
                         "message":"schema merged","replyTo":null}
                        """#
                )
            ).get()
            #expect(
                broadcast.command
                    == .zedEvent(
                        .coordinationMessage(
                            ZedCoordinationMessage(
                                instanceID: "zed-1",
                                fromWorkSessionID: "ws-1",
                                kind: .broadcast,
                                message: "schema merged"
                            )
                        )
                    )
            )

            let activity = try Self.decode(
                MessageSamples.zedEventJSON(
                    type: "zed.event.thread_activity",
                    data:
                        #"{"instanceID":"zed-1","workSessionID":"ws-1","kind":"git_commit","costMicros":1000000000000}"#
                )
            ).get()
            #expect(
                activity.command
                    == .zedEvent(
                        .threadActivity(
                            ZedThreadActivity(
                                instanceID: "zed-1",
                                workSessionID: "ws-1",
                                kind: .gitCommit,
                                costMicros: 1_000_000_000_000
                            )
                        )
                    )
            )
        }

        @Test("a token of 500 characters is accepted; a missing or null one is left for the worker to refuse")
        func tokenPresence() throws {
            let longest = String(repeating: "t", count: 500)
            let long = try Self.decode(MessageSamples.zedEventJSON(runnerToken: #""\#(longest)""#)).get()
            #expect(long.runnerToken == longest)

            let missing = try Self.decode(MessageSamples.zedEventJSON(runnerToken: nil)).get()
            #expect(missing.runnerToken == nil)
            let null = try Self.decode(MessageSamples.zedEventJSON(runnerToken: "null")).get()
            #expect(null.runnerToken == nil)
        }

        @Test("every Zed event is known to the decoder, with the documented names and type prefix")
        func names() {
            #expect(ZedEvent.names == MessageSamples.zedEvents.map(\.name))
            #expect(Set(ZedEvent.names).count == 16)
            #expect(ZedEvent.typePrefix == "zed.event.")
            for name in ZedEvent.names {
                #expect(SpecTaskCommand.payloadFields(type: ZedEvent.typePrefix + name) != nil, "\(name)")
                #expect(SpecTaskCommand.payloadFields(type: SpecTaskCommand.typePrefix + name) == nil, "\(name)")
                #expect(!SpecTaskCommand.names.contains(name), "\(name)")
            }
            #expect(SpecTaskCommand.payloadFields(type: "zed.event.fly") == nil)
            for event in MessageSamples.zedEvents {
                #expect(event.type == ZedEvent.typePrefix + event.name)
                #expect(SpecTaskCommand.zedEvent(event).type == event.type)
            }
        }

        // MARK: - The wrong topic

        @Test("a zed.event type on the command topic is an unknown command type")
        func zedEventOnTheCommandTopic() throws {
            let rejection = try #require(Self.rejection(MessageSamples.zedEventJSON(), family: .commands))
            #expect(rejection.code == .unknownType)
            #expect(rejection.message.hasPrefix("unknown command type 'zed.event.heartbeat'; known: "))
            #expect(!rejection.message.contains("zed.event.instance_ready"))
            #expect(rejection.eventID == "evt-1")
            #expect(rejection.subject == MessageSamples.specTaskID)

            // Also when encoded the usual way: the Zed event encoder does not make a command of it.
            let bytes = CommandEncoder.encode(
                id: "zev-1",
                specTaskID: MessageSamples.specTaskID,
                source: "zed-runner",
                event: MessageSamples.zedEvents[0],
                runnerToken: MessageSamples.runnerToken
            )
            let encoded = try #require(CommandDecoder.decode(bytes, appliedAt: Self.appliedAt).failureValue)
            #expect(encoded.code == .unknownType)
        }

        @Test("a spectask.command type on the Zed event topic is an unknown Zed event type")
        func commandOnTheZedTopic() throws {
            let rejection = try #require(Self.rejection(MessageSamples.commandJSON()))
            #expect(rejection.code == .unknownType)
            #expect(
                rejection.message
                    == "unknown Zed event type 'spectask.command.create'; known: "
                    + ZedEvent.names.sorted().map { "zed.event.\($0)" }.joined(separator: ", ")
            )
            #expect(rejection.eventID == "evt-1")

            let unknown = try #require(Self.rejection(MessageSamples.zedEventJSON(type: "zed.event.fly")))
            #expect(unknown.code == .unknownType)
            #expect(unknown.message.hasPrefix("unknown Zed event type 'zed.event.fly'; known: zed.event.coordination_"))

            let zedCommand = try #require(Self.rejection(MessageSamples.zedEventJSON(type: "zed.command.stop_thread")))
            #expect(zedCommand.code == .unknownType)
        }

        // MARK: - Malformed

        /// A heartbeat whose `data` has `threads` set to the given JSON text.
        static func heartbeat(threads: String) -> String {
            MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","threads":\#(threads)}"#)
        }

        static func activity(_ members: String) -> String {
            MessageSamples.zedEventJSON(
                type: "zed.event.thread_activity",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","kind":"other"\#(members)}"#
            )
        }

        static let threadCount = (0...1000).map { _ in #"{"workSessionID":"w","status":"active"}"# }

        /// Malformed events, with the exact message each must be rejected with (all `schema_violation`).
        static let malformedCases: [(String, String, String)] = [
            ("threads not an array", heartbeat(threads: "{}"), "data.threads must be an array of objects, got object"),
            (
                "threads a string", heartbeat(threads: #""ws-1""#),
                "data.threads must be an array of objects, got string"
            ),
            (
                "a thread not an object", heartbeat(threads: #"["ws-1"]"#),
                "data.threads[0] must be an object, got string"
            ),
            (
                "the second thread null",
                heartbeat(threads: #"[{"workSessionID":"ws-1","status":"active"},null]"#),
                "data.threads[1] must be an object, got null"
            ),
            (
                "a thread with an unknown member",
                heartbeat(threads: #"[{"workSessionID":"ws-1","status":"active","cpu":1}]"#),
                "data.threads[0] has unknown member 'cpu'; it accepts workSessionID, status, progress"
            ),
            (
                "a thread without workSessionID",
                heartbeat(threads: #"[{"status":"active"}]"#),
                "data.threads[0].workSessionID is missing"
            ),
            (
                "a thread with a null workSessionID",
                heartbeat(threads: #"[{"workSessionID":null,"status":"active"}]"#),
                "data.threads[0].workSessionID must be a string, got null"
            ),
            (
                "a thread with an empty workSessionID",
                heartbeat(threads: #"[{"workSessionID":"","status":"active"}]"#),
                "data.threads[0].workSessionID must not be empty"
            ),
            (
                "a thread with an unknown status",
                heartbeat(threads: #"[{"workSessionID":"ws-1","status":"running"}]"#),
                "data.threads[0].status must be one of pending, active, disconnected, completed, failed; got 'running'"
            ),
            (
                "a thread at progress 101",
                heartbeat(threads: #"[{"workSessionID":"ws-1","status":"active","progress":101}]"#),
                "data.threads[0].progress must be between 0 and 100, got 101"
            ),
            (
                "too many threads",
                heartbeat(threads: "[\(threadCount.joined(separator: ","))]"),
                "data.threads must have at most 1000 items, got 1001"
            ),
            (
                "a heartbeat without instanceID",
                MessageSamples.zedEventJSON(data: #"{"cpuPercent":5}"#),
                "data.instanceID is missing; zed.event.heartbeat requires it"
            ),
            (
                "a heartbeat without data",
                MessageSamples.zedEventJSON(data: "null"),
                "data is missing; zed.event.heartbeat requires instanceID"
            ),
            (
                "a negative memoryMB",
                MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","memoryMB":-1}"#),
                "data.memoryMB must be between 0 and 100000000, got -1"
            ),
            ("progress 101", activity(#","progress":101"#), "data.progress must be between 0 and 100, got 101"),
            (
                "negative tokensIn", activity(#","tokensIn":-5"#),
                "data.tokensIn must be between 0 and 1000000000000, got -5"
            ),
            (
                "fractional costMicros", activity(#","costMicros":0.5"#),
                "data.costMicros must be an integer, got number 0.5"
            ),
            (
                "costMicros over a trillion", activity(#","costMicros":1000000000001"#),
                "data.costMicros must be between 0 and 1000000000000, got 1000000000001"
            ),
            (
                "unknown activity kind",
                MessageSamples.zedEventJSON(
                    type: "zed.event.thread_activity",
                    data: #"{"instanceID":"zed-1","workSessionID":"ws-1","kind":"refactor"}"#
                ),
                "data.kind must be one of code_edit, file_create, test_run, git_commit, message, other; got 'refactor'"
            ),
            (
                "an unknown member of an activity", activity(#","files":2"#),
                "data has unknown member 'files'; zed.event.thread_activity accepts instanceID, workSessionID, kind, "
                    + "summary, filesChanged"
            ),
            (
                "coordination kind not in the enum",
                MessageSamples.zedEventJSON(
                    type: "zed.event.coordination_message",
                    data: #"{"instanceID":"zed-1","fromWorkSessionID":"ws-1","kind":"gossip","message":"hi"}"#
                ),
                "data.kind must be one of handoff, blocking, notification, request, response, broadcast; got 'gossip'"
            ),
            (
                "a coordination message without a message",
                MessageSamples.zedEventJSON(
                    type: "zed.event.coordination_message",
                    data: #"{"instanceID":"zed-1","fromWorkSessionID":"ws-1","kind":"request"}"#
                ),
                "data.message is missing; zed.event.coordination_message requires it"
            ),
            (
                "instance_error without error",
                MessageSamples.zedEventJSON(type: "zed.event.instance_error", data: #"{"instanceID":"zed-1"}"#),
                "data.error is missing; zed.event.instance_error requires it"
            ),
            (
                "a NUL inside a thread item",
                heartbeat(threads: #"[{"workSessionID":"w\u0000","status":"active"}]"#),
                #"data.threads[0].workSessionID contains a NUL character (\u0000), which can not be stored"#
            ),
            (
                "runnertoken a number", MessageSamples.zedEventJSON(runnerToken: "42"),
                "attribute 'runnertoken' must be a string, got number"
            ),
            (
                "runnertoken an object", MessageSamples.zedEventJSON(runnerToken: #"{"t":1}"#),
                "attribute 'runnertoken' must be a string, got object"
            ),
            (
                "runnertoken over 500 characters",
                MessageSamples.zedEventJSON(runnerToken: #""\#(String(repeating: "é", count: 501))""#),
                "attribute 'runnertoken' must be at most 500 characters long, got 501"
            ),
            (
                "runnertoken empty", MessageSamples.zedEventJSON(runnerToken: #""""#),
                "attribute 'runnertoken' must not be empty"
            ),
        ]

        @Test("rejects malformed Zed events as schema_violation naming the path", arguments: malformedCases)
        func malformed(_ name: String, _ text: String, _ message: String) throws {
            let rejection = try #require(Self.rejection(text), "\(name)")
            #expect(rejection.code == .schemaViolation, "\(name)")
            #expect(rejection.message.hasPrefix(message), "\(name): \(rejection.message)")
            #expect(rejection.eventID == "evt-1", "\(name)")
            #expect(rejection.subject == MessageSamples.specTaskID, "\(name)")
        }

        @Test("a Zed event without a subject is invalid_subject, like a command")
        func missingSubject() throws {
            let text = MessageSamples.zedEventJSON().replacingOccurrences(
                of: #","subject":"\#(MessageSamples.specTaskID)""#,
                with: ""
            )
            let rejection = try #require(Self.rejection(text))
            #expect(rejection.code == .invalidSubject)
        }
    }
}

extension Result {
    /// The error, or `nil` on success.
    fileprivate var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
