import Foundation
import SpecTaskContract
import SpecTaskDomain
import TestSupport
import Testing

extension MessagesTests {
    /// The messages agree with `topics/schemas/`, checked by `scripts/check-json-schema` (python3 + jsonschema),
    /// the same tool anyone can run on a captured message.
    @Suite("JSON Schemas")
    struct SchemaConformanceTests {
        /// Every message this system reads or writes: all commands (as clients send them), all Zed events (as
        /// runners send them) and all outputs.
        static func validMessages() -> [(schema: String, message: [UInt8])] {
            var messages: [(String, [UInt8])] = []
            for (index, command) in (MessageSamples.commands + MessageSamples.minimalCommands).enumerated() {
                let bytes = CommandEncoder.encode(
                    id: "cmd-\(index)",
                    specTaskID: MessageSamples.specTaskID,
                    actor: index.isMultiple(of: 2) ? "alice" : nil,
                    source: "tests",
                    command: command,
                    time: index.isMultiple(of: 3) ? nil : MessageSamples.time
                )
                messages.append(("\(command.type).schema.json", bytes))
            }
            for (index, event) in (MessageSamples.zedEvents + MessageSamples.minimalZedEvents).enumerated() {
                let bytes = CommandEncoder.encode(
                    id: "zev-\(index)",
                    specTaskID: MessageSamples.specTaskID,
                    source: "zed-runner",
                    event: event,
                    runnerToken: MessageSamples.runnerToken,
                    time: index.isMultiple(of: 3) ? nil : MessageSamples.time
                )
                messages.append(("\(event.type).schema.json", bytes))
            }
            for (index, status) in MessageSamples.statusEvents.enumerated() {
                let bytes = EventEncoder.status(
                    status,
                    specTaskID: MessageSamples.specTaskID,
                    sequence: Int64(index + 1),
                    eventID: "out-\(index)",
                    time: MessageSamples.later,
                    correlationID: index.isMultiple(of: 2) ? "cmd-1" : nil,
                    trace: index.isMultiple(of: 2) ? MessageSamples.trace.child(for: "out-\(index)") : nil
                )
                messages.append(("\(status.type).schema.json", bytes))
            }
            for command in MessageSamples.zedCommands {
                let bytes = EventEncoder.zedCommand(
                    command,
                    specTaskID: MessageSamples.specTaskID,
                    eventID: "z-\(command.name)",
                    time: MessageSamples.time,
                    correlationID: "cmd-1",
                    trace: MessageSamples.trace.child(for: "z-\(command.name)")
                )
                messages.append(("\(command.type).schema.json", bytes))
            }
            let emptyProgress = ProgressCalculator.snapshot(
                specTaskID: "st-new",
                specTaskStatus: nil,
                implementationTasks: [],
                workSessions: [],
                zedThreads: []
            )
            for snapshot in [MessageSamples.progress, emptyProgress] {
                let bytes = EventEncoder.progress(
                    snapshot,
                    sequence: 5,
                    eventID: "p-5",
                    time: MessageSamples.later,
                    trace: MessageSamples.trace
                )
                messages.append(("spectask.progress.snapshot.schema.json", bytes))
            }
            let unreadable = RejectedRecord(
                original: [0xFF, 0xFE],
                topic: "zed.events",
                partition: 0,
                offset: 0,
                key: nil,
                rejection: InputRejection(.malformedJSON, "message is not valid JSON: unexpected byte 0xFF at byte 0")
            )
            for record in [MessageSamples.rejected, unreadable] {
                let bytes = EventEncoder.rejected(
                    record,
                    eventID: "r-1",
                    time: MessageSamples.time,
                    trace: MessageSamples.trace
                )
                messages.append(("spectask.rejected.input.schema.json", bytes))
            }
            let handWritten = #"""
                {"specversion":"1.0","id":"e","source":"s","type":"spectask.command.create","subject":"st-1",
                 "time":"2025-03-01T13:00:00+01:00","datacontenttype":"application/json; charset=utf-8",
                 "traceparent":"00-abc-01","priority":3,"data":{"name":"Auth","description":null}}
                """#
            messages.append(("spectask.command.create.schema.json", Array(handWritten.utf8)))
            let handWrittenZed = #"""
                {"specversion":"1.0","id":"z","source":"runner","type":"zed.event.heartbeat","subject":"st-1",
                 "runnertoken":"tok-1","traceparent":"00-abc-01","data":{"instanceID":"zed-1","cpuPercent":null,
                 "threads":[{"workSessionID":"ws-1","status":"active","progress":null}]}}
                """#
            messages.append(("zed.event.heartbeat.schema.json", Array(handWrittenZed.utf8)))
            return messages
        }

        @Test("a sample of every outgoing message type and every command conforms to its schema")
        func everyMessageConforms() async throws {
            let messages = Self.validMessages()
            let types = Set(messages.map(\.schema))
            #expect(types.count == SchemaFiles.messageTypes.count)
            let result = try await SchemaCheck.run(messages)
            #expect(result.status == 0, "\(result.output)\(result.errors)")
            #expect(result.output.isEmpty)
        }

        @Test("a broken instance makes the checker fail, naming the schema and the path")
        func brokenInstanceFails() async throws {
            let valid = EventEncoder.status(
                MessageSamples.statusEvents[3],
                specTaskID: MessageSamples.specTaskID,
                sequence: 1,
                eventID: "out-1",
                time: MessageSamples.time,
                correlationID: nil
            )
            let broken = String(decoding: valid, as: UTF8.self).replacingOccurrences(
                of: #""to":"active""#,
                with: #""to":"flying""#
            )
            let result = try await SchemaCheck.run([
                ("spectask.status.work_session_changed.schema.json", valid),
                ("spectask.status.work_session_changed.schema.json", Array(broken.utf8)),
            ])
            #expect(result.status == 1)
            #expect(result.output.contains("2: spectask.status.work_session_changed.schema.json: $.data.to: 'flying'"))
            #expect(!result.output.contains("1: "))
        }

        /// Commands the decoder rejects for reasons a schema can express; the schemas must reject them too.
        static let invalidCommands: [String] = [
            MessageSamples.commandJSON(data: #"{"nmae":"Auth"}"#),
            MessageSamples.commandJSON(data: #"{"name":"Auth","maxConcurrentSessions":"3"}"#),
            MessageSamples.commandJSON(data: #"{"name":"Auth","maxConcurrentSessions":0}"#),
            MessageSamples.commandJSON(data: #"{"name":""}"#),
            MessageSamples.commandJSON(data: #"{"name":"\#(String(repeating: "n", count: 501))"}"#),
            MessageSamples.commandJSON(data: #"{"name":"a\u0000b"}"#),
            MessageSamples.commandJSON(data: "[]"),
            MessageSamples.commandJSON(subject: "st 1"),
            MessageSamples.commandJSON(subject: String(repeating: "s", count: 129)),
            MessageSamples.commandJSON(subject: "tâche"),
            MessageSamples.commandJSON(
                type: "spectask.command.submit_specs",
                data: #"{"requirements":"r","design":"d"}"#
            ),
            MessageSamples.commandJSON(
                type: "spectask.command.update_work_session_status",
                data: #"{"workSessionID":"ws-1","status":"running"}"#
            ),
            MessageSamples.commandJSON(type: "spectask.command.archive", data: "null"),
            MessageSamples.commandJSON(type: "spectask.command.start_planning", data: #"{"force":true}"#),
            #"{"specversion":"0.3","id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#,
            #"{"specversion":"1.0","source":"s","type":"spectask.command.cancel","subject":"st-1"}"#,
            #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel"}"#,
            #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1","time":"now"}"#,
            #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1","Trace":1}"#,
            #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1","x":{}}"#,
        ]

        /// Zed events the decoder rejects for reasons a schema can express; the schemas must reject them too.
        static let invalidZedEvents: [String] = [
            MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","threads":{}}"#),
            MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","threads":["ws-1"]}"#),
            MessageSamples.zedEventJSON(
                data: #"{"instanceID":"zed-1","threads":[{"workSessionID":"ws-1","status":"active","cpu":1}]}"#
            ),
            MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","threads":[{"status":"active"}]}"#),
            MessageSamples.zedEventJSON(
                data: #"{"instanceID":"zed-1","threads":[{"workSessionID":"ws-1","status":"active","progress":101}]}"#
            ),
            MessageSamples.zedEventJSON(
                data: #"{"instanceID":"zed-1","threads":[{"workSessionID":"","status":"active"}]}"#
            ),
            MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","cpuPercent":100001}"#),
            MessageSamples.zedEventJSON(data: #"{"instanceID":"zed-1","memoryMB":-1}"#),
            MessageSamples.zedEventJSON(data: #"{"cpuPercent":1}"#),
            MessageSamples.zedEventJSON(data: "null"),
            MessageSamples.zedEventJSON(
                type: "zed.event.thread_activity",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","kind":"other","tokensIn":-5}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.thread_activity",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","kind":"refactor"}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.thread_activity",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","kind":"other","costMicros":1.5}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.coordination_message",
                data: #"{"instanceID":"zed-1","fromWorkSessionID":"ws-1","kind":"gossip","message":"hi"}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.coordination_message",
                data: #"{"instanceID":"zed-1","fromWorkSessionID":"ws-1","kind":"request"}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.thread_created",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","zedThreadExternalID":"z\u0000"}"#
            ),
            MessageSamples.zedEventJSON(type: "zed.event.instance_ready", data: #"{"instanceID":"zed-1","x":1}"#),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","claimID":"c","paths":"Sources"}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","claimID":"c","paths":[""]}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","claimID":"c","paths":[7]}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data:
                    #"{"instanceID":"zed-1","workSessionID":"ws-1","claimID":"c","paths":["\#(String(repeating: "p", count: 1025))"]}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data:
                    #"{"instanceID":"zed-1","workSessionID":"ws-1","claimID":"c","paths":[\#(Array(repeating: #""p""#, count: 101).joined(separator: ","))]}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","paths":["Sources"]}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_claimed",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","claimID":"c","paths":["a\u0000b"]}"#
            ),
            MessageSamples.zedEventJSON(
                type: "zed.event.paths_released",
                data: #"{"instanceID":"zed-1","workSessionID":"ws-1","claimIDs":"c"}"#
            ),
            MessageSamples.zedEventJSON(runnerToken: "42"),
            MessageSamples.zedEventJSON(runnerToken: #""\#(String(repeating: "t", count: 501))""#),
            MessageSamples.zedEventJSON(runnerToken: #""""#),
            MessageSamples.zedEventJSON(subject: "st 1"),
        ]

