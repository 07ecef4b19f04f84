import Foundation
import Kafka
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker
import Testing

/// W3C trace context from a command to everything it causes, through the topics and a real worker process.
@Suite("Tracing through the topics", .serialized)
struct TracingTests {
    /// A fresh, valid trace context, as an upstream service's tracer would send it.
    static func newTrace() -> TraceContext {
        let hex = { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
        return TraceContext(
            traceparent: "00-\(hex())-\(hex().prefix(16))-01",
            tracestate: "upstream=tests"
        )!
    }

    /// Sends `command` with `trace` in a `traceparent` header; returns its id.
    static func sendTraced(
        _ command: SpecTaskCommand,
        task: String,
        trace: TraceContext,
        in system: SystemUnderTest
    ) async throws -> String {
        let id = UUID().uuidString
        let bytes = CommandEncoder.encode(id: id, specTaskID: task, source: "integration-tests", command: command)
        try await system.sendRaw(bytes, key: task, headers: trace.headers.map(KafkaHeader.init))
        return id
    }

    /// The trace context of an output, as its header and as its CloudEvent attribute, which must agree.
    static func trace(
        of message: TopicListener.Message,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> TraceContext? {
        let headers = message.raw.domainHeaders
        let header = TraceContext.extract(headers: headers)
        #expect(
            header?.traceparent == message.event.traceparent,
            "\(message.event.type)",
            sourceLocation: sourceLocation
        )
        #expect(header?.tracestate == message.event.tracestate, "\(message.event.type)", sourceLocation: sourceLocation)
        return header
    }

    /// Everything published on the system's output topics, with the topic's name.
    static func outputs(_ system: SystemUnderTest) -> [(topic: String, message: TopicListener.Message)] {
        [
            ("status", system.status), ("progress", system.progress), ("zed.commands", system.zedCommands),
            ("rejected", system.rejected),
        ].flatMap { name, listener in listener.messages.map { (name, $0) } }
    }

    @Test("one command's trace id reaches every output it caused, each a child span of its own")
    func followOneCommand() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = try await WorkflowTests.approvedTask(
            system,
            plan: "## Task 1: Login\n\n## Task 2: Logout\n",
            name: "Traced"
        )
        let trace = Self.newTrace()
        let id = try await Self.sendTraced(
            .startImplementation(StartImplementation()),
            task: task,
            trace: trace,
            in: system
        )
        guard case .commandApplied = try await system.outcome(of: id) else {
            Issue.record("start_implementation was not applied")
            return
        }
        // One batch's outputs leave in order (one shard per task): the progress snapshot is the last of them.
        _ = try await system.progress.wait(timeout: .seconds(60), "the traced progress snapshot") {
            $0.event.traceparent.flatMap { TraceContext(traceparent: $0) }?.traceID == trace.traceID
        }
        _ = try await system.zedCommands.wait(timeout: .seconds(30), "a Zed command of the traced command") {
            $0.event.correlationid == id
        }
        try await Task.sleep(for: .seconds(1))

        let caused = Self.outputs(system).filter { $0.message.event.subject == task }
            .filter {
                $0.message.event.correlationid == id || $0.topic == "progress" && $0.message.event.traceparent != nil
            }
        let topics = Set(caused.map(\.topic))
        #expect(topics == ["status", "progress", "zed.commands"], "\(caused.map(\.message.event.type))")
        #expect(caused.count >= 5, "\(caused.map(\.message.event.type))")
        var spans: Set<String> = []
        for (topic, message) in caused {
            let output = try #require(Self.trace(of: message), "\(topic) \(message.event.type) has no traceparent")
            #expect(output.traceID == trace.traceID)
            #expect(output.tracestate == "upstream=tests")
            #expect(output.spanID != trace.spanID)
            // The parent relation, as documented: without a tracer, an output's span id is derived from the
            // input's span id and the output's event id.
            #expect(output == trace.child(for: message.event.id), "\(message.event.type)")
            spans.insert(output.spanID)
        }
        #expect(spans.count == caused.count, "every output has a span id of its own")

        // Outputs of the commands sent without a trace context carry none: the worker starts no trace itself.
        let untraced = Self.outputs(system).filter {
            $0.message.event.subject == task && $0.message.event.correlationid != id && $0.topic != "progress"
        }
        #expect(!untraced.isEmpty)
        for (_, message) in untraced {
            #expect(message.event.traceparent == nil, "\(message.event.type)")
            #expect(TraceContext.extract(headers: message.raw.domainHeaders) == nil, "\(message.event.type)")
        }
    }

