import SpecTaskDomain
import Testing

@Suite("Plan edge cases")
struct PlanEdgeCaseTests {
    // MARK: - Code blocks

    @Test("a task heading inside a fenced code block is text", arguments: ["```", "~~~", "````markdown"])
    func fencedTaskHeading(fence: String) throws {
        let closing = String(fence.prefix(while: { $0 == fence.first }))
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 1: Document the format
            Description: Show an example:
            \(fence)
            ## Task 9: nope
            Depends on: 7

            Effort: enormous
            \(closing)
            ## Task 2: Ship
            """
        )
        #expect(tasks.map(\.title) == ["Document the format", "Ship"])
        #expect(tasks[0].effort == nil)
        #expect(tasks[0].dependsOn.isEmpty)
        #expect(
            tasks[0].description
                == "Show an example:\n\(fence)\n## Task 9: nope\nDepends on: 7\n\nEffort: enormous\n\(closing)"
        )
    }

    @Test("a plan whose only task heading is fenced is one free-form task")
    func onlyFencedTask() throws {
        let plan = "Change the footer.\n\n```\n## Task 9: nope\n- [ ] 1. nope\n1. nope\n```\n"
        let tasks = try ImplementationPlanParser.parse(plan)
        #expect(tasks.count == 1)
        #expect(tasks[0].title == "Change the footer.")
        #expect(tasks[0].description == "Change the footer.\n\n```\n## Task 9: nope\n- [ ] 1. nope\n1. nope\n```")
    }

    @Test("a closing fence must use the same character; an unclosed fence runs to the end")
    func unclosedFence() throws {
        let tasks = try ImplementationPlanParser.parse("## Task 1: A\n```\n~~~\n## Task 2: inside\n")
        #expect(tasks.map(\.title) == ["A"])
    }

    // MARK: - Errors

    @Test("a dependency on a missing task names both numbers")
    func missingDependency() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\n\n## Task 2: B\nDepends on: 1, 7\n")
        }
        #expect(error?.code == .missingDependency)
        #expect(error?.taskNumbers == [2, 7])
        #expect(error?.line == 3)
        #expect(
            error?.message == #"task 2 depends on task 7, which is not in the plan; fix its "Depends on" line"#
        )
    }

    @Test("a task depending on itself is an error")
    func selfDependency() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\n## Task 2: B\nDepends on: 1, 2\n")
        }
        #expect(error?.code == .selfDependency)
        #expect(error?.taskNumbers == [2])
        #expect(error?.message == #"task 2 depends on itself; remove 2 from its "Depends on" line"#)
    }

    @Test("a longer cycle is named from its lowest task, not counting tasks outside it")
    func longerCycle() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse(
                """
                ## Task 1: Free
                ## Task 2: B
                Depends on: 4
                ## Task 3: C
                Depends on: 2
                ## Task 4: D
                Depends on: 3
                ## Task 5: Behind the cycle
                Depends on: 4
                """
            )
        }
        #expect(error?.code == .dependencyCycle)
        #expect(error?.taskNumbers == [2, 4, 3])
        #expect(
            error?.message == "dependency cycle between tasks 2 → 4 → 3 → 2; remove one of these dependencies"
        )
    }

    @Test("cycle messages use the plan's numbers, not indexes")
    func cycleUsesPlanNumbers() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 10: A\nDepends on: 20\n## Task 20: B\nDepends on: 10\n")
        }
        #expect(error?.taskNumbers == [10, 20])
        #expect(error?.message.hasPrefix("dependency cycle between tasks 10 → 20 → 10") == true)
    }

    @Test("an unknown effort is an error naming the task")
    func badEffort() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\nEffort: small\n## Task 2: B\nEffort: huge\n")
        }
        #expect(error?.code == .invalidEffort)
        #expect(error?.taskNumbers == [2])
        #expect(error?.line == 4)
        #expect(error?.message == #"task 2 has effort "huge"; effort must be small, medium or large"#)
        #expect(error?.description == #"task 2 has effort "huge"; effort must be small, medium or large (line 4)"#)
    }

    @Test("an unreadable dependency is an error naming the task")
    func badDependency() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\n## Task 2: B\nDepends on: the schema task\n")
        }
        #expect(error?.code == .invalidDependency)
        #expect(error?.taskNumbers == [2])
        #expect(error?.message.hasPrefix(#"task 2 depends on "the schema task", which is not a task number"#) == true)
    }

    @Test("a backwards or huge dependency range is an error", arguments: ["3-1", "1-100000"])
    func badRange(range: String) {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\n## Task 2: B\n## Task 3: C\nDepends on: \(range)\n")
        }
        #expect(error?.code == .invalidDependency)
    }

    @Test("duplicate task numbers are an error naming the number and both lines")
    func duplicateNumbers() {
        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\n## Task 2: B\n\n## Task 2: C\n")
        }
        #expect(error?.code == .duplicateTaskNumber)
        #expect(error?.taskNumbers == [2])
        #expect(error?.message == "task number 2 is used twice (lines 2 and 4); give every task its own number")
    }

    @Test("an empty plan is an error", arguments: ["", "   ", "\n\n", " \r\n\t\r\n"])
    func emptyPlan(plan: String) {
        let error = #expect(throws: PlanError.self) { try ImplementationPlanParser.parse(plan) }
        #expect(error?.code == .emptyPlan)
    }

    // MARK: - Line endings and text

    @Test("CRLF and CR line endings parse like LF", arguments: ["\r\n", "\r"])
    func lineEndings(separator: String) throws {
        for plan in [PlanFixtures.authHeadings, PlanFixtures.kiroTasks, PlanFixtures.numberedSimple] {
            let converted = plan.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: separator)
            #expect(try ImplementationPlanParser.parse(converted) == ImplementationPlanParser.parse(plan))
        }
        let freeForm = try ImplementationPlanParser.parse("Title line\(separator)second line\(separator)")
        #expect(freeForm[0].title == "Title line")
        #expect(freeForm[0].description == "Title line\nsecond line")
    }

    @Test("free-form titles drop heading markers and skip blank lines")
    func freeFormTitle() throws {
        let tasks = try ImplementationPlanParser.parse("\n\n#\n### Fix the footer link\nIt points to /contcat.\n")
        #expect(tasks[0].title == "Fix the footer link")
        #expect(tasks[0].description == "#\n### Fix the footer link\nIt points to /contcat.")
    }

    @Test("unicode titles survive unchanged")
    func unicode() throws {
        let tasks = try ImplementationPlanParser.parse(
            """
            ## Task 1: Überprüfung der Anmeldung 🔐
            ## Task 2: 日本語のタイトル
            Depends on: 1
            - [x] e\u{301}tape accentuée
            ## Task 3: 👩‍👩‍👧 families — and “quotes”
            """
        )
        #expect(tasks.map(\.title) == ["Überprüfung der Anmeldung 🔐", "日本語のタイトル", "👩‍👩‍👧 families — and “quotes”"])
        #expect(tasks[1].checklist.first?.title == "étape accentuée")
        #expect(tasks[1].dependsOn == [1])
    }

    // MARK: - Hostile input

    @Test("very long lines are handled")
    func longLines() throws {
        let longTitle = String(repeating: "x", count: 200_000)
        let longText = String(repeating: "word ", count: 200_000)
        let tasks = try ImplementationPlanParser.parse(
            "## Task 1: \(longTitle)\nDescription: \(longText)\n\(String(repeating: "#", count: 100_000)) \(longText)\n"
        )
        #expect(tasks.count == 1)
        #expect(tasks[0].title.count == 200_000)

        let error = #expect(throws: PlanError.self) {
            try ImplementationPlanParser.parse("## Task 1: A\nEffort: \(longText)\n")
        }
        #expect((error?.message.count ?? .max) < 120)  // the offending value is shortened
    }

    @Test("10,000 heading tasks in a dependency chain parse")
    func tenThousandHeadingTasks() throws {
        var plan = "# Big plan\n"
        for number in 1...10_000 {
            plan += "## Task \(number): Step \(number)\nEffort: small\n"
            if number > 1 { plan += "Depends on: \(number - 1)\n" }
        }
        let tasks = try ImplementationPlanParser.parse(plan)
        #expect(tasks.count == 10_000)
        #expect(tasks.last?.title == "Step 10000")
        #expect(tasks.last?.dependsOn == [9_999])
        #expect(DependencyGraph.dependencyOrder(tasks) == Array(1...10_000))
    }

    @Test("10,000 Kiro tasks parse")
    func tenThousandKiroTasks() throws {
        var plan = ""
        for number in 1...10_000 {
            plan += "- [ ] \(number). Task \(number) (P)\n  - [x] \(number).1 Sub\n    - _Requirements: 1.1_\n"
        }
        let tasks = try ImplementationPlanParser.parse(plan)
        #expect(tasks.count == 10_000)
        #expect(tasks.allSatisfy { $0.parallel && $0.checklist.count == 1 })
    }

    @Test("numbers too large for a task are not tasks and do not crash")
    func hugeNumbers() throws {
        let tasks = try ImplementationPlanParser.parse(
            "## Task 99999999999999999999999: A\n- [ ] 99999999999999999999. B\n"
        )
        #expect(tasks.count == 1)
        #expect(tasks[0].title == "99999999999999999999. B")
    }

    @Test(
        "stray markup does not crash the parser",
        arguments: [
            "- [", "- [ ]", "- [ ] ", "* ", "#", "######## x", "1.", "```", "Task", "Task 1", "**", "_Requirements:_",
            "Effort:",
        ]
    )
    func strayMarkup(plan: String) throws {
        let tasks = try ImplementationPlanParser.parse(plan)
        #expect(tasks.count == 1)
        #expect(!tasks[0].title.isEmpty)
    }
}
