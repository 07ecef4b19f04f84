import SpecTaskDomain
import Testing

@Suite("Kiro plans")
struct KiroPlanTests {
    @Test("check states: [ ] pending, [~] in progress, [x] and [X] done")
    func checkStates() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            - [ ] 1. Task
              - [ ] 1.1 a
              - [~] 1.2 b
              - [x] 1.3 c
              - [X] 1.4 d
            """
        )
        #expect(tasks[0].checklist.map(\.state) == [.pending, .inProgress, .done, .done])
        #expect(tasks[0].checklist.map(\.number) == ["1.1", "1.2", "1.3", "1.4"])
        #expect(tasks[0].checklist.map(\.title) == ["a", "b", "c", "d"])
    }

    @Test("unnumbered items: majors numbered by position, sub-tasks after their task")
    func unnumbered() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            - [ ] Write the migration
            - [x] Write the endpoint (P)
                - [ ] Validate input
                - [ ] Return errors
            """
        )
        #expect(tasks.map(\.index) == [1, 2])
        #expect(tasks.map(\.title) == ["Write the migration", "Write the endpoint"])
        #expect(tasks.map(\.parallel) == [false, true])
        #expect(tasks[1].checklist.map(\.number) == ["2.1", "2.2"])
    }

    @Test("a (P) marker before the title, the optional marker and a flat sub-task list")
    func markers() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            * [ ] 1. (P) Index the feed
            * [ ]* 1.1 Write benchmark
            * [ ] 1.2 Add the index
            * [ ] 2. Ship it (p)
            """
        )
        #expect(tasks.map(\.title) == ["Index the feed", "Ship it"])
        #expect(tasks.map(\.parallel) == [true, true])
        #expect(tasks[0].checklist.map(\.number) == ["1.1", "1.2"])
        #expect(tasks[0].checklist.map(\.title) == ["Write benchmark", "Add the index"])
    }

    @Test("details and requirements attach by indentation")
    func attachment() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            # Tasks

            - [ ] 1. Harness
              - Context for the whole task
              - _Requirements: 9.9_
              - [ ] 1.1 Timing
                - detail of 1.1
                  continued text of 1.1
                - *Requirements: 1.1, 1.2*
              - Back at task level after the sub-task
            Top-level commentary that belongs to no task.
            - [ ] 2. Next
            """
        )
        #expect(tasks.count == 2)
        #expect(tasks[0].description == "Context for the whole task\nBack at task level after the sub-task")
        #expect(tasks[0].requirements == ["9.9"])
        #expect(tasks[0].checklist[0].details == ["detail of 1.1", "continued text of 1.1"])
        #expect(tasks[0].checklist[0].requirements == ["1.1", "1.2"])
        #expect(tasks[1].description.isEmpty)
    }

    @Test("numbered lines inside a Kiro plan are not tasks")
    func numberedLines() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            Steps overview:
            1. measure
            2. optimise

            - [ ] 1. Measure
            - [ ] 2. Optimise
            """
        )
        #expect(tasks.map(\.title) == ["Measure", "Optimise"])
    }

    @Test("a section heading ends the task before it")
    func sectionHeading() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Phase one
            - [ ] 1. First
            ## Phase two
              - orphan bullet under a heading
            - [ ] 2. Second
            """
        )
        #expect(tasks.map(\.title) == ["First", "Second"])
        #expect(tasks.allSatisfy { $0.description.isEmpty })
    }

    @Test("duplicate major numbers are an error")
    func duplicates() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("- [ ] 1. A\n- [ ] 2. B\n- [ ] 2. C\n")
        }
        #expect(error?.code == .duplicateTaskNumber)
        #expect(error?.taskNumbers == [2])
        #expect(error?.message == "task number 2 is used twice (lines 2 and 3); give every task its own number")
    }

    @Test("a code block under a sub-task is kept verbatim in its details")
    func codeInDetails() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            - [ ] 1. Task
              - [ ] 1.1 Sub
                ```sql
                - [ ] 9. not a task
                ```
            """
        )
        #expect(tasks.count == 1)
        #expect(
            tasks[0].checklist[0].details == ["    ```sql", "    - [ ] 9. not a task", "    ```"]
        )
    }
}