        @Test("what the decoder rejects, the command schemas reject too")
        func schemasAgreeWithTheDecoder() async throws {
            var messages: [(schema: String, message: [UInt8])] = []
            for text in Self.invalidCommands + Self.invalidZedEvents {
                let type = try #require(text.firstMatch(of: /"type":"([a-z._]+)"/)?.1)
                messages.append(("\(type).schema.json", Array(text.utf8)))
                let family: CommandDecoder.InputFamily = type.hasPrefix(ZedEvent.typePrefix) ? .zedEvents : .commands
                let decoded = CommandDecoder.decode(Array(text.utf8), appliedAt: MessageSamples.time, family: family)
                #expect(throws: InputRejection.self, "\(text)") { try decoded.get() }
            }
            let result = try await SchemaCheck.run(messages)
            #expect(result.status == 1)
            let failedLines = Set(result.output.split(separator: "\n").compactMap { Int($0.prefix { $0 != ":" }) })
            #expect(failedLines == Set(1...messages.count), "\(result.output)")
        }

        @Test("every message type has a schema file, and every schema file a message type")
        func schemaFilesMatchTypes() throws {
            let files = try FileManager.default.contentsOfDirectory(atPath: SchemaFiles.directory.path)
                .filter { $0.hasSuffix(".schema.json") && $0 != "common.schema.json" }
            #expect(Set(files) == Set(SchemaFiles.messageTypes.map { "\($0).schema.json" }))
            #expect(SchemaFiles.messageTypes.count == 18 + 9 + 8 + 2 + 16)
        }

