import SpecTaskContract
import SpecTaskDomain
import Tracing

/// The trace contexts of a batch's outputs: each output of an input with a trace context gets a child of it.
///
/// Without a tracer (the default) that is all: the child's span id is derived from the input's and the output's
/// event id (``TraceContext/child(for:)``), no span is started, nothing is allocated for inputs without a context.
/// With one, each traced input gets a span `spectask.apply <type>` in its own trace (linked to the batch's span),
/// and each of its outputs a span `spectask.create <type>` under it, whose context the output carries: so a
/// downstream consumer's span has a parent the tracer knows. These spans end only when the batch commits; the spans
/// of a batch rolled back (or decided again) never end, and are never reported.
struct OutputTracing {
    let tracer: (any Tracer)?
    /// The batch's span: every input span links to it.
    let batchContext: ServiceContext?
    /// Started, to be ended once the batch committed.
    private(set) var spans: [any Span] = []

    init(tracer: (any Tracer)?, batchContext: ServiceContext?) {
        self.tracer = tracer
        self.batchContext = batchContext
    }

    /// The context the outputs of an input are children of: the input's own, or with a tracer its apply span's.
    ///
    /// - Parameters:
    ///   - trace: The input's trace context, if it had a valid one.
    ///   - type: The input's CloudEvent type, naming the span.
    ///   - attributes: What identifies the input (topic, partition, offset, event id).
    mutating func input(
        _ trace: TraceContext?,
        type: String,
        attributes: @autoclosure () -> SpanAttributes
    )
        -> TraceContext?
    {
        guard let trace, let tracer else { return trace }
        let span = tracer.startSpan(
            "spectask.apply \(type)",
            context: trace.serviceContext(using: tracer),
            ofKind: .consumer
        )
        span.attributes = attributes()
        if let batchContext { span.addLink(SpanLink(context: batchContext, attributes: [:])) }
        spans.append(span)
        return TraceContext(span.context, using: tracer) ?? trace
    }

    /// The trace context of one output of the input whose (``input(_:type:attributes:)``) context is `parent`.
    mutating func output(of parent: TraceContext?, eventID: String, type: String) -> TraceContext? {
        guard let parent else { return nil }
        guard let tracer else { return parent.child(for: eventID) }
        let span = tracer.startSpan(
            "spectask.create \(type)",
            context: parent.serviceContext(using: tracer),
            ofKind: .producer
        )
        span.attributes["messaging.message.id"] = eventID
        spans.append(span)
        return TraceContext(span.context, using: tracer) ?? parent.child(for: eventID)
    }
}
