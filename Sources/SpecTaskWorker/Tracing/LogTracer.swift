import Foundation
import Logging
import SpecTaskContract
import SpecTaskDomain
import Synchronization
import Tracing

/// A tracer that writes each span, when it ends, as one log line at debug level: no exporter, no collector, for
/// following a trace through the worker's own (JSON) logs. Opt in with `SPECTASK_TRACING=log` and
/// `SPECTASK_LOG_LEVEL=debug`.
///
/// Span contexts are W3C trace contexts: a span started from a context with one is its child (same trace id, new
/// span id); any other starts a new trace. It reads and writes `traceparent` and `tracestate` like any W3C tracer.
public struct LogTracer: Tracer {
    public typealias Span = LogSpan

    let logger: Logger

    /// - Parameter logger: Where the spans go; each line carries `trace.id`, `span.id` and `parent.id`.
    public init(logger: Logger) {
        self.logger = logger
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> LogSpan {
        var context = context()
        let parent = context.traceContext
        let trace = parent?.child(spanID: Self.randomHex(bytes: 8)) ?? Self.newTrace()
        context.traceContext = trace
        return LogSpan(
            operationName: operationName,
            kind: kind,
            context: context,
            parent: parent,
            start: instant().nanosecondsSinceEpoch,
            logger: logger
        )
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let traceparent = extractor.extract(key: TraceContext.traceparentName, from: carrier),
            let trace = TraceContext(
                traceparent: traceparent,
                tracestate: extractor.extract(key: TraceContext.tracestateName, from: carrier)
            )
        else { return }
        context.traceContext = trace
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        for header in trace.headers {
            injector.inject(header.text ?? "", forKey: header.key, into: &carrier)
        }
    }

    private static func newTrace() -> TraceContext {
        TraceContext(traceparent: "00-\(randomHex(bytes: 16))-\(randomHex(bytes: 8))-01")!
    }

    /// Random lowercase hex, never all zero.
    private static func randomHex(bytes: Int) -> String {
        (0..<bytes / 8).map { index in
            let value = UInt64.random(in: (index == 0 ? 1 : 0)...UInt64.max)
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }
}

/// A span of the ``LogTracer``: logged once, when it ends.
public final class LogSpan: Tracing.Span {
    public let context: ServiceContext
    public let isRecording = true
    private let kind: SpanKind
    private let parent: TraceContext?
    private let start: UInt64
    private let logger: Logger
    private let state: Mutex<State>

    struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var links: [SpanLink] = []
        var events: [SpanEvent] = []
        var status: SpanStatus?
        var ended = false
    }

    init(
        operationName: String,
        kind: SpanKind,
        context: ServiceContext,
        parent: TraceContext?,
        start: UInt64,
        logger: Logger
    ) {
        self.context = context
        self.kind = kind
        self.parent = parent
        self.start = start
        self.logger = logger
        self.state = Mutex(State(operationName: operationName))
    }

    /// This span's W3C trace context.
    public var traceContext: TraceContext { context.traceContext! }

    public var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { $0.operationName = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { $0.status = status }
    }

    public func addEvent(_ event: SpanEvent) {
        state.withLock { $0.events.append(event) }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        state.withLock { $0.events.append(SpanEvent(name: "exception: \(error)", attributes: attributes)) }
    }

    public func addLink(_ link: SpanLink) {
        state.withLock { $0.links.append(link) }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        guard
            let ended = state.withLock({ state -> State? in
                guard !state.ended else { return nil }
                state.ended = true
                return state
            })
        else { return }
        var metadata = WorkerTracing.metadata(traceContext)
        metadata["span.name"] = "\(ended.operationName)"
        metadata["span.kind"] = "\(kind)"
        metadata["span.duration_us"] = "\((end &- start) / 1_000)"
        if let parent { metadata["parent.id"] = "\(parent.spanID)" }
        let links = ended.links.compactMap { $0.context.traceContext?.traceparent }
        if !links.isEmpty { metadata["span.links"] = .array(links.map { .string($0) }) }
        ended.attributes.forEach { key, value in metadata["span.attributes.\(key)"] = "\(value)" }
        if !ended.events.isEmpty { metadata["span.events"] = .array(ended.events.map { .string($0.name) }) }
        if let status = ended.status { metadata["span.status"] = "\(status.code)" }
        logger.debug("span", metadata: metadata)
    }
}