        @Test("each command and Zed event schema states exactly the decoder's members, types and limits")
        func commandSchemasMatchTheFieldTable() throws {
            let types =
                SpecTaskCommand.names.map { SpecTaskCommand.typePrefix + $0 }
                + ZedEvent.names.map { ZedEvent.typePrefix + $0 }
            for type in types {
                let schema = try SchemaFiles.load("\(type).schema.json")
                let fields = try #require(SpecTaskCommand.payloadFields(type: type), "\(type)")
                let envelope = type.hasPrefix(ZedEvent.typePrefix) ? "zedEventEnvelope" : "commandEnvelope"
                #expect(schema["$ref"] as? String == "common.schema.json#/$defs/\(envelope)", "\(type)")
                let properties = try #require(schema["properties"] as? [String: Any])
                #expect((properties["type"] as? [String: Any])?["const"] as? String == type)
                let data = try #require(properties["data"] as? [String: Any])
                #expect(data["additionalProperties"] as? Bool == false, "\(type)")

                let required = fields.filter(\.isRequired).map(\.name)
                #expect((data["required"] as? [String] ?? []) == required, "\(type)")
                #expect((schema["required"] as? [String] ?? []) == (required.isEmpty ? [] : ["data"]), "\(type)")
                #expect(SchemaFiles.types(of: data) == (required.isEmpty ? ["object", "null"] : ["object"]), "\(type)")

                let members = try #require(data["properties"] as? [String: Any])
                #expect(Set(members.keys) == Set(fields.map(\.name)), "\(type)")
                for field in fields {
                    let member = try #require(members[field.name] as? [String: Any])
                    let (resolved, nullable) = try SchemaFiles.resolve(member)
                    #expect(nullable == !field.isRequired, "\(type) \(field.name)")
                    #expect(try SchemaFiles.matches(resolved, field.kind), "\(type) \(field.name): \(resolved)")
                }
            }
        }

