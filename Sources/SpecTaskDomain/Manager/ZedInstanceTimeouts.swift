#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// When a Zed instance has gone without news from its runner for too long, and the event that says so.
///
/// The worker's sweeper asks for the instance it loaded under the spec task's locks and applies the answer
/// through ``SpecTaskManager/decide(_:_:context:)`` like a runner's event. Once applied, the instance's status no
/// longer calls for that timeout, so a second sweeper that loads it afterwards finds nothing due.
public struct ZedInstanceTimeouts: Sendable, Hashable {
    /// A pending instance whose runner has not reported within this long of the instance's creation fails.
    public var ready: Duration
    /// A ready instance with no report for this long becomes disconnected (its active threads too).
    public var heartbeat: Duration
    /// A disconnected instance with no report for this long (counted from the last one) fails.
    public var failAfter: Duration

    public init(ready: Duration, heartbeat: Duration, failAfter: Duration) {
        self.ready = ready
        self.heartbeat = heartbeat
        self.failAfter = failAfter
    }

    /// A timeout that is due.
    public struct Due: Sendable, Hashable {
        /// What applies it: `instance_disconnected`, or `instance_error` (which fails the instance with its
        /// running sessions).
        public var event: ZedEvent
        /// The input id to apply it under: it names the instance, the step and the moment the silence is counted
        /// from, so it is unique per timeout and the same if this very timeout were decided again.
        public var id: String
        /// How long the runner has been silent, in seconds.
        public var silence: TimeInterval
    }

    /// The timeout due for `instance` at `now`, or `nil` when none is.
    ///
    /// - A `pending` instance (no report from its runner yet) older than ``ready`` fails; one without a
    ///   creation time (stored before it was recorded) never times out.
    /// - A `ready` one silent for ``heartbeat`` becomes disconnected; a `disconnected` one silent for
    ///   ``failAfter`` fails.
    public func due(for instance: ZedInstance, at now: Date) -> Due? {
        switch instance.status {
        case .pending:
            guard let createdAt = instance.createdAt else { return nil }
            let waited = now.timeIntervalSince(createdAt)
            guard waited >= Self.seconds(ready) else { return nil }
            let error =
                "no instance_ready from its runner within \(ready) of its creation (waited \(Int(waited)) s)"
            return Due(
                event: .instanceError(ZedInstanceError(instanceID: instance.id, error: error)),
                id: Self.id(instance, step: "ready_timeout", since: createdAt),
                silence: waited
            )
        case .ready, .disconnected:
            guard let lastHeartbeat = instance.lastHeartbeatAt else { return nil }
            let silence = now.timeIntervalSince(lastHeartbeat)
            let heard = "no heartbeat for \(Int(silence)) s"
            let event: ZedEvent
            if instance.status == .ready {
                guard silence >= Self.seconds(heartbeat) else { return nil }
                event = .instanceDisconnected(
                    ZedInstanceDisconnected(instanceID: instance.id, reason: "\(heard) (timeout \(heartbeat))")
                )
            } else {
                guard silence >= Self.seconds(failAfter) else { return nil }
                event = .instanceError(
                    ZedInstanceError(instanceID: instance.id, error: "\(heard) (fails after \(failAfter))")
                )
            }
            return Due(event: event, id: Self.id(instance, step: event.name, since: lastHeartbeat), silence: silence)
        case .failed, .stopped:
            return nil
        }
    }

    /// `sweep.<instance>.<step>.<milliseconds since 1970 of the moment the silence counts from>`.
    private static func id(_ instance: ZedInstance, step: String, since moment: Date) -> String {
        "sweep.\(instance.id).\(step).\(Int64(moment.timeIntervalSince1970 * 1000))"
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
