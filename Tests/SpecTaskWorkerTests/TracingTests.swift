import Logging
import SpecTaskContract
import SpecTaskDomain
import Synchronization
import Testing
import Tracing

@testable import SpecTaskWorker

/// The worker's side of tracing, without a broker: the `LogTracer` and the trace contexts a batch gives its outputs.
@Suite("Tracing in the worker")
struct WorkerTracingTests {
    static let input = TraceContext(
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate: "congo=t61rcWkgMzE"
    )!

    /// The log lines a logger was given, as their metadata.
    final class Lines: Sendable {
        let entries = Mutex<[Logger.Metadata]>([])

        var logger: Logger {
            var logger = Logger(label: "tests") { _ in Handler(lines: self) }
            logger.logLevel = .debug
            return logger
        }

        struct Handler: LogHandler {
            let lines: Lines
            var logLevel: Logger.Level = .debug
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                lines.entries.withLock { $0.append(event.metadata ?? [:]) }
            }
        }
    }

    @Test("without a tracer an output's context is derived from its input's, and nothing is started")
    func withoutTracer() {
        var tracing = OutputTracing(tracer: nil, batchContext: nil)
        #expect(tracing.input(nil, type: "t", attributes: [:]) == nil)
        let parent = tracing.input(Self.input, type: "t", attributes: [:])
        #expect(parent == Self.input)
        #expect(tracing.output(of: parent, eventID: "e.1", type: "t") == Self.input.child(for: "e.1"))
        #expect(tracing.output(of: nil, eventID: "e.2", type: "t") == nil)
        #expect(tracing.spans.isEmpty)
    }

    @Test("with a tracer: an apply span under the input, a create span per output under it, logged only once ended")
    func withLogTracer() throws {
        let lines = Lines()
        let tracer = LogTracer(logger: lines.logger)
        let batch = tracer.startSpan("spectask.apply", context: .topLevel)
        var tracing = OutputTracing(tracer: tracer, batchContext: batch.context)
        let started = tracing.input(Self.input, type: "spectask.command.create", attributes: [:])
        let parent = try #require(started)
        #expect(parent.traceID == Self.input.traceID)
        #expect(parent.spanID != Self.input.spanID)
        #expect(parent.tracestate == Self.input.tracestate)
        let outputs = ["e.1", "e.2"].map {
            tracing.output(of: parent, eventID: $0, type: "spectask.status.command_applied")
        }
        let first = try #require(outputs[0])
        let second = try #require(outputs[1])
        #expect(first.traceID == Self.input.traceID)
        #expect(Set([parent.spanID, first.spanID, second.spanID]).count == 3)
        #expect(tracing.spans.count == 3)
        // A batch that never commits never ends its spans: nothing is reported.
        #expect(lines.entries.withLock { $0 }.isEmpty)

        for span in tracing.spans { span.end() }
        batch.end()
        let logged = lines.entries.withLock { $0 }
        #expect(logged.count == 4)
        let byID = Dictionary(uniqueKeysWithValues: logged.map { ("\($0["span.id"]!)", $0) })
        #expect(byID[first.spanID]?["parent.id"] == "\(parent.spanID)")
        #expect(byID[first.spanID]?["span.name"] == "spectask.create spectask.status.command_applied")
        #expect(byID[parent.spanID]?["parent.id"] == "\(Self.input.spanID)")
        #expect(byID[parent.spanID]?["trace.id"] == "\(Self.input.traceID)")
        let batchSpan = try #require(logged.first { $0["span.name"] == "spectask.apply" })
        #expect(batchSpan["parent.id"] == nil)
        #expect(batchSpan["trace.id"] != "\(Self.input.traceID)")
        #expect("\(byID[parent.spanID]?["span.links"] ?? "")".contains("\(batchSpan["span.id"]!)"))
    }

    @Test("the LogTracer reads and writes W3C headers, and logs a span once")
    func propagation() throws {
        let lines = Lines()
        let tracer = LogTracer(logger: lines.logger)
        var context = ServiceContext.topLevel
        tracer.extract(Self.input, into: &context, using: TraceContextExtractor())
        #expect(context.traceContext == Self.input)
        #expect(TraceContext(context, using: tracer) == Self.input)
        #expect(TraceContext(.topLevel, using: tracer) == nil)
        let span = tracer.startSpan("s", context: context)
        span.end()
        span.end()
        #expect(lines.entries.withLock { $0 }.count == 1)
    }

    @Test("log lines inside a span's context carry its trace id")
    func logMetadata() throws {
        #expect(WorkerTracing.logMetadata.get().isEmpty)
        var context = ServiceContext.topLevel
        context.traceContext = Self.input
        let metadata = ServiceContext.withValue(context) { WorkerTracing.logMetadata.get() }
        #expect(metadata["trace.id"] == "\(Self.input.traceID)")
        #expect(metadata["span.id"] == "\(Self.input.spanID)")
    }

    @Test("SPECTASK_TRACING: none by default, log, or a clear error")
    func mode() throws {
        #expect(throws: Never.self) { try WorkerTracing.bootstrap([:], logger: Logger(label: "t")) }
        #expect(throws: Never.self) {
            try WorkerTracing.bootstrap(["SPECTASK_TRACING": "none"], logger: Logger(label: "t"))
        }
        #expect(WorkerTracing.bootstrappedTracer == nil)
        let error = #expect(throws: (any Error).self) {
            try WorkerTracing.bootstrap(["SPECTASK_TRACING": "otlp"], logger: Logger(label: "t"))
        }
        #expect("\(error!)".contains("expected one of none, log"))
    }
}
