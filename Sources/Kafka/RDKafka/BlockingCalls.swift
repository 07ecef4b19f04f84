import Dispatch
import Synchronization

/// Runs blocking librdkafka calls on threads outside Swift's cooperative pool,
/// so a poll or a synchronous commit never starves other tasks.
struct BlockingCalls: Sendable {
    let queue: DispatchQueue

    /// - Parameter serial: one call at a time, in order (the consumer's poll, close and seek must not overlap).
    init(label: String, serial: Bool) {
        queue = serial ? DispatchQueue(label: label) : DispatchQueue(label: label, attributes: .concurrent)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Repeats a blocking call on a dedicated thread until the calling task is cancelled.
/// Each `body` call must return within a short timeout so cancellation is noticed promptly.
func runBlockingLoop(label: String, _ body: @escaping @Sendable () -> Void) async {
    let stopRef = AtomicFlag()
    await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue(label: label).async {
                while !stopRef.isSet { body() }
                continuation.resume()
            }
        }
    } onCancel: {
        stopRef.set()
    }
}

/// A shareable one-way flag (an `Atomic` itself cannot be captured by escaping closures).
final class AtomicFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
