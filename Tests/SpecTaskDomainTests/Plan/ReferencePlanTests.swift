import SpecTaskDomain
import Testing

/// The sample plans of `reference/plans/`, with exact expectations.
@Suite("Reference plans")
struct ReferencePlanTests {
    @Test("auth-headings.md: five tasks with titles, efforts, dependencies and fields")
    func authHeadings() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.authHeadings)
        #expect(tasks.map(\.index) == [1, 2, 3, 4, 5])
        #expect(
            tasks.map(\.title) == [
                "Database schema", "Backend API", "Frontend UI", "Security hardening", "End-to-end tests",
            ]
        )
        #expect(tasks.map(\.effort) == [.small, .large, .medium, .medium, .small])
        #expect(tasks.map(\.dependsOn) == [[], [1], [2], [2], [3, 4]])
        #expect(tasks.allSatisfy { !$0.parallel && $0.checklist.isEmpty && $0.requirements.isEmpty })

        #expect(tasks[0].description == "Tables for users, credentials and sessions, with migrations.")
        // The criteria continue on the next line until the Effort field.
        #expect(
            tasks[0].acceptanceCriteria
                == "migrations apply on an empty database and roll back cleanly;\nunique index on the normalised email."
        )
        #expect(
            tasks[1].acceptanceCriteria
                == "every endpoint has request validation and tests for the failure paths."
        )
        #expect(tasks[2].acceptanceCriteria == "")
        #expect(tasks[2].description == "Sign-in and sign-up forms, session expiry handling.")
        #expect(tasks[3].acceptanceCriteria == "brute force of one account is throttled; audit log entries exist.")
        #expect(tasks[4].description == "Browser tests for the full sign-up → sign-in → sign-out journey.")
    }

    @Test("kiro-tasks.md: four major tasks, (P) flags, checklist states and requirements")
    func kiroTasks() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.kiroTasks)
        #expect(
            tasks.map(\.title) == [
                "Set up the profiling harness", "Optimise database access", "Optimise the frontend bundle",
                "Verify the improvement",
            ]
        )
        #expect(tasks.map(\.index) == [1, 2, 3, 4])
        #expect(tasks.map(\.parallel) == [false, true, true, false])
        #expect(tasks.allSatisfy { $0.dependsOn.isEmpty && $0.effort == nil })

        #expect(
            tasks[0].checklist == [
                ChecklistItem(
                    number: "1.1",
                    title: "Add request timing middleware to the dashboard API",
                    state: .pending,
                    requirements: ["1.1"],
                    details: ["Record p50/p95 per endpoint"]
                ),
                ChecklistItem(
                    number: "1.2",
                    title: "Capture slow query log for the dashboard queries",
                    state: .pending,
                    requirements: ["1.2", "2.1"]
                ),
            ]
        )
        #expect(
            tasks[1].checklist == [
                ChecklistItem(
                    number: "2.1",
                    title: "Add composite index for the activity feed query",
                    requirements: ["2.1"]
                ),
                ChecklistItem(
                    number: "2.2",
                    title: "Remove N+1 queries in the widgets loader",
                    state: .done,
                    requirements: ["2.2"]
                ),
            ]
        )
        #expect(
            tasks[2].checklist == [
                ChecklistItem(number: "3.1", title: "Split the charting library into a lazy chunk"),
                ChecklistItem(
                    number: "3.2",
                    title: "Memoise the widget grid",
                    state: .inProgress,
                    requirements: ["3.1"]
                ),
            ]
        )
        // Bullets directly under a major task are its description and requirements.
        #expect(tasks[3].checklist.isEmpty)
        #expect(tasks[3].description == "Compare before/after timings against the targets in the requirements")
        #expect(tasks[3].requirements == ["1.1", "2.1", "3.1"])
        #expect(tasks[0...2].allSatisfy { $0.description.isEmpty && $0.requirements.isEmpty })
    }

    @Test("numbered-simple.md: three tasks, the introduction is not a task")
    func numberedSimple() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.numberedSimple)
        #expect(
            tasks.map(\.title) == [
                "Add the contact form component with name, email and message fields",
                "Add a backend endpoint that validates the form and queues an email",
                "Add tests for validation errors and the happy path",
            ]
        )
        #expect(tasks.map(\.index) == [1, 2, 3])
        #expect(tasks.allSatisfy { $0.dependsOn.isEmpty && $0.description.isEmpty && $0.effort == nil })
    }

    @Test("free-form.md: one task titled by the first line, the whole text as description")
    func freeForm() throws {
        let tasks = try ImplementationPlanParser.parse(PlanFixtures.freeForm)
        #expect(
            tasks == [
                ParsedTask(
                    index: 1,
                    title: #"Add a "Contact us" link to the footer that opens the existing contact page."#,
                    description: """
                        Add a "Contact us" link to the footer that opens the existing contact page.
                        No other changes are needed; the page already exists and is tested.
                        """
                )
            ]
        )
    }

    @Test("invalid-cycle.md: a cycle error naming tasks 1 and 2")
    func invalidCycle() {
        let error = #expect(throws: PlanError.self) { try ImplementationPlanParser.parse(PlanFixtures.invalidCycle) }
        #expect(error?.code == .dependencyCycle)
        #expect(error?.taskNumbers == [1, 2])
        #expect(error?.message.hasPrefix("dependency cycle between tasks 1 → 2 → 1") == true)
        #expect(error?.line == 1)
    }

    @Test("the fixtures are the files verbatim, final newline included")
    func fixturesEndWithNewline() {
        for fixture in [
            PlanFixtures.authHeadings, PlanFixtures.kiroTasks, PlanFixtures.numberedSimple, PlanFixtures.freeForm,
            PlanFixtures.invalidCycle,
        ] {
            #expect(fixture.hasSuffix("\n") && !fixture.hasSuffix("\n\n"))
        }
        #expect(PlanFixtures.authHeadings.utf8.count == 989)
        #expect(PlanFixtures.kiroTasks.utf8.count == 782)
        #expect(PlanFixtures.numberedSimple.utf8.count == 222)
        #expect(PlanFixtures.freeForm.utf8.count == 144)
        #expect(PlanFixtures.invalidCycle.utf8.count == 99)
    }
}
