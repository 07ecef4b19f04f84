import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskStore
import Tracing

// The domain's `TraceContext` meets swift-distributed-tracing here: a bootstrapped tracer reads an input's context
// through `extract` and writes its spans' contexts through `inject`, both in W3C form, so any W3C tracer works.

/// The W3C trace context a service context stands for, as the worker's `LogTracer` and the log metadata read it.
private enum TraceContextKey: ServiceContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "spectask.trace" }
}

extension ServiceContext {
    /// The W3C trace context of the span (or input) this service context stands for, when the worker knows it.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}

extension ServiceContext {
    /// `span`'s service context, with its W3C trace context under ``traceContext`` (for the log metadata) whichever
    /// tracer made it.
    static func withTraceContext(of span: any Span, tracer: any Tracer) -> ServiceContext {
        var context = span.context
        if context.traceContext == nil { context.traceContext = TraceContext(context, using: tracer) }
        return context
    }
}

extension TraceContext {
    /// A service context a tracer starts child spans from: `tracer` extracted this context into it.
    func serviceContext(using tracer: any Tracer) -> ServiceContext {
        var context = ServiceContext.topLevel
        context.traceContext = self
        tracer.extract(self, into: &context, using: TraceContextExtractor())
        return context
    }

    /// The W3C trace context `tracer` injects for `context` (a span's), or `nil` when it writes none that is valid.
    init?(_ context: ServiceContext, using tracer: any Tracer) {
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: TraceHeaderInjector())
        guard let traceparent = carrier[TraceContext.traceparentName] else { return nil }
        self.init(traceparent: traceparent, tracestate: carrier[TraceContext.tracestateName])
    }
}

/// Hands a tracer the `traceparent` and `tracestate` of a parsed trace context, wherever the input carried it
/// (a header, `ce_traceparent` or the structured event's attribute).
struct TraceContextExtractor: Extractor {
    func extract(key: String, from carrier: TraceContext) -> String? {
        switch key.lowercased() {
        case TraceContext.traceparentName: carrier.traceparent
        case TraceContext.tracestateName: carrier.tracestate
        default: nil
        }
    }
}

/// Collects what a tracer injects, by lowercased header name.
struct TraceHeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key.lowercased()] = value
    }
}

/// The bootstrapped tracer, when there is one worth calling.
public enum WorkerTracing {
    /// The tracer of the `InstrumentationSystem`, or `nil` when it is the `NoOpTracer`: then the worker starts no
    /// span at all, and carries trace context from inputs to outputs by itself (``TraceContext/child(for:)``).
    public static var bootstrappedTracer: (any Tracer)? {
        let tracer = InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : tracer
    }

    /// Adds `trace.id` and `span.id` to every log line written while a service context with a trace context is the
    /// task's current one (inside the worker's spans).
    public static let logMetadata = Logger.MetadataProvider {
        ServiceContext.current?.traceContext.map(metadata) ?? [:]
    }

    /// Log metadata naming an input's or an output's trace context.
    static func metadata(_ trace: TraceContext) -> Logger.Metadata {
        ["trace.id": "\(trace.traceID)", "span.id": "\(trace.spanID)"]
    }
}

extension WorkerTracing {
    /// What `SPECTASK_TRACING` asks for.
    public enum Mode: String, Sendable, CaseIterable {
        /// No tracer (the default): the worker carries trace context from inputs to outputs and starts no span.
        case none
        /// The ``LogTracer``: spans as log lines at debug level.
        case log
    }

    /// Bootstraps the tracer `SPECTASK_TRACING` names (`none`, the default, or `log`); once per process, before the
    /// worker starts. An OpenTelemetry exporter can be bootstrapped instead by a program that embeds the worker.
    ///
    /// - Throws: ``ConfigurationError`` for another value.
    public static func bootstrap(_ environment: [String: String], logger: Logger) throws {
        let value = environment["SPECTASK_TRACING"] ?? ""
        guard let mode = value.isEmpty ? Mode.none : Mode(rawValue: value.lowercased()) else {
            throw ConfigurationError(
                "SPECTASK_TRACING is '\(value)'; expected one of \(Mode.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        switch mode {
        case .none: break
        case .log: InstrumentationSystem.bootstrap(LogTracer(logger: logger))
        }
    }
}
