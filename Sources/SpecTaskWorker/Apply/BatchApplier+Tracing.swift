import Logging
import SpecTaskContract
import SpecTaskDomain
import Tracing

// The batch's own span and the log lines about traced inputs; the spans of inputs and outputs are `OutputTracing`'s.
extension BatchApplier {
    /// A span `spectask.apply` for one batch, linked to every traced input. It is the task's service context while
    /// the batch runs, with its W3C trace context, so log lines written meanwhile carry its `trace.id`.
    func batchSpan(_ inputs: [Input], tracer: any Tracer) -> any Span {
        let span = tracer.startSpan("spectask.apply", context: .topLevel, ofKind: .consumer)
        span.attributes["messaging.batch.message_count"] = inputs.count
        for input in inputs {
            guard let trace = input.trace else { continue }
            span.addLink(SpanLink(context: trace.serviceContext(using: tracer), attributes: [:]))
        }
        return span
    }

    static func end(_ span: any Span, report: Report) {
        span.attributes["spectask.applied"] = report.applied
        span.attributes["spectask.rejected"] = report.rejected
        span.attributes["spectask.duplicates"] = report.duplicates
        span.end()
    }

    static func end(_ span: any Span, error: any Error) {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        span.end()
    }

    /// At debug level, a line per input with a trace context, so a trace can be followed through the logs.
    func logTraced(_ inputs: [Input]) {
        guard logger.logLevel <= .debug else { return }
        for input in inputs {
            guard let trace = input.trace else { continue }
            var metadata = WorkerTracing.metadata(trace)
            metadata["kafka.topic"] = "\(input.message.topic)"
            metadata["kafka.partition"] = "\(input.message.partition)"
            metadata["kafka.offset"] = "\(input.message.offset)"
            if let id = input.eventID { metadata["event.id"] = "\(id)" }
            logger.debug("traced input applied", metadata: metadata)
        }
    }
}
