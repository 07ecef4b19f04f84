import SpecTaskDomain
import Testing

@Suite("DependencyGraph")
struct DependencyGraphTests {
    private func tasks(_ dependencies: [Int: [Int]]) -> [ParsedTask] {
        dependencies.keys.sorted().map { ParsedTask(index: $0, title: "Task \($0)", dependsOn: dependencies[$0]!) }
    }

    @Test("dependency order of the auth plan")
    func authOrder() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.authHeadings)
        #expect(DependencyGraph.dependencyOrder(tasks) == [1, 2, 3, 4, 5])
    }

    @Test("dependencies come first; ties go to the lowest index")
    func stableOrder() {
        #expect(DependencyGraph.dependencyOrder(tasks([1: [3], 2: [], 3: []])) == [2, 3, 1])
        #expect(DependencyGraph.dependencyOrder(tasks([1: [4], 2: [4], 3: [], 4: [3]])) == [3, 4, 1, 2])
        #expect(DependencyGraph.dependencyOrder(tasks([1: [], 2: [], 3: []])) == [1, 2, 3])
        #expect(DependencyGraph.dependencyOrder([ParsedTask]()) == [])
    }

    @Test("input order does not matter")
    func inputOrder() {
        let shuffled = [
            ParsedTask(index: 3, title: "c", dependsOn: [1]),
            ParsedTask(index: 1, title: "a"),
            ParsedTask(index: 2, title: "b", dependsOn: [3]),
        ]
        #expect(DependencyGraph.dependencyOrder(shuffled) == [1, 3, 2])
        #expect(DependencyGraph.readyTasks(tasks: shuffled, completed: [1], started: [1]) == [3])
    }

    @Test("tasks on or behind a cycle, and unknown dependencies, are handled")
    func unorderable() {
        #expect(DependencyGraph.dependencyOrder(tasks([1: [2], 2: [1], 3: [], 4: [1]])) == [3, 1, 2, 4])
        #expect(DependencyGraph.dependencyOrder(tasks([1: [9], 2: []])) == [1, 2])
    }

    @Test("cycles are found and named from the lowest index")
    func cycles() {
        #expect(DependencyGraph.cycle(in: tasks([1: [], 2: [1]])) == nil)
        #expect(DependencyGraph.cycle(in: tasks([1: [2], 2: [1]])) == [1, 2, 1])
        #expect(DependencyGraph.cycle(in: tasks([1: [], 2: [3], 3: [4], 4: [2], 5: [4]])) == [2, 3, 4, 2])
        #expect(DependencyGraph.cycle(in: tasks([1: [], 2: [2]])) == [2, 2])
    }

    @Test("ready tasks of the auth plan as work completes")
    func readyTasks() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.authHeadings)
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [], started: []) == [1])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [], started: [1]) == [])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [1], started: [1]) == [2])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [1, 2], started: [1, 2]) == [3, 4])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [1, 2], started: [1, 2, 4]) == [3])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [1, 2, 3], started: [1, 2, 3, 4]) == [])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [1, 2, 3, 4], started: [1, 2, 3, 4]) == [5])
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [1, 2, 3, 4, 5], started: []) == [])
    }

    @Test("Kiro tasks have no dependencies, so all are ready at once")
    func kiroReady() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.kiroTasks)
        #expect(DependencyGraph.readyTasks(tasks: tasks, completed: [], started: [2]) == [1, 3, 4])
    }

    @Test("a dependency that can never complete keeps a task waiting")
    func missingDependencyWaits() {
        #expect(DependencyGraph.readyTasks(tasks: tasks([1: [], 2: [9]]), completed: [1], started: [1]) == [])
    }

    @Test("works on stored implementation tasks too")
    func implementationTasks() {
        let stored = [
            ImplementationTask(specTaskID: "st", index: 1, title: "a", status: .completed),
            ImplementationTask(specTaskID: "st", index: 2, title: "b", dependsOn: [1]),
        ]
        #expect(DependencyGraph.dependencyOrder(stored) == [1, 2])
        #expect(DependencyGraph.readyTasks(tasks: stored, completed: [1], started: [1]) == [2])
    }
}
