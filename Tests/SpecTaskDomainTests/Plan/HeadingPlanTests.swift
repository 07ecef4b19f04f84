import SpecTaskDomain
import Testing

@Suite("Headings plans")
struct HeadingPlanTests {
    @Test(
        "task line variants",
        arguments: [
            ("## Task 1: Schema", "Schema"),
            ("## 1. Schema", "Schema"),
            ("### Task 1 - Schema", "Schema"),
            ("# Task 1 — Schema", "Schema"),
            ("## Task #1: Schema", "Schema"),
            ("## task 1: Schema", "Schema"),
            ("## Task 1 Schema", "Schema"),
            ("## Task 1: Schema ##", "Schema"),
            ("## 1) Schema", "Schema"),
            ("**Task 1: Schema**", "Schema"),
            ("**Task 1:** Schema", "Schema"),
            ("Task 1: Schema", "Schema"),
            ("## **Task 1: Schema**", "Schema"),
            ("## Task 1", "Task 1"),
        ]
    )
    func variants(line: String, title: String) throws {
        let tasks = try ImplementationPlanParser.parse("\(line)\nEffort: small\n")
        #expect(tasks.map(\.title) == [title])
        #expect(tasks.first?.effort == .small)
    }

    @Test(
        "lines that are not tasks",
        arguments: [
            "## 2024 roadmap", "## 1.2 Sub-step", "Task 1 is important", "  Task 1: indented", "#Task 1: no space",
        ]
    )
    func notTasks(line: String) throws {
        let tasks = try ImplementationPlanParser.parse("\(line)\nmore text\n")
        #expect(tasks.count == 1)
        #expect(tasks.first?.description == "\(line)\nmore text".trimmingWhitespace())
    }

