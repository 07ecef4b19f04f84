/// Why an implementation plan could not be turned into tasks.
///
/// The message names the offending tasks by the numbers written in the plan, so the
/// planning agent (or a human) can find and fix them.
public struct PlanError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of problem the plan has.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The plan holds no text at all.
        case emptyPlan = "empty_plan"
        /// Two tasks carry the same number.
        case duplicateTaskNumber = "duplicate_task_number"
        /// A task depends on a number no task has.
        case missingDependency = "missing_dependency"
        /// A task depends on itself.
        case selfDependency = "self_dependency"
        /// Tasks depend on each other in a circle.
        case dependencyCycle = "dependency_cycle"
        /// An `Effort:` value other than small, medium or large.
        case invalidEffort = "invalid_effort"
        /// A `Depends on:` entry that is not a task number.
        case invalidDependency = "invalid_dependency"
    }

    public var code: Code
    /// A human-readable explanation, naming the tasks by their plan numbers.
    public var message: String
    /// The plan numbers of the tasks involved, in the order the message names them.
    public var taskNumbers: [Int]
    /// The 1-based line of the plan the problem was found on, when there is one.
    public var line: Int?

    /// Creates a plan error.
    public init(code: Code, message: String, taskNumbers: [Int] = [], line: Int? = nil) {
        self.code = code
        self.message = message
        self.taskNumbers = taskNumbers
        self.line = line
    }

    public var description: String {
        line.map { "\(message) (line \($0))" } ?? message
    }
}
