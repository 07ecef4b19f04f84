/// A task that has a position in its plan and depends on other tasks by position.
///
/// Lets ``DependencyGraph`` work on parsed plans and on stored implementation tasks alike.
public protocol DependentTask {
    /// Position in the plan, 1...n; unique within one plan.
    var index: Int { get }
    /// Indexes of the tasks that must be completed first.
    var dependsOn: [Int] { get }
}

extension ParsedTask: DependentTask {}
extension ImplementationTask: DependentTask {}
