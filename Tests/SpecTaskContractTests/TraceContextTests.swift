import Foundation
import SpecTaskContract
import SpecTaskDomain
import Testing

extension MessagesTests {
    /// W3C Trace Context on inputs: read strictly, ignored when not valid, never a reason to reject an input.
    @Suite("Trace context")
    struct TraceContextTests {
        static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        static let spanID = "00f067aa0ba902b7"
        static let valid = "00-\(traceID)-\(spanID)-01"
        static let appliedAt = Date(timeIntervalSince1970: 1_750_000_000)

        // MARK: - Parsing

        @Test("a valid version-00 traceparent is read, and written back the same")
        func validTraceparent() throws {
            let context = try #require(TraceContext(traceparent: Self.valid, tracestate: "congo=t61rcWkgMzE"))
            #expect(context.traceID == Self.traceID)
            #expect(context.spanID == Self.spanID)
            #expect(context.isSampled)
            #expect(context.traceparent == Self.valid)
            #expect(context.tracestate == "congo=t61rcWkgMzE")
            #expect(TraceContext(traceparent: "00-\(Self.traceID)-\(Self.spanID)-00")?.isSampled == false)
        }

        /// Each of these is ignored: `init` says `nil`.
        static let malformed: [(String, String)] = [
            ("version ff", "ff-\(traceID)-\(spanID)-01"),
            ("version not hex", "0x-\(traceID)-\(spanID)-01"),
            ("version uppercase", "0A-\(traceID)-\(spanID)-01"),
            ("one-digit version", "0-\(traceID)-\(spanID)-01"),
            ("all-zero trace id", "00-\(String(repeating: "0", count: 32))-\(spanID)-01"),
            ("all-zero span id", "00-\(traceID)-0000000000000000-01"),
            ("trace id too short", "00-\(traceID.dropLast())-\(spanID)-01"),
            ("trace id too long", "00-\(traceID)0-\(spanID)-01"),
            ("span id too short", "00-\(traceID)-\(spanID.dropLast())-01"),
            ("span id too long", "00-\(traceID)-\(spanID)0-01"),
            ("flags too short", "00-\(traceID)-\(spanID)-1"),
            ("flags too long", "00-\(traceID)-\(spanID)-011"),
            ("uppercase trace id", "00-\(traceID.uppercased())-\(spanID)-01"),
            ("uppercase span id", "00-\(traceID)-\(spanID.uppercased())-01"),
            ("uppercase flags", "00-\(traceID)-\(spanID)-0A"),
            ("extra field in version 00", "00-\(traceID)-\(spanID)-01-extra"),
            ("trailing character in version 00", "00-\(traceID)-\(spanID)-01x"),
            ("underscores for dashes", "00_\(traceID)_\(spanID)_01"),
            ("spaces around it", " \(valid) "),
            ("not hex", "00-\(String(repeating: "g", count: 32))-\(spanID)-01"),
            ("empty", ""),
            ("the old test value", "00-abc-01"),
            ("non-ASCII", "00-\(traceID)-\(spanID)-0é"),
            ("huge", "00-\(traceID)-\(spanID)-01" + String(repeating: "-0", count: 100_000)),
            ("huge later version", "01-\(traceID)-\(spanID)-01-" + String(repeating: "a", count: 100_000)),
            ("later version, no dash after the flags", "01-\(traceID)-\(spanID)-01x"),
        ]

        @Test("malformed and hostile traceparents are ignored", arguments: malformed)
        func malformedTraceparent(_ name: String, _ value: String) {
            #expect(TraceContext(traceparent: value) == nil, "\(name)")
        }

        @Test("a later version is read as version 00, extra fields and all, and passed on as version 00")
        func laterVersion() throws {
            let context = try #require(
                TraceContext(traceparent: "cc-\(Self.traceID)-\(Self.spanID)-01-what-the-future")
            )
            #expect(context.traceparent == Self.valid)
        }

        @Test("flags the specification does not define are passed on as zero")
        func unknownFlags() throws {
            #expect(try #require(TraceContext(traceparent: "00-\(Self.traceID)-\(Self.spanID)-ff")).flags == 0x03)
            #expect(try #require(TraceContext(traceparent: "00-\(Self.traceID)-\(Self.spanID)-08")).flags == 0)
        }

