import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    /// The CloudEvents Kafka binding: the headers the worker writes, and inputs read in binary and structured mode.
    @Suite("Kafka binding")
    struct KafkaBindingTests {
        static let appliedAt = Date(timeIntervalSince1970: 1_750_000_000)

        static func decode(
            _ value: [UInt8],
            _ headers: [MessageHeader],
            family: CommandDecoder.InputFamily = .commands
        ) -> Result<IncomingCommand, InputRejection> {
            CommandDecoder.decode(value, headers: headers, appliedAt: appliedAt, family: family)
        }

        static func rejection(
            _ value: [UInt8],
            _ headers: [MessageHeader],
            family: CommandDecoder.InputFamily = .commands,
            sourceLocation: SourceLocation = #_sourceLocation
        ) -> InputRejection? {
            switch decode(value, headers, family: family) {
            case .success(let command):
                Issue.record("expected a rejection, got \(command)", sourceLocation: sourceLocation)
                return nil
            case .failure(let rejection):
                return rejection
            }
        }

        /// A binary-mode create command: `ce_` headers (each overridable, `nil` drops it) and the data as the value.
        static func binary(
            _ overrides: [String: String?] = [:],
            extra: [MessageHeader] = []
        ) -> [MessageHeader] {
            var attributes: [String: String?] = [
                "ce_specversion": "1.0", "ce_id": "evt-b", "ce_source": "python-sdk",
                "ce_type": "spectask.command.create", "ce_subject": "st-1", "content-type": "application/json",
            ]
            attributes.merge(overrides) { $1 }
            return attributes.sorted { $0.key < $1.key }.compactMap { key, value in
                value.map { MessageHeader(key: key, text: $0) }
            } + extra
        }

        static let createData = Array(#"{"name":"Auth"}"#.utf8)

        /// The same event in binary mode: every attribute but `data` a `ce_` header, `datacontenttype` the
        /// `content-type`, the data the value.
        static func binaryForm(of structured: [UInt8]) throws -> (value: [UInt8], headers: [MessageHeader]) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(structured)) as? [String: Any])
            var headers: [MessageHeader] = []
            for (name, value) in object.sorted(by: { $0.key < $1.key }) where name != "data" {
                // Every header is text: an extension number or boolean is sent as its JSON form.
                let json = try JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed)
                let text = value as? String ?? String(decoding: json, as: UTF8.self)
                headers.append(
                    MessageHeader(key: name == "datacontenttype" ? "content-type" : "ce_" + name, text: text)
                )
            }
            let data = try object["data"].map {
                try JSONSerialization.data(withJSONObject: $0, options: .fragmentsAllowed)
            }
            return (data.map(Array.init) ?? [], headers)
        }

        // MARK: - Writing

        @Test("an output's headers: content-type of the JSON event format and the routing attributes")
        func structuredHeaders() throws {
            let headers = KafkaBinding.structuredHeaders(
                id: "e-1",
                source: "spectask-worker",
                type: "t",
                subject: "st-1"
            )
            #expect(
                headers.map(\.key) == ["content-type", "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject"]
            )
            #expect(
                headers.map(\.text) == [
                    "application/cloudevents+json; charset=utf-8", "1.0", "e-1", "spectask-worker", "t", "st-1",
                ]
            )
            #expect(
                !KafkaBinding.structuredHeaders(id: "e", source: "s", type: "t", subject: nil).map(\.key).contains(
                    "ce_subject"
                )
            )
        }

        @Test("an outcome is told from the other status events by its ce_type header, without parsing the record")
        func outcomeByHeader() {
            func typeHeader(_ type: String) -> [UInt8]? {
                let headers = KafkaBinding.structuredHeaders(id: "e", source: "s", type: type, subject: "t")
                return headers.first { $0.key == KafkaBinding.typeHeader }?.value
            }
            #expect(StatusEvent.mayBeOutcome(typeHeader: typeHeader("spectask.status.command_applied")))
            #expect(StatusEvent.mayBeOutcome(typeHeader: typeHeader("spectask.status.command_rejected")))
            for name in StatusEvent.names where !name.hasPrefix("command_") {
                #expect(!StatusEvent.mayBeOutcome(typeHeader: typeHeader("spectask.status." + name)), "\(name)")
            }
            #expect(!StatusEvent.mayBeOutcome(typeHeader: Array("spectask.status.command_applied ".utf8)))
            #expect(!StatusEvent.mayBeOutcome(typeHeader: []))
            #expect(StatusEvent.mayBeOutcome(typeHeader: nil), "a record without the header is decoded to find out")
        }

        @Test("headers derived from an encoded output equal the ones written with it; none for what is not an event")
        func derivedHeaders() throws {
            let bytes = EventEncoder.status(
                MessageSamples.statusEvents[0],
                specTaskID: MessageSamples.specTaskID,
                sequence: 4,
                eventID: "out-4",
                time: MessageSamples.time,
                correlationID: "cmd-1"
            )
            #expect(
                KafkaBinding.structuredHeaders(ofEncoded: bytes)
                    == KafkaBinding.structuredHeaders(
                        id: "out-4",
                        source: EventEncoder.source,
                        type: MessageSamples.statusEvents[0].type,
                        subject: MessageSamples.specTaskID
                    )
            )
            #expect(KafkaBinding.structuredHeaders(ofEncoded: Array("refused once".utf8)).isEmpty)
        }

        @Test("a traced output carries traceparent and tracestate headers, and the same in its CloudEvent attributes")
        func tracedOutput() throws {
            let trace = MessageSamples.trace.child(for: "out-4")
            let bytes = EventEncoder.status(
                MessageSamples.statusEvents[0],
                specTaskID: MessageSamples.specTaskID,
                sequence: 4,
                eventID: "out-4",
                time: MessageSamples.time,
                correlationID: "cmd-1",
                trace: trace
            )
            let event = try JSONDecoder().decode(CloudEvent.self, from: Data(bytes))
            #expect(event.traceparent == trace.traceparent)
            #expect(event.tracestate == MessageSamples.trace.tracestate)
            let headers = KafkaBinding.structuredHeaders(
                id: "out-4",
                source: EventEncoder.source,
                type: MessageSamples.statusEvents[0].type,
                subject: MessageSamples.specTaskID,
                trace: trace
            )
            #expect(Array(headers.map(\.key).suffix(2)) == ["traceparent", "tracestate"])
            #expect(headers.first { $0.key == "traceparent" }?.text == trace.traceparent)
            #expect(KafkaBinding.structuredHeaders(ofEncoded: bytes) == headers)
        }

        @Test("an output read back with its own headers is accepted as structured mode by the input decoder's rules")
        func outputsAgreeWithTheirHeaders() throws {
            // The decoder reads commands, not outputs; a command written with the same kind of headers shows that
            // the ce_ copies the worker writes agree with the event they travel with.
            let bytes = CommandEncoder.encode(
                id: "c-1",
                specTaskID: "st-1",
                source: "tests",
                command: .create(CreateSpecTask(name: "Auth"))
            )
            let headers = KafkaBinding.structuredHeaders(
                id: "c-1",
                source: "tests",
                type: "spectask.command.create",
                subject: "st-1"
            )
            #expect(try Self.decode(bytes, headers).get().id == "c-1")
        }

        // MARK: - Binary mode

        /// Every command and Zed event of the schema tests (hand-written ones with extensions among them).
        static let inputs = MessagesTests.SchemaConformanceTests.validMessages().filter {
            $0.schema.hasPrefix(SpecTaskCommand.typePrefix) || $0.schema.hasPrefix(ZedEvent.typePrefix)
        }

        @Test("every command and Zed event decodes in binary mode exactly as in structured mode, runner token included")
        func binaryEqualsStructured() throws {
            #expect(Self.inputs.count > 30)
            for (schema, structured) in Self.inputs {
                let family: CommandDecoder.InputFamily =
                    schema.hasPrefix(ZedEvent.typePrefix) ? .zedEvents : .commands
                let (value, headers) = try Self.binaryForm(of: structured)
                let expected = try Self.decode(structured, [], family: family).get()
                #expect(try Self.decode(value, headers, family: family).get() == expected, "\(schema)")
            }
        }

        @Test("binary mode: no value is no data; no content-type means JSON; a JSON media type with parameters is fine")
        func binaryVariants() throws {
            let planning = try Self.decode([], Self.binary(["ce_type": "spectask.command.start_planning"])).get()
            #expect(planning.command == .startPlanning(StartPlanning()))
            #expect(try Self.decode(Self.createData, Self.binary(["content-type": nil])).get().id == "evt-b")
            let withCharset = Self.binary(["content-type": "application/json; charset=utf-8"])
            #expect(try Self.decode(Self.createData, withCharset).get().id == "evt-b")
            // The Python SDK writes time with microseconds and Z, plus the key as ce_partitionkey.
            let sdkLike = Self.binary(["ce_time": "2026-01-01T12:00:00.123456Z", "ce_partitionkey": "st-1"])
            #expect(try Self.decode(Self.createData, sdkLike).get().actor == nil)
        }

        @Test("binary mode: a missing ce_id is not a CloudEvent, and the reason names the header")
        func missingID() throws {
            let rejection = try #require(Self.rejection(Self.createData, Self.binary(["ce_id": nil])))
            #expect(rejection.code == .notACloudEvent)
            #expect(rejection.message == "missing required attribute 'id' (header ce_id in binary mode)")
            #expect(rejection.subject == "st-1")
            #expect(rejection.type == "spectask.command.create")

            let noSpecVersion = try #require(Self.rejection(Self.createData, Self.binary(["ce_specversion": nil])))
            #expect(
                noSpecVersion.message
                    == "missing required attribute 'specversion' (header ce_specversion in binary mode)"
            )
            #expect(noSpecVersion.eventID == "evt-b")
        }

        @Test("binary mode: empty values and headers without a value are refused like empty and null attributes")
        func emptyValues() throws {
            let empty = try #require(Self.rejection(Self.createData, Self.binary(["ce_id": ""])))
            #expect(empty.code == .notACloudEvent)
            #expect(empty.message == "attribute 'id' must not be empty")
            let noValue = Self.binary(["ce_source": nil], extra: [MessageHeader(key: "ce_source", value: nil)])
            #expect(
                try #require(Self.rejection(Self.createData, noValue)).message.hasPrefix(
                    "missing required attribute 'source'"
                )
            )
            let emptySubject = try #require(Self.rejection(Self.createData, Self.binary(["ce_subject": ""])))
            #expect(emptySubject.code == .invalidSubject)
        }

        @Test("binary mode: a repeated ce_ header is refused, even with equal values")
        func duplicateHeaders() throws {
            let rejection = try #require(
                Self.rejection(Self.createData, Self.binary(extra: [MessageHeader(key: "ce_id", text: "evt-b")]))
            )
            #expect(rejection.code == .notACloudEvent)
            #expect(rejection.message == "header 'ce_id' appears 2 times; each attribute is one header")
            let twoContentTypes = Self.binary(extra: [MessageHeader(key: "Content-Type", text: "application/json")])
            #expect(try #require(Self.rejection(Self.createData, twoContentTypes)).code == .notACloudEvent)
        }

        @Test("binary mode: header values must be UTF-8")
        func invalidUTF8() throws {
            let headers = Self.binary(
                ["ce_source": nil],
                extra: [MessageHeader(key: "ce_source", value: [0x61, 0xFF, 0x62])]
            )
            let rejection = try #require(Self.rejection(Self.createData, headers))
            #expect(rejection.code == .notACloudEvent)
            #expect(rejection.message == "header 'ce_source' is not valid UTF-8; the binding requires UTF-8 text")
            #expect(rejection.eventID == "evt-b")
        }

        @Test("binary mode: the value must be a JSON object, parsed as strictly as a structured message")
        func dataNotAnObject() throws {
            let array = try #require(Self.rejection(Array("[1,2]".utf8), Self.binary()))
            #expect(array.code == .schemaViolation)
            #expect(array.message == "data must be a JSON object, got array")
            let malformed = try #require(Self.rejection(Array(#"{"name":"a","name":"b"}"#.utf8), Self.binary()))
            #expect(malformed.code == .malformedJSON)
            #expect(malformed.message.hasPrefix("the value (the data, in binary mode) is not valid JSON: "))
            #expect(malformed.eventID == "evt-b")
            let unknownMember = try #require(Self.rejection(Array(#"{"nmae":"Auth"}"#.utf8), Self.binary()))
            #expect(unknownMember.code == .schemaViolation)
        }

        @Test("binary mode: a content-type that is not JSON is refused before the value is read")
        func nonJSONContentType() throws {
            let rejection = try #require(
                Self.rejection(Array("<xml/>".utf8), Self.binary(["content-type": "text/xml"]))
            )
            #expect(rejection.code == .schemaViolation)
            #expect(rejection.message.hasPrefix("content-type 'text/xml' is not JSON: in binary mode"))
            #expect(rejection.eventID == "evt-b")
        }

        @Test("binary mode: ce_data and ce_datacontenttype are refused: data is the value, its type content-type")
        func reservedHeaders() throws {
            for name in ["ce_data", "ce_datacontenttype", "ce_data_base64"] {
                let headers = Self.binary(extra: [MessageHeader(key: name, text: "x")])
                let rejection = try #require(Self.rejection(Self.createData, headers))
                #expect(rejection.code == .schemaViolation)
                #expect(rejection.message.hasPrefix("header '\(name)' is not allowed in binary mode"))
            }
            let badName = try #require(
                Self.rejection(Self.createData, Self.binary(extra: [MessageHeader(key: "ce_Trace", text: "x")]))
            )
            #expect(badName.message.contains("is not a CloudEvents attribute name"))
        }

        @Test("binary mode counts the headers into the size limit")
        func oversize() throws {
            let big = Self.binary(extra: [
                MessageHeader(key: "ce_padding", text: String(repeating: "p", count: 300_000))
            ])
            let rejection = try #require(Self.rejection(Self.createData, big))
            #expect(rejection.code == .oversize)
            #expect(rejection.message.hasSuffix("bytes (value and headers) exceeds the 262144-byte limit"))
        }

        // MARK: - Which mode

        @Test("a structured event sent with ce_ headers but no cloudevents content-type is binary, and says so")
        func structuredWithCEHeaders() throws {
            let structured = Array(MessageSamples.commandJSON().utf8)
            let rejection = try #require(Self.rejection(structured, Self.binary(["content-type": nil])))
            #expect(rejection.code == .schemaViolation)
            #expect(rejection.message.hasPrefix("the value looks like a whole structured event"))
        }

        @Test(
            "content-type application/cloudevents+json is structured: ce_ headers may repeat attributes, never contradict them"
        )
        func structuredContentTypeWins() throws {
            let structured = Array(MessageSamples.commandJSON().utf8)
            let contentType = MessageHeader(key: "content-type", text: "Application/CloudEvents+JSON; charset=UTF-8")
            #expect(try Self.decode(structured, [contentType]).get().id == "evt-1")
            let agreeing = [
                contentType, MessageHeader(key: "ce_id", text: "evt-1"),
                MessageHeader(key: "ce_type", text: "spectask.command.create"),
            ]
            #expect(try Self.decode(structured, agreeing).get().id == "evt-1")

            let disagreeing = [contentType, MessageHeader(key: "ce_type", text: "spectask.command.cancel")]
            let rejection = try #require(Self.rejection(structured, disagreeing))
            #expect(rejection.code == .schemaViolation)
            #expect(
                rejection.message.hasPrefix(
                    "header 'ce_type' 'spectask.command.cancel' disagrees with the structured event's type 'spectask.command.create'"
                )
            )
            #expect(rejection.eventID == "evt-1")
            let extra = [contentType, MessageHeader(key: "ce_actor", text: "mallory")]
            #expect(
                try #require(Self.rejection(structured, extra)).message.hasPrefix(
                    "header 'ce_actor' names an attribute"
                )
            )
        }

        @Test("other event formats are refused with a reason that names the two that work")
        func otherFormats() throws {
            for contentType in ["application/cloudevents-batch+json", "application/cloudevents+avro"] {
                let rejection = try #require(
                    Self.rejection(Array("[]".utf8), [MessageHeader(key: "content-type", text: contentType)])
                )
                #expect(rejection.code == .schemaViolation)
                #expect(rejection.message.contains("names an event format this worker does not read"))
            }
        }

        @Test("no ce_ header: structured, whatever else the headers say, as before the binding")
        func noCEHeaders() throws {
            let structured = Array(MessageSamples.commandJSON().utf8)
            let unrelated = [
                MessageHeader(key: "traceparent", text: "00-abc-01"),
                MessageHeader(key: "content-type", text: "application/json"),
            ]
            #expect(try Self.decode(structured, unrelated).get().id == "evt-1")
        }

        // MARK: - Rejected records

        @Test("a rejected Zed event's ce_runnertoken is blanked, one * per character")
        func redaction() {
            let headers = [MessageHeader(key: "ce_runnertoken", text: "tök-1"), MessageHeader(key: "ce_id", text: "z")]
            #expect(RunnerTokenRedaction.redact(headers).map(\.text) == ["*****", "z"])
        }

        @Test("a rejected record keeps the original's headers, bounded")
        func recordHeaders() throws {
            var headers = Self.binary()
            headers.append(MessageHeader(key: "ce_long", text: String(repeating: "é", count: 2_000)))
            headers.append(MessageHeader(key: "ce_none", value: nil))
            headers += (0..<100).map { MessageHeader(key: "h\($0)", text: "v") }
            let record = RejectedRecord(
                original: Self.createData,
                headers: headers,
                topic: "spectask.commands",
                partition: 0,
                offset: 1,
                key: "st-1",
                rejection: InputRejection(.schemaViolation, "x")
            )
            let kept = try #require(record.originalHeaders)
            #expect(kept.count == RejectedRecord.maxHeaders)
            #expect(kept[0] == RejectedRecord.Header(key: "ce_id", value: "evt-b"))
            let long = try #require(kept.first { $0.key == "ce_long" }?.value)
            #expect(long.utf8.count <= RejectedRecord.maxKeyBytes && long.hasPrefix("éé") && !long.contains("\u{FFFD}"))
            #expect(kept.contains(RejectedRecord.Header(key: "ce_none", value: nil)))
            let bytes = EventEncoder.rejected(record, eventID: "r", time: MessageSamples.time)
            #expect(try EventDecoder.decodeRejected(bytes).1 == record)
            let withoutHeaders = RejectedRecord(
                original: [1],
                topic: "t",
                partition: 0,
                offset: 0,
                key: nil,
                rejection: InputRejection(.malformedJSON, "x")
            )
            #expect(withoutHeaders.originalHeaders == nil)
            #expect(
                !String(
                    decoding: EventEncoder.rejected(withoutHeaders, eventID: "r", time: MessageSamples.time),
                    as: UTF8.self
                ).contains("originalHeaders")
            )
        }
    }
}