        /// A value of the Swift type behind each object definition of `common.schema.json`.
        static let definitionSamples: [(definition: String, value: any Sendable)] =
            [
                ("specTask", MessageSamples.specTask),
                ("workSession", MessageSamples.workSession),
                ("zedThread", MessageSamples.zedThread),
                ("checklistItem", MessageSamples.implementationTask.checklist[0]),
                ("implementationTask", MessageSamples.implementationTask),
                ("zedInstance", MessageSamples.zedInstance),
                ("usage", Usage.zero),
                ("budget", Budget()),
                ("resourceUsage", ResourceUsage()),
                ("createdIDs", CreatedIDs()),
                ("commandOutcome", CommandOutcome(commandID: "c", commandType: "t")),
                ("specTaskChange", SpecTaskChange(from: nil, to: .backlog, specTask: MessageSamples.specTask)),
                (
                    "workSessionChange",
                    WorkSessionChange(from: nil, to: .pending, workSession: MessageSamples.workSession)
                ),
                ("zedThreadChange", ZedThreadChange(from: nil, to: .pending, zedThread: MessageSamples.zedThread)),
                (
                    "implementationTaskChange",
                    ImplementationTaskChange(
                        from: nil,
                        to: .pending,
                        implementationTask: MessageSamples.implementationTask
                    )
                ),
                (
                    "zedInstanceChange",
                    ZedInstanceChange(from: nil, to: .pending, zedInstance: MessageSamples.zedInstance)
                ),
                ("sharedContextChange", SharedContextChange(key: "k", value: nil)),
                ("pathClaim", MessageSamples.pathClaim),
                ("pathClaimConflict", MessageSamples.conflict),
                ("pathClaimChange", PathClaimChange(to: .granted, pathClaim: MessageSamples.pathClaim)),
                ("phaseProgress", PhaseProgress(sessionCount: 0, percent: 0)),
                ("implementationTaskProgress", MessageSamples.progress.implementationTasks[0]),
                ("workSessionProgress", MessageSamples.progress.workSessions[0]),
                ("progressSnapshot", MessageSamples.progress),
                ("rejectedRecord", MessageSamples.rejected),
            ]
            + MessageSamples.zedCommands.map { command in
                switch command {
                case .createInstance(let payload): ("createZedInstance", payload)
                case .createThread(let payload): ("createZedThread", payload)
                case .stopThread(let payload): ("stopZedThread", payload)
                case .stopInstance(let payload): ("stopZedInstanceOrder", payload)
                case .deliverMessage(let payload): ("deliverCoordinationMessage", payload)
                case .budgetExceeded(let payload): ("budgetExceededNotice", payload)
                case .reviseSpecs(let payload): ("reviseSpecsOrder", payload)
                case .claimResult(let payload): ("claimResult", payload)
                }
            }