        @Test("an unacceptable tracestate is dropped, the traceparent kept")
        func tracestate() throws {
            for state in [
                String(repeating: "a", count: 513), "k=v\u{0}", "k=vé", "", "k=v\n",
                (0..<33).map { "k\($0)=v" }.joined(separator: ","),
            ] {
                let context = try #require(TraceContext(traceparent: Self.valid, tracestate: state))
                #expect(context.tracestate == nil, "\(state.prefix(40))")
            }
            let longest = String(repeating: "a", count: 512)
            #expect(TraceContext(traceparent: Self.valid, tracestate: longest)?.tracestate == longest)
        }

        // MARK: - Children

        @Test("children share the trace id, flags and tracestate; each output's span id is its own, and stable")
        func children() throws {
            let parent = try #require(TraceContext(traceparent: Self.valid, tracestate: "a=1"))
            let first = parent.child(for: "spectask.commands.0.7.1")
            let second = parent.child(for: "spectask.commands.0.7.2")
            for child in [first, second] {
                #expect(child.traceID == parent.traceID)
                #expect(child.flags == parent.flags)
                #expect(child.tracestate == "a=1")
                #expect(child.spanID != parent.spanID)
                #expect(TraceContext(traceparent: child.traceparent) != nil)
            }
            #expect(first.spanID != second.spanID)
            #expect(parent.child(for: "spectask.commands.0.7.1") == first)
            #expect(parent.child(spanID: "0123456789abcdef")?.spanID == "0123456789abcdef")
            #expect(parent.child(spanID: "0000000000000000") == nil)
            #expect(parent.child(spanID: "0123456789ABCDEF") == nil)
        }

        // MARK: - Finding it on a message

        @Test("the traceparent header, else ce_traceparent, else the structured event's attribute")
        func precedence() throws {
            let other = "00-\(String(repeating: "1", count: 32))-\(String(repeating: "2", count: 16))-00"
            let header = MessageHeader(key: "traceparent", text: Self.valid)
            let ceHeader = MessageHeader(key: "ce_traceparent", text: other)
            #expect(TraceContext.extract(headers: [ceHeader, header])?.traceparent == Self.valid)
            #expect(TraceContext.extract(headers: [ceHeader])?.traceparent == other)
            // An invalid header does not hide a valid one behind it.
            let broken = MessageHeader(key: "traceparent", text: "00-abc-01")
            #expect(TraceContext.extract(headers: [broken, ceHeader])?.traceparent == other)
            // A header that appears twice is not read.
            #expect(TraceContext.extract(headers: [header, header]) == nil)
            #expect(TraceContext.extract(headers: []) == nil)
            #expect(TraceContext.extract(attributes: ["traceparent": .string(other)])?.traceparent == other)
            #expect(TraceContext.extract(attributes: ["traceparent": .number(1)]) == nil)
        }

        @Test("a structured command's traceparent attribute, or a header, is found by the decoder")
        func decoderFindsIt() throws {
            let structured = Array(
                #"{"specversion":"1.0","id":"e","source":"s","type":"spectask.command.cancel","subject":"st-1","traceparent":"\#(Self.valid)","tracestate":"k=v"}"#
                    .utf8
            )
            let fromAttribute = CommandDecoder.decodeTraced(structured, appliedAt: Self.appliedAt)
            #expect(try fromAttribute.result.get().id == "e")
            #expect(fromAttribute.trace?.traceparent == Self.valid)
            #expect(fromAttribute.trace?.tracestate == "k=v")

            let plain = Array(MessageSamples.commandJSON().utf8)
            let fromHeader = CommandDecoder.decodeTraced(
                plain,
                headers: [MessageHeader(key: "traceparent", text: Self.valid)],
                appliedAt: Self.appliedAt
            )
            #expect(fromHeader.trace?.traceID == Self.traceID)

            let binary = CommandDecoder.decodeTraced(
                KafkaBindingTests.createData,
                headers: KafkaBindingTests.binary(extra: [MessageHeader(key: "ce_traceparent", text: Self.valid)]),
                appliedAt: Self.appliedAt
            )
            #expect(try binary.result.get().id == "evt-b")
            #expect(binary.trace?.traceparent == Self.valid)

            // A rejected input keeps its trace context: its outcome and rejected record carry it on.
            let unknown = CommandDecoder.decodeTraced(
                Array(MessageSamples.commandJSON(type: "spectask.command.nope").utf8),
                headers: [MessageHeader(key: "traceparent", text: Self.valid)],
                appliedAt: Self.appliedAt
            )
            #expect(throws: InputRejection.self) { try unknown.result.get() }
            #expect(unknown.trace?.traceparent == Self.valid)
            let notJSON = CommandDecoder.decodeTraced(
                Array("{".utf8),
                headers: [MessageHeader(key: "traceparent", text: Self.valid)],
                appliedAt: Self.appliedAt
            )
            #expect(notJSON.trace?.traceparent == Self.valid)
        }