    @Test("plan numbers are renumbered 1...n and dependencies follow")
    func renumbering() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 10: First
            ## Task 20: Second
            Depends on: 10
            ## Task 15: Third
            Depends on: Task 20, Task 10
            """
        )
        #expect(tasks.map(\.index) == [1, 2, 3])
        #expect(tasks.map(\.dependsOn) == [[], [1], [2, 1]])
    }

    @Test(
        "dependency spellings",
        arguments: [
            ("1, 2", [1, 2]),
            ("Task 1, Task 2", [1, 2]),
            ("tasks 1 and 2", [1, 2]),
            ("#1 & #2", [1, 2]),
            ("1; 2", [1, 2]),
            ("1 (schema), 2 (API)", [1, 2]),
            ("2, 2, 1", [2, 1]),
            ("1-3", [1, 2, 3]),
            ("Tasks 1 – 2", [1, 2]),
            ("1 - schema", [1]),
            ("none", []),
            ("None.", []),
            ("N/A", []),
            ("-", []),
            ("", []),
        ]
    )
    func dependencySpellings(value: String, expected: [Int]) throws {
        let tasks = try ImplementationPlanParser.parse(
            "## Task 1: A\n## Task 2: B\n## Task 3: C\n## Task 4: D\nDepends on: \(value)\n"
        )
        #expect(tasks[3].dependsOn == expected)
    }

    @Test("Dependencies: and bold field names are fields too")
    func fieldSpellings() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 1: A
            ## Task 2: B
            **Description:** Bold description.
            - **Effort**: Large
            **Acceptance Criteria:** it works
            Dependencies: 1
            """
        )
        #expect(tasks[1].description == "Bold description.")
        #expect(tasks[1].effort == .large)
        #expect(tasks[1].acceptanceCriteria == "it works")
        #expect(tasks[1].dependsOn == [1])
    }

    @Test("effort is case-insensitive and an empty effort means none")
    func effortSpellings() throws {
        let tasks = try ImplementationPlanParser.parse(
            "## Task 1: A\nEffort: SMALL\n## Task 2: B\nEffort: Medium.\n## Task 3: C\nEffort:\n"
        )
        #expect(tasks.map(\.effort) == [.small, .medium, nil])
    }

    @Test("fields continue on following lines; a blank line ends them and free text joins the description")
    func continuation() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 1: API
            Some context first.
            Description: Endpoints for
            sign-up and sign-in.
            Acceptance criteria:
            - validation on every endpoint
            - tests for failure paths
            Effort: large
            Text after a field that ends at once.

            A closing paragraph.
            """
        )
        #expect(
            tasks[0].description
                == "Some context first.\nEndpoints for\nsign-up and sign-in.\nText after a field that ends at once.\n\nA closing paragraph."
        )
        #expect(tasks[0].acceptanceCriteria == "- validation on every endpoint\n- tests for failure paths")
        #expect(tasks[0].effort == .large)
    }

    @Test("a heading that is not a task ends the last task; a deeper heading belongs to it")
    func otherHeadings() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            # Plan
            Introduction, not part of any task.
            ## Task 1: A
            ### Details
            Detail text.
            ## Task 2: B
            Description: B things.
            ## Notes
            These notes belong to no task.
            """
        )
        #expect(tasks.map(\.title) == ["A", "B"])
        #expect(tasks[0].description == "### Details\nDetail text.")
        #expect(tasks[1].description == "B things.")
    }

    @Test("numbered lines inside a headings plan are body text")
    func numberedLinesInBody() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 1: Schema
            Steps:
            1. create the tables
            2. add the index
            ## Task 2: API
            """
        )
        #expect(tasks.map(\.title) == ["Schema", "API"])
        #expect(tasks[0].description == "Steps:\n1. create the tables\n2. add the index")
    }

    @Test("numbered tasks may carry indented fields")
    func numberedWithFields() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            1. Schema
               Effort: small
            2) API
               Depends on: 1
               Handles sign-up.
            """
        )
        #expect(tasks.map(\.title) == ["Schema", "API"])
        #expect(tasks.map(\.effort) == [.small, nil])
        #expect(tasks[1].dependsOn == [1])
        #expect(tasks[1].description == "Handles sign-up.")
    }

    @Test("checkboxes under a heading task become its checklist")
    func checklistUnderHeading() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 2: API
            Description: Endpoints.
            - [x] Sign-up endpoint
              - _Requirements: 1.1_
            - [~] 2.7 Sign-in endpoint
              - returns a token
            _Requirements: 4.2_
            """
        )
        #expect(
            tasks[0].checklist == [
                ChecklistItem(number: "2.1", title: "Sign-up endpoint", state: .done, requirements: ["1.1"]),
                ChecklistItem(
                    number: "2.7",
                    title: "Sign-in endpoint",
                    state: .inProgress,
                    details: ["returns a token"]
                ),
            ]
        )
        #expect(tasks[0].requirements == ["4.2"])
        #expect(tasks[0].description == "Endpoints.")
    }

    @Test("a code block indented under a checklist item is its detail, otherwise description")
    func codeUnderChecklistItem() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 1: API
            - [ ] 1.1 Endpoint
              ```
              POST /sign-up
              ```
            ```
            curl localhost
            ```
            """
        )
        #expect(tasks[0].checklist[0].details == ["  ```", "  POST /sign-up", "  ```"])
        #expect(tasks[0].description == "```\ncurl localhost\n```")
    }

    @Test("parsed tasks become pending implementation tasks")
    func implementationTasks() throws {
        let parsed = try ImplementationPlanParser.parse(PlanFixtures.authHeadings)
        let tasks = parsed.map { ImplementationTask(parsed: $0, specTaskID: "st-1") }
        #expect(
            tasks.allSatisfy { $0.status == .pending && $0.specTaskID == "st-1" && $0.assignedWorkSessionID == nil }
        )
        #expect(tasks.map(\.title) == parsed.map(\.title))
        #expect(tasks.map(\.dependsOn) == parsed.map(\.dependsOn))
        #expect(tasks[0].acceptanceCriteria == parsed[0].acceptanceCriteria)
    }
}

extension String {
    /// The string without leading and trailing whitespace, without Foundation.
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
