/// Where a spec task is in its life: planning, human review, implementation, and the end states.
///
/// Archiving is not a status: an archived task keeps its status and sets `SpecTask.archived`.
public enum SpecTaskStatus: String, LifecycleStatus {
    case backlog
    case specGeneration = "spec_generation"
    case specReview = "spec_review"
    case specRevision = "spec_revision"
    case specApproved = "spec_approved"
    case implementation
    case implementationReview = "implementation_review"
    case done
    case specFailed = "spec_failed"
    case implementationFailed = "implementation_failed"
    case cancelled

    public static let entityKind = EntityKind.specTask

    /// Cancelling is allowed from every non-terminal status; failed phases can be retried.
    public static let transitions: [SpecTaskStatus: Set<SpecTaskStatus>] = [
        .backlog: [.specGeneration, .cancelled],
        .specGeneration: [.specReview, .specFailed, .cancelled],
        .specReview: [.specApproved, .specRevision, .cancelled],
        // A revision either goes straight back to review or asks the planning agent to regenerate.
        .specRevision: [.specReview, .specGeneration, .specFailed, .cancelled],
        .specApproved: [.implementation, .cancelled],
        .implementation: [.implementationReview, .implementationFailed, .cancelled],
        // A reviewer who is not satisfied sends the task back to implementation.
        .implementationReview: [.done, .implementation, .cancelled],
        .specFailed: [.specGeneration, .cancelled],
        .implementationFailed: [.implementation, .cancelled],
        .done: [],
        .cancelled: [],
    ]
}