        /// Hostile trace context in every place an input can carry it.
        static func hostileInputs() -> [(String, [UInt8], [MessageHeader])] {
            let huge = String(repeating: "f", count: 300_000)
            let structured = { (extra: String) in
                Array(
                    (#"{"specversion":"1.0","id":"evt-1","source":"tests","type":"spectask.command.create","#
                        + #""subject":"st-1","data":{"name":"Auth"},"# + extra + "}").utf8
                )
            }
            let plain = Array(MessageSamples.commandJSON().utf8)
            var inputs: [(String, [UInt8], [MessageHeader])] = []
            for (name, value) in malformed.prefix(5) + [("huge", huge)] {
                inputs.append(("header: \(name)", plain, [MessageHeader(key: "traceparent", text: value)]))
                inputs.append(
                    (
                        "binary ce_ header: \(name)", KafkaBindingTests.createData,
                        KafkaBindingTests.binary(extra: [MessageHeader(key: "ce_traceparent", text: value)])
                    )
                )
            }
            let valid = MessageHeader(key: "traceparent", text: Self.valid)
            inputs += [
                ("repeated header", plain, [valid, valid]),
                ("header not UTF-8", plain, [MessageHeader(key: "traceparent", value: [0xFF, 0xFE])]),
                ("header without value", plain, [MessageHeader(key: "traceparent", value: nil)]),
                ("huge tracestate header", plain, [valid, MessageHeader(key: "tracestate", text: huge)]),
                (
                    "repeated ce_traceparent", KafkaBindingTests.createData,
                    KafkaBindingTests.binary(extra: [
                        MessageHeader(key: "ce_traceparent", text: Self.valid),
                        MessageHeader(key: "ce_traceparent", text: Self.valid),
                    ])
                ),
                (
                    "huge ce_tracestate", KafkaBindingTests.createData,
                    KafkaBindingTests.binary(extra: [MessageHeader(key: "ce_tracestate", text: huge)])
                ),
                (
                    "ce_traceparent on a structured event without the attribute", plain,
                    [MessageHeader(key: "ce_traceparent", text: Self.valid)]
                ),
                ("attribute: a number", structured(#""traceparent":42"#), []),
                ("attribute: an object", structured(#""traceparent":{"a":1}"#), []),
                ("attribute: an array", structured(#""traceparent":["00"]"#), []),
                ("attribute: NUL", structured(#""traceparent":"00-\u0000","tracestate":"\u0000""#), []),
                ("attribute: uppercase", structured(#""traceparent":"\#(Self.valid.uppercased())""#), []),
                ("attribute: huge", structured(#""traceparent":"\#(String(repeating: "0", count: 200_000))""#), []),
            ]
            return inputs
        }

        @Test("hostile trace context never rejects an input; an invalid one is not carried on")
        func hostileTraceContextIsIgnored() throws {
            for (name, value, headers) in Self.hostileInputs() {
                let decoded = CommandDecoder.decodeTraced(value, headers: headers, appliedAt: Self.appliedAt)
                switch decoded.result {
                case .success(let command):
                    #expect(command.command.type == "spectask.command.create", "\(name)")
                case .failure(let rejection):
                    Issue.record("\(name): rejected as \(rejection.code): \(rejection.message)")
                }
                if let trace = decoded.trace {
                    // Only a valid traceparent next to the hostile part survives, and then without the hostile part.
                    #expect(trace.traceparent == Self.valid, "\(name)")
                    #expect(trace.tracestate == nil, "\(name)")
                }
            }
        }
    }
}