        @Test("every object definition lists exactly the stored properties of its Swift type")
        func definitionsMatchSwiftTypes() throws {
            let definitions = try #require(try SchemaFiles.load("common.schema.json")["$defs"] as? [String: Any])
            for (name, value) in Self.definitionSamples {
                let definition = try #require(definitions[name] as? [String: Any], "\(name)")
                let properties = try #require(definition["properties"] as? [String: Any], "\(name)")
                // Mirror lists every stored property, nil optionals included: a member added in Swift but not
                // in the schema (or the other way round) fails here even when no sample sets it.
                let swiftMembers = Set(Mirror(reflecting: value).children.compactMap(\.label))
                #expect(Set(properties.keys) == swiftMembers, "\(name) (\(type(of: value)))")
                #expect(definition["additionalProperties"] as? Bool == false, "\(name)")
            }
        }

        @Test("the Zed event envelope is the command one with a zed.event type and the runner token required")
        func zedEventEnvelope() throws {
            let definitions = try #require(try SchemaFiles.load("common.schema.json")["$defs"] as? [String: Any])
            let command = try #require(definitions["commandEnvelope"] as? [String: Any])
            let zed = try #require(definitions["zedEventEnvelope"] as? [String: Any])
            #expect(zed["required"] as? [String] == ["specversion", "id", "source", "type", "subject", "runnertoken"])
            let commandMembers = try #require(command["properties"] as? [String: Any])
            let zedMembers = try #require(zed["properties"] as? [String: Any])
            #expect(Set(zedMembers.keys) == Set(commandMembers.keys))
            #expect((zedMembers["type"] as? [String: Any])?["pattern"] as? String == #"^zed\.event\.[a-z_]+$"#)
            #expect((zedMembers["runnertoken"] as? [String: Any])?["$ref"] as? String == "#/$defs/attributeText")
            for name in commandMembers.keys where !["type", "runnertoken"].contains(name) {
                #expect(
                    try SchemaFiles.canonical(zedMembers[name]) == SchemaFiles.canonical(commandMembers[name]),
                    "\(name)"
                )
            }
            for name in ["type", "propertyNames", "additionalProperties"] {
                #expect(try SchemaFiles.canonical(zed[name]) == SchemaFiles.canonical(command[name]), "\(name)")
            }
        }

        @Test("the shared definitions list exactly the Swift statuses and kinds")
        func enumsMatchSwift() throws {
            let expected: [String: [String]] = [
                "specTaskStatus": SpecTaskStatus.allCases.map(\.rawValue),
                "workSessionStatus": WorkSessionStatus.allCases.map(\.rawValue),
                "zedThreadStatus": ZedThreadStatus.allCases.map(\.rawValue),
                "implementationTaskStatus": ImplementationTaskStatus.allCases.map(\.rawValue),
                "zedInstanceStatus": ZedInstanceStatus.allCases.map(\.rawValue),
                "workSessionPhase": WorkSessionPhase.allCases.map(\.rawValue),
                "effort": Effort.allCases.map(\.rawValue),
                "checklistState": ChecklistItem.State.allCases.map(\.rawValue),
                "coordinationKind": CoordinationKind.allCases.map(\.rawValue),
                "zedActivityKind": ZedThreadActivity.Kind.allCases.map(\.rawValue),
                "pathClaimStatus": PathClaimStatus.allCases.map(\.rawValue),
            ]
            let definitions = try #require(try SchemaFiles.load("common.schema.json")["$defs"] as? [String: Any])
            for (name, values) in expected {
                #expect((definitions[name] as? [String: Any])?["enum"] as? [String] == values, "\(name)")
            }
        }
    }
}

