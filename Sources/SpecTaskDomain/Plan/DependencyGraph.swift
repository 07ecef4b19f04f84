/// Ordering and scheduling of tasks by their dependencies.
public enum DependencyGraph {
    /// The task indexes in an order where every task comes after its dependencies; among the
    /// tasks that could come next, the lowest index goes first, so the order is stable.
    ///
    /// A parsed plan never has cycles or unknown dependencies. For other input, dependencies on
    /// indexes that are not in `tasks` are ignored, and tasks that cannot be ordered because
    /// they are on (or behind) a cycle are appended in index order.
    ///
    /// - Parameter tasks: The tasks of one plan.
    /// - Returns: Every index of `tasks`, each once.
    public static func dependencyOrder<Task: DependentTask>(_ tasks: [Task]) -> [Int] {
        let sorted = topologicalSort(tasks)
        return sorted.order + sorted.unordered.sorted()
    }

    /// The tasks that can start now: not started, not completed, and every dependency completed.
    ///
    /// A dependency on an index that never completes (including one that is not in `tasks`)
    /// keeps the task waiting.
    ///
    /// - Parameters:
    ///   - tasks: The tasks of one plan.
    ///   - completed: Indexes of completed tasks.
    ///   - started: Indexes of tasks that have a work session already.
    /// - Returns: Indexes in plan order.
    public static func readyTasks<Task: DependentTask>(tasks: [Task], completed: Set<Int>, started: Set<Int>) -> [Int] {
        tasks
            .filter { task in
                !completed.contains(task.index) && !started.contains(task.index)
                    && task.dependsOn.allSatisfy(completed.contains)
            }
            .map(\.index)
            .sorted()
    }

    /// A dependency cycle, if there is one, as indexes from the smallest index on the cycle
    /// back to itself: `[1, 2, 1]` reads "1 depends on 2, which depends on 1". A task that
    /// depends on itself is the cycle `[n, n]`.
    ///
    /// - Parameter tasks: The tasks of one plan.
    /// - Returns: `nil` when the dependencies can be ordered.
    public static func cycle<Task: DependentTask>(in tasks: [Task]) -> [Int]? {
        let sorted = topologicalSort(tasks)
        guard !sorted.unordered.isEmpty else { return nil }
        // Every unordered task waits on at least one other unordered task, so following such a
        // dependency from any of them must come back to a task already seen.
        let unordered = Set(sorted.unordered)
        let dependencies = Dictionary(tasks.map { ($0.index, $0.dependsOn) }, uniquingKeysWith: { first, _ in first })
        var path: [Int] = []
        var positionInPath: [Int: Int] = [:]
        var node = sorted.unordered.min()!
        while positionInPath[node] == nil {
            positionInPath[node] = path.count
            path.append(node)
            node = dependencies[node, default: []].filter(unordered.contains).min()!
        }
        let loop = Array(path[positionInPath[node]!...])
        let start = loop.firstIndex(of: loop.min()!)!
        let rotated = Array(loop[start...] + loop[..<start])
        return rotated + [rotated[0]]
    }

    // MARK: - Kahn's algorithm

    /// Kahn's algorithm with a min-heap, so ties go to the lowest index.
    private static func topologicalSort<Task: DependentTask>(_ tasks: [Task]) -> (order: [Int], unordered: [Int]) {
        let known = Set(tasks.map(\.index))
        var waitingOn: [Int: Int] = [:]
        var dependents: [Int: [Int]] = [:]
        for task in tasks where waitingOn[task.index] == nil {
            let dependencies = Set(task.dependsOn).filter(known.contains)
            waitingOn[task.index] = dependencies.count
            for dependency in dependencies {
                dependents[dependency, default: []].append(task.index)
            }
        }

        var ready = IndexHeap(waitingOn.filter { $0.value == 0 }.map(\.key))
        var order: [Int] = []
        order.reserveCapacity(waitingOn.count)
        while let next = ready.popMin() {
            order.append(next)
            for dependent in dependents[next, default: []] {
                waitingOn[dependent]! -= 1
                if waitingOn[dependent] == 0 { ready.insert(dependent) }
            }
        }
        let unordered = waitingOn.filter { $0.value > 0 }.map(\.key)
        return (order, unordered)
    }
}
