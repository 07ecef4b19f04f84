import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    @Suite("CommandDecoder")
    struct CommandDecoderTests {
        static let appliedAt = Date(timeIntervalSince1970: 1_750_000_000)

        static func decode(_ text: String) -> Result<IncomingCommand, InputRejection> {
            CommandDecoder.decode(Array(text.utf8), appliedAt: appliedAt)
        }

        /// The rejection of `text`, failing the test when it was accepted.
        static func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> InputRejection? {
            switch decode(text) {
            case .success(let command):
                Issue.record("expected a rejection, got \(command)", sourceLocation: sourceLocation)
                return nil
            case .failure(let rejection):
                return rejection
            }
        }

        // MARK: - Accepted

        @Test("accepts a valid example of every command", arguments: MessageSamples.commands)
        func acceptsEveryCommand(_ command: SpecTaskCommand) throws {
            let bytes = CommandEncoder.encode(
                id: "evt-\(command.name)",
                specTaskID: MessageSamples.specTaskID,
                actor: "alice",
                source: "tests",
                command: command,
                time: MessageSamples.time
            )
            let decoded = try CommandDecoder.decode(bytes, appliedAt: Self.appliedAt).get()
            #expect(decoded.id == "evt-\(command.name)")
            #expect(decoded.specTaskID == MessageSamples.specTaskID)
            #expect(decoded.actor == "alice")
            #expect(decoded.time == Self.appliedAt)
            #expect(decoded.command == command)
        }

        @Test("accepts hand-written JSON: nulls for optional members, absent data where nothing is required")
        func acceptsHandWritten() throws {
            let create = try Self.decode(
                MessageSamples.commandJSON(data: #"{"name":"Auth","description":null,"maxConcurrentSessions":2.0}"#)
            ).get()
            #expect(create.command == .create(CreateSpecTask(name: "Auth", maxConcurrentSessions: 2)))
            #expect(create.actor == nil)

            let planning = try Self.decode(
                #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.start_planning","subject":"st-1"}"#
            ).get()
            #expect(planning.command == .startPlanning(StartPlanning()))

            let clear = try Self.decode(
                MessageSamples.commandJSON(type: "spectask.command.set_concurrency_limit", data: "null")
            ).get()
            #expect(clear.command == .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: nil)))

            let withExtensions = try Self.decode(
                #"""
                {"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel","subject":"a.B_c:d-9",
                 "time":"2025-03-01T13:00:00.5+01:00","datacontenttype":"application/json; charset=utf-8",
                 "traceparent":"00-abc-01","priority":3,"actor":"ops"}
                """#
            ).get()
            #expect(withExtensions.command == .cancel(CancelSpecTask()))
            #expect(withExtensions.specTaskID == "a.B_c:d-9")
            #expect(withExtensions.actor == "ops")
        }

        @Test("every command type is known to the decoder, with the documented names")
        func names() {
            #expect(SpecTaskCommand.names == MessageSamples.commands.map(\.name))
            #expect(Set(SpecTaskCommand.names).count == 18)
            for name in SpecTaskCommand.names {
                #expect(SpecTaskCommand.payloadFields(name: name) != nil)
                #expect(SpecTaskCommand.payloadFields(type: SpecTaskCommand.typePrefix + name) != nil)
            }
            #expect(SpecTaskCommand.payloadFields(name: "fly") == nil)
            #expect(SpecTaskCommand.payloadFields(type: "spectask.command.fly") == nil)
            // A Zed event is not a command: it has no command name, only its whole type.
            #expect(SpecTaskCommand.payloadFields(name: "heartbeat") == nil)
            #expect(SpecTaskCommand.payloadFields(type: "spectask.command.heartbeat") == nil)
            #expect(SpecTaskCommand.payloadFields(type: "zed.event.heartbeat") != nil)
        }

        // MARK: - Envelope

        static let envelopeCases: [(String, String, InputRejection.Code, String)] = [
            (
                "not JSON", "hello", .malformedJSON,
                "message is not valid JSON: unexpected 'h' at byte 0; expected a JSON value"
            ),
            ("empty", "", .malformedJSON, "the message is empty"),
            (
                "trailing garbage", MessageSamples.commandJSON() + " x", .malformedJSON,
                "unexpected 'x' after the JSON value"
            ),
            ("trailing comma", #"{"id":"e",}"#, .malformedJSON, "expected a member name in double quotes, found '}'"),
            ("duplicate member", #"{"id":"a","id":"b"}"#, .malformedJSON, "duplicate member 'id' at byte 10"),
            ("JSON array", "[1,2]", .notACloudEvent, "message is a JSON array, not a CloudEvent (a JSON object)"),
            ("JSON string", #""hi""#, .notACloudEvent, "message is a JSON string"),
            (
                "missing id", #"{"specversion":"1.0","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#,
                .notACloudEvent, "missing required attribute 'id'"
            ),
            (
                "null id", #"{"specversion":"1.0","id":null,"source":"s","type":"t","subject":"st-1"}"#,
                .notACloudEvent, "missing required attribute 'id'"
            ),
            (
                "numeric id", #"{"specversion":"1.0","id":7,"source":"s","type":"t","subject":"st-1"}"#,
                .notACloudEvent, "attribute 'id' must be a string, got number"
            ),
            (
                "empty id", #"{"specversion":"1.0","id":"","source":"s","type":"t","subject":"st-1"}"#,
                .notACloudEvent, "attribute 'id' must not be empty"
            ),
            (
                "missing source", #"{"specversion":"1.0","id":"e","type":"spectask.command.cancel","subject":"st-1"}"#,
                .notACloudEvent, "missing required attribute 'source'"
            ),
            (
                "missing type", #"{"specversion":"1.0","id":"e","source":"s","subject":"st-1"}"#,
                .notACloudEvent, "missing required attribute 'type'"
            ),
            (
                "missing specversion", #"{"id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#,
                .notACloudEvent, "missing required attribute 'specversion'"
            ),
            (
                "specversion 0.3",
                #"{"specversion":"0.3","id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#,
                .unsupportedSpecVersion, "specversion '0.3' is not supported; only '1.0' is"
            ),
            (
                "specversion as a number",
                #"{"specversion":1.0,"id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#,
                .notACloudEvent, "attribute 'specversion' must be a string, got number"
            ),
            (
                "unknown command type", MessageSamples.commandJSON(type: "spectask.command.fly"), .unknownType,
                "unknown command type 'spectask.command.fly'; known: spectask.command.approve_implementation, "
                    + "spectask.command.approve_specs, spectask.command.archive, spectask.command.cancel, "
                    + "spectask.command.create"
            ),
            (
                "a status type on the command topic",
                MessageSamples.commandJSON(type: "spectask.status.command_applied"),
                .unknownType, "unknown command type 'spectask.status.command_applied'"
            ),
            (
                "id over 200 characters",
                #"{"specversion":"1.0","id":"\#(String(repeating: "e", count: 201))","source":"s","type":"t"}"#,
                .schemaViolation, "attribute 'id' must be at most 200 characters long, got 201"
            ),
            (
                "time not RFC 3339",
                MessageSamples.commandJSON().replacingOccurrences(
                    of: #""source""#,
                    with: #""time":"yesterday","source""#
                ),
                .schemaViolation,
                "attribute 'time' must be an RFC 3339 timestamp such as 2025-03-01T12:00:00Z, got 'yesterday'"
            ),
            (
                "data content type not JSON",
                MessageSamples.commandJSON().replacingOccurrences(
                    of: #""source""#,
                    with: #""datacontenttype":"text/plain","source""#
                ), .schemaViolation, "attribute 'datacontenttype' must be application/json, got 'text/plain'"
            ),
            (
                "binary data",
                MessageSamples.commandJSON().replacingOccurrences(
                    of: #""source""#,
                    with: #""data_base64":"AA==","source""#
                ),
                .schemaViolation, "attribute 'data_base64' is not supported: send data as a JSON object"
            ),
            (
                "invalid extension name",
                MessageSamples.commandJSON().replacingOccurrences(of: #""source""#, with: #""Trace-Id":"x","source""#),
                .schemaViolation, "attribute 'Trace-Id' is not a CloudEvents attribute name"
            ),
            (
                "extension holding an object",
                MessageSamples.commandJSON().replacingOccurrences(of: #""source""#, with: #""trace":{"a":1},"source""#),
                .schemaViolation, "extension attribute 'trace' must be a string, number or boolean, got object"
            ),
            (
                "actor of the wrong type",
                MessageSamples.commandJSON().replacingOccurrences(of: #""source""#, with: #""actor":["a"],"source""#),
                .schemaViolation, "attribute 'actor' must be a string, got array"
            ),
        ]

        @Test("rejects bad envelopes with the right code and a message naming the problem", arguments: envelopeCases)
        func envelope(_ name: String, _ text: String, _ code: InputRejection.Code, _ message: String) throws {
            let rejection = try #require(Self.rejection(text))
            #expect(rejection.code == code, "\(name)")
            #expect(rejection.message.contains(message), "\(name): \(rejection.message)")
        }

        // MARK: - Subject

        static let subjectCases: [(String, String)] = [
            ("", "subject must not be empty"),
            ("st 1", "subject 'st 1' contains ' ' at position 3; only ASCII letters, digits, '.', '_', ':' and '-'"),
            (String(repeating: "a", count: 129), "subject must be at most 128 characters long, got 129"),
            ("tâche-1", "subject 'tâche-1' contains 'â' at position 2"),
            ("st/1", "contains '/' at position 3"),
            (#"st\u0000"#, #"subject 'st\u{0}' contains '\u{0}' at position 3"#),
        ]

        @Test("rejects bad subjects as invalid_subject", arguments: subjectCases)
        func badSubject(_ subject: String, _ message: String) throws {
            let rejection = try #require(Self.rejection(MessageSamples.commandJSON(subject: subject)))
            #expect(rejection.code == .invalidSubject)
            #expect(rejection.message.contains(message), "\(rejection.message)")
            #expect(rejection.eventID == "evt-1")
            #expect(rejection.subject == nil)
        }

        @Test("a command without a subject or with a numeric one is rejected as invalid_subject")
        func missingSubject() throws {
            let missing = try #require(
                Self.rejection(#"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel"}"#)
            )
            #expect(missing.code == .invalidSubject)
            #expect(missing.message == "missing subject: a command needs the spec task id as its CloudEvent subject")
            let numeric = try #require(
                Self.rejection(
                    #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel","subject":42}"#
                )
            )
            #expect(numeric.message == "subject must be a string, got number")
        }

        @Test("the longest valid subject is accepted")
        func longestSubject() throws {
            let subject = String(repeating: "a", count: 128)
            #expect(try Self.decode(MessageSamples.commandJSON(subject: subject)).get().specTaskID == subject)
        }

        // MARK: - Data

        static let dataCases: [(String, String, String)] = [
            ("spectask.command.create", "[]", "data must be a JSON object, got array"),
            ("spectask.command.create", #""Auth""#, "data must be a JSON object, got string"),
            ("spectask.command.create", "null", "data is missing; spectask.command.create requires name"),
            (
                "spectask.command.create", #"{"name":"Auth","maxConcurrentSessions":"3"}"#,
                "data.maxConcurrentSessions must be an integer, got string"
            ),
            (
                "spectask.command.create", #"{"name":"Auth","maxConcurrentSessions":1.5}"#,
                "data.maxConcurrentSessions must be an integer, got number 1.5"
            ),
            (
                "spectask.command.create", #"{"name":"Auth","maxConcurrentSessions":0}"#,
                "data.maxConcurrentSessions must be between 1 and 10000, got 0"
            ),
            (
                "spectask.command.create", #"{"name":"Auth","maxConcurrentSessions":1e300}"#,
                "data.maxConcurrentSessions must be between 1 and 10000, got 1e+300"
            ),
            ("spectask.command.create", #"{"name":7}"#, "data.name must be a string, got number"),
            ("spectask.command.create", #"{"name":null}"#, "data.name must be a string, got null"),
            ("spectask.command.create", #"{"name":""}"#, "data.name must not be empty"),
            (
                "spectask.command.create", #"{"nmae":"Auth"}"#,
                "data has unknown member 'nmae'; spectask.command.create accepts name, description, projectPath, "
                    + "maxConcurrentSessions"
            ),
            (
                "spectask.command.create", #"{"name":"Auth","zeta":1,"alpha":2}"#,
                "data has unknown members 'alpha', 'zeta'"
            ),
            (
                "spectask.command.start_planning", #"{"force":true}"#,
                "data has unknown member 'force'; spectask.command.start_planning accepts inZed, agentConfig"
            ),
            (
                "spectask.command.submit_specs", #"{"requirements":"r","implementationPlan":"p"}"#,
                "data.design is missing; spectask.command.submit_specs requires it"
            ),
            (
                "spectask.command.update_work_session_status", #"{"workSessionID":"ws-1","status":"running"}"#,
                "data.status must be one of pending, active, completed, failed, cancelled, blocked; got 'running'"
            ),
            (
                "spectask.command.update_work_session_status", #"{"workSessionID":"ws-1","status":3}"#,
                "data.status must be one of pending, active, completed, failed, cancelled, blocked; got number"
            ),
            (
                "spectask.command.update_zed_thread", #"{"workSessionID":"ws-1","status":"blocked"}"#,
                "data.status must be one of pending, active, disconnected, completed, failed; got 'blocked'"
            ),
            (
                "spectask.command.update_zed_thread", #"{"workSessionID":"ws-1","progress":101}"#,
                "data.progress must be between 0 and 100, got 101"
            ),
            (
                "spectask.command.archive", #"{"archived":"yes"}"#,
                "data.archived must be a boolean (true or false), got string"
            ),
            ("spectask.command.archive", "{}", "data.archived is missing; spectask.command.archive requires it"),
            (
                "spectask.command.start_implementation", #"{"workSessionIDs":["ws-1",2]}"#,
                "data.workSessionIDs[1] must be a string, got number"
            ),
            (
                "spectask.command.start_implementation", #"{"workSessionIDs":"ws-1"}"#,
                "data.workSessionIDs must be an array of strings, got string"
            ),
            (
                "spectask.command.start_implementation", #"{"workSessionIDs":[""]}"#,
                "data.workSessionIDs[0] must not be empty"
            ),
        ]

        @Test("rejects bad data as schema_violation naming the path", arguments: dataCases)
        func badData(_ type: String, _ data: String, _ message: String) throws {
            let rejection = try #require(Self.rejection(MessageSamples.commandJSON(type: type, data: data)))
            #expect(rejection.code == .schemaViolation)
            #expect(rejection.message.contains(message), "\(rejection.message)")
            #expect(rejection.eventID == "evt-1")
            #expect(rejection.subject == MessageSamples.specTaskID)
        }

        static let longStringCases: [(String, String, String)] = [
            ("spectask.command.create", "name", "data.name must be at most 500 characters long, got 501"),
            (
                "spectask.command.retry_work_session", "workSessionID",
                "data.workSessionID must be at most 128 characters"
            ),
            ("spectask.command.submit_specs", "implementationPlan", "at most 200000 characters long, got 200001"),
            ("spectask.command.create", "projectPath", "data.projectPath must be at most 4096 characters long"),
        ]

        @Test("rejects strings over their limit", arguments: longStringCases)
        func overLongStrings(_ type: String, _ member: String, _ message: String) throws {
            let fields = try #require(SpecTaskCommand.payloadFields(name: String(type.dropFirst(17))))
            guard case .string(let length) = try #require(fields.first { $0.name == member }).kind else {
                Issue.record("\(member) is not a string")
                return
            }
            // Every other required member gets a valid short value; the one under test is one character too long.
            var members = fields.filter(\.isRequired).map { #""\#($0.name)":"x""# }
            members.removeAll { $0.hasPrefix(#""\#(member)""#) }
            // Two-byte characters where they fit, to show lengths count characters; ASCII for the long texts.
            let character = length.upperBound < 10_000 ? "é" : "x"
            members.append(#""\#(member)":"\#(String(repeating: character, count: length.upperBound + 1))""#)
            let rejection = try #require(
                Self.rejection(MessageSamples.commandJSON(type: type, data: "{\(members.joined(separator: ","))}"))
            )
            #expect(rejection.code == .schemaViolation)
            #expect(rejection.message.contains(message), "\(rejection.message)")
        }

        @Test("strings at their limit are accepted, counted in characters not bytes")
        func stringsAtTheirLimit() throws {
            let name = String(repeating: "é", count: 500)
            let decoded = try Self.decode(MessageSamples.commandJSON(data: #"{"name":"\#(name)"}"#)).get()
            #expect(decoded.command == .create(CreateSpecTask(name: name)))
        }

        @Test("a rejection carries the event id only when it is usable")
        func correlation() throws {
            let rejection = try #require(
                Self.rejection(#"{"specversion":"1.0","id":["x"],"source":"s","type":"t","subject":"st-1"}"#)
            )
            #expect(rejection.eventID == nil)
            #expect(rejection.subject == "st-1")
            #expect(rejection.description == "not_a_cloud_event: attribute 'id' must be a string, got array")
        }

        @Test("rejections round-trip through JSON")
        func rejectionCodable() throws {
            let rejection = InputRejection(.unknownType, "unknown", eventID: "e", subject: "st-1")
            let json = try JSONEncoder().encode(rejection)
            #expect(try JSONDecoder().decode(InputRejection.self, from: json) == rejection)
            #expect(String(decoding: json, as: UTF8.self).contains(#""code":"unknown_type""#))
        }
    }
}