// MARK: - Helpers

/// The schema files under `topics/schemas/` and how to read them.
enum SchemaFiles {
    static var directory: URL { Repository.root.appendingPathComponent("topics/schemas") }

    /// Every CloudEvent type of the system.
    static let messageTypes: [String] =
        SpecTaskCommand.names.map { SpecTaskCommand.typePrefix + $0 }
        + StatusEvent.names.map { StatusEvent.typePrefix + $0 }
        + ZedCommand.names.map { ZedCommand.typePrefix + $0 }
        + [EventEncoder.progressType, EventEncoder.rejectedType]
        + ZedEvent.names.map { ZedEvent.typePrefix + $0 }

    static func load(_ file: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A schema fragment as JSON text with sorted keys, to compare two fragments.
    static func canonical(_ fragment: Any?) throws -> String {
        let value = try #require(fragment)
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }

    static func types(of schema: [String: Any]) -> [String] {
        if let type = schema["type"] as? String { return [type] }
        return schema["type"] as? [String] ?? []
    }

    /// Follows a `common.schema.json#/$defs/…` reference and unwraps `anyOf: [X, {type: null}]`.
    static func resolve(_ schema: [String: Any]) throws -> (schema: [String: Any], nullable: Bool) {
        if let branches = schema["anyOf"] as? [[String: Any]], branches.count == 2,
            let nonNull = branches.first(where: { types(of: $0) != ["null"] })
        {
            return (try resolve(nonNull).schema, true)
        }
        if let reference = schema["$ref"] as? String {
            let name = try #require(reference.split(separator: "/").last)
            let definitions = try #require(try load("common.schema.json")["$defs"] as? [String: Any])
            return (try #require(definitions[String(name)] as? [String: Any]), false)
        }
        return (schema, false)
    }

    /// Whether a member schema says what the decoder's field kind enforces.
    static func matches(_ schema: [String: Any], _ kind: PayloadField.Kind) throws -> Bool {
        switch kind {
        case .string(let length):
            return types(of: schema) == ["string"] && (schema["minLength"] as? Int ?? 0) == length.lowerBound
                && schema["maxLength"] as? Int == length.upperBound && schema["pattern"] as? String == "^[^\\u0000]*$"
        case .integer(let range):
            return types(of: schema) == ["integer"] && schema["minimum"] as? Int == range.lowerBound
                && schema["maximum"] as? Int == range.upperBound
        case .boolean:
            return types(of: schema) == ["boolean"]
        case .oneOf(let values):
            return types(of: schema) == ["string"] && schema["enum"] as? [String] == values
        case .array(let item, let maxCount):
            guard types(of: schema) == ["array"], schema["maxItems"] as? Int == maxCount,
                let items = schema["items"] as? [String: Any]
            else { return false }
            return try matches(resolve(items).schema, item)
        case .anyJSON:
            return schema["type"] == nil && schema["$ref"] == nil
        case .objects(let fields, let maxCount):
            guard types(of: schema) == ["array"], schema["maxItems"] as? Int == maxCount,
                let items = schema["items"] as? [String: Any], types(of: items) == ["object"],
                items["additionalProperties"] as? Bool == false,
                let members = items["properties"] as? [String: Any],
                Set(members.keys) == Set(fields.map(\.name)),
                (items["required"] as? [String] ?? []) == fields.filter(\.isRequired).map(\.name)
            else { return false }
            for field in fields {
                guard let member = members[field.name] as? [String: Any] else { return false }
                let (resolved, nullable) = try resolve(member)
                guard nullable == !field.isRequired, try matches(resolved, field.kind) else { return false }
            }
            return true
        }
    }
}