    @Test("the CloudEvents extension in both modes; rejections and their records traced; hostile values ignored")
    func rejectionsAndHostileValues() async throws {
        let system = try await SystemUnderTest.start()
        defer { Task { await system.stop() } }
        let task = TestEnvironment.unique("task")
        try await system.apply(.create(CreateSpecTask(name: "Traced rejections")), task: task)

        // Approving specs that were never submitted breaks a rule: an outcome and a record on spectask.rejected.
        let trace = Self.newTrace()
        let id = try await Self.sendTraced(
            .approveSpecs(ApproveSpecs(approver: "a@example.com")),
            task: task,
            trace: trace,
            in: system
        )
        guard case .commandRejected = try await system.outcome(of: id) else {
            Issue.record("approve_specs was applied")
            return
        }
        let record = try await system.rejected.wait(timeout: .seconds(30), "the rejected record") {
            $0.event.correlationid == id
        }
        let outcome = try #require(system.status.messages.first { $0.event.correlationid == id })
        for message in [outcome, record] {
            let output = try #require(Self.trace(of: message))
            #expect(output == trace.child(for: message.event.id))
        }

        // The CloudEvents distributed-tracing extension: a structured event's attribute, binary mode's ce_ header.
        let structuredTrace = Self.newTrace()
        let structuredID = UUID().uuidString
        let structured =
            #"{"specversion":"1.0","id":"\#(structuredID)","source":"tests","type":"spectask.command.set_shared_context","#
            + #""subject":"\#(task)","traceparent":"\#(structuredTrace.traceparent)","data":{"key":"s","value":"v"}}"#
        try await system.sendRaw(Array(structured.utf8), key: task)
        let binaryTrace = Self.newTrace()
        let binaryID = UUID().uuidString
        let binaryHeaders = [
            ("ce_specversion", "1.0"), ("ce_id", binaryID), ("ce_source", "tests"),
            ("ce_type", "spectask.command.set_shared_context"), ("ce_subject", task),
            ("content-type", "application/json"), ("ce_traceparent", binaryTrace.traceparent),
        ].map { KafkaHeader(key: $0.0, value: Array($0.1.utf8)) }
        try await system.sendRaw(Array(#"{"key":"b","value":"v"}"#.utf8), key: task, headers: binaryHeaders)
        // Sent without a tracestate.
        for (commandID, trace) in [(structuredID, structuredTrace), (binaryID, binaryTrace)] {
            let sent = try #require(TraceContext(traceparent: trace.traceparent))
            guard case .commandApplied = try await system.outcome(of: commandID) else {
                Issue.record("the command \(commandID) was not applied")
                continue
            }
            let outputs = system.status.messages.filter { $0.event.correlationid == commandID }
            #expect(outputs.count >= 2)
            for message in outputs {
                #expect(Self.trace(of: message) == sent.child(for: message.event.id))
            }
        }

        // Not JSON at all, with a traceparent header: its record carries the trace too.
        let broken = Self.newTrace()
        try await system.sendRaw(Array("{not json".utf8), key: task, headers: broken.headers.map(KafkaHeader.init))
        let brokenRecord = try await system.rejected.wait(timeout: .seconds(30), "the record of the broken input") {
            $0.event.traceparent.flatMap { TraceContext(traceparent: $0) }?.traceID == broken.traceID
        }
        #expect(Self.trace(of: brokenRecord) == broken.child(for: brokenRecord.event.id))

        // Hostile trace context is ignored: each command is applied, and its outputs carry no trace context.
        let valid = Self.newTrace().traceparent
        let hostile: [[KafkaHeader]] = [
            [KafkaHeader(key: "traceparent", value: Array("ff-\(valid.dropFirst(3))".utf8))],
            [KafkaHeader(key: "traceparent", value: Array(valid.uppercased().utf8))],
            [KafkaHeader(key: "traceparent", value: Array((valid + "-extra").utf8))],
            [KafkaHeader(key: "traceparent", value: Array(String(repeating: "0", count: 100_000).utf8))],
            [KafkaHeader(key: "traceparent", value: [0xFF, 0x00, 0xFE])],
            [KafkaHeader(key: "ce_traceparent", value: Array("00-abc-01".utf8))],
        ]
        for (index, headers) in hostile.enumerated() {
            let id = UUID().uuidString
            let command = SpecTaskCommand.setSharedContext(SetSharedContext(key: "k\(index)", value: "v"))
            let bytes = CommandEncoder.encode(id: id, specTaskID: task, source: "integration-tests", command: command)
            try await system.sendRaw(bytes, key: task, headers: headers)
            guard case .commandApplied = try await system.outcome(of: id) else {
                Issue.record("the command with hostile trace context #\(index) was not applied")
                continue
            }
            let outputs = system.status.messages.filter { $0.event.correlationid == id }
            for message in outputs {
                #expect(message.event.traceparent == nil)
                #expect(TraceContext.extract(headers: message.raw.domainHeaders) == nil)
            }
        }
    }

    @Test("with SPECTASK_TRACING=log, the worker logs its spans: input → apply span → output span")
    func logTracer() async throws {
        let system = try await SystemUnderTest.start(
            environment: ["SPECTASK_TRACING": "log", "SPECTASK_LOG_FORMAT": "json"]
        )
        defer { Task { await system.stop() } }
        let task = TestEnvironment.unique("task")
        let trace = Self.newTrace()
        let id = try await Self.sendTraced(
            .create(CreateSpecTask(name: "Logged")),
            task: task,
            trace: trace,
            in: system
        )
        guard case .commandApplied = try await system.outcome(of: id) else {
            Issue.record("create was not applied")
            return
        }
        let outcome = try #require(system.status.messages.first { $0.event.correlationid == id })
        let output = try #require(Self.trace(of: outcome))
        #expect(output.traceID == trace.traceID)
        let worker = try #require(system.workerProcesses.first)
        try await worker.waitForOutput(containing: output.spanID, timeout: .seconds(30))

        let spans = worker.output.split(separator: "\n").compactMap { line -> [String: String]? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["message"] as? String == "span"
            else { return nil }
            return object.compactMapValues { $0 as? String }
        }
        // The output's span is a span the tracer reported: `spectask.create …`, whose parent is the input's apply
        // span, whose parent is the sender's span.
        let create = try #require(spans.first { $0["span.id"] == output.spanID }, "no span \(output.spanID) logged")
        #expect(create["span.name"] == "spectask.create \(outcome.event.type)")
        #expect(create["trace.id"] == trace.traceID)
        let apply = try #require(spans.first { $0["span.id"] == create["parent.id"] })
        #expect(apply["span.name"] == "spectask.apply spectask.command.create")
        #expect(apply["parent.id"] == trace.spanID)
        #expect(apply["trace.id"] == trace.traceID)
        // The batch, poll and publish spans are the worker's own; the batch span links the input.
        let batch = try #require(spans.first { $0["span.name"] == "spectask.apply" && $0["span.links"] != nil })
        #expect(batch["span.links"]?.contains(trace.traceparent) == true)
        #expect(spans.contains { $0["span.name"] == "kafka.poll" })
        // The relay's pass can wait behind another test's relay that holds the same outbox shard (the whole suite
        // shares one database) while it retries a topic that test deleted: a pass may take a minute under load.
        try await worker.waitForOutput(containing: "\"span.name\":\"spectask.publish\"", timeout: .seconds(120))
        // Logs about the traced input carry its trace id.
        #expect(worker.output.contains("\"trace.id\":\"\(trace.traceID)\""))
    }
}
