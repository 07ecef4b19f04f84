import Foundation
import SpecTaskDomain
import Testing

@Suite("SpecTaskManager: creating, archiving, shared context, concurrency limit")
struct ManagerSpecTaskTests {
    // MARK: - Create

    @Test("create makes a backlog task from the payload and announces it")
    func create() throws {
        var scenario = Scenario()
        let emissions = try scenario.apply(
            .create(
                CreateSpecTask(
                    name: "  Implement user authentication  ",
                    description: "Sign-up and sign-in",
                    projectPath: "/repo",
                    maxConcurrentSessions: 3
                )
            )
        )
        let time = ManagerFixtures.start.addingTimeInterval(1)
        let expected = SpecTask(
            id: "st-1",
            name: "Implement user authentication",
            description: "Sign-up and sign-in",
            status: .backlog,
            projectPath: "/repo",
            maxConcurrentSessions: 3,
            createdAt: time,
            updatedAt: time
        )
        #expect(scenario.state == SpecTaskState(task: expected))
        #expect(
            emissions == [
                .status(.commandApplied(CommandOutcome(commandID: "cmd-1", commandType: "spectask.command.create"))),
                .status(.specTaskChanged(SpecTaskChange(from: nil, to: .backlog, specTask: expected))),
            ]
        )
    }

    @Test("create without a description stores an empty one and no limit")
    func createDefaults() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Fix typo")))
        #expect(scenario.task.description == "")
        #expect(scenario.task.maxConcurrentSessions == nil)
        #expect(scenario.task.projectPath == nil)
    }

    @Test(
        "create rejects a blank or too long name and a limit outside 1...1000",
        arguments: [
            CreateSpecTask(name: ""),
            CreateSpecTask(name: " \n\t "),
            CreateSpecTask(name: String(repeating: "a", count: 501)),
            CreateSpecTask(name: "ok", maxConcurrentSessions: 0),
            CreateSpecTask(name: "ok", maxConcurrentSessions: -1),
            CreateSpecTask(name: "ok", maxConcurrentSessions: 1001),
        ]
    )
    func createRejectsInvalidArguments(payload: CreateSpecTask) throws {
        var scenario = Scenario()
        let rejection = try scenario.reject(.create(payload))
        #expect(rejection.code == .invalidArgument)
        #expect(rejection.message.contains("st-1"))
    }

    @Test("create accepts a 500-character name and the limits 1 and 1000")
    func createBoundaries() throws {
        for payload in [
            CreateSpecTask(name: String(repeating: "a", count: 500)),
            CreateSpecTask(name: "ok", maxConcurrentSessions: 1),
            CreateSpecTask(name: "ok", maxConcurrentSessions: 1000),
        ] {
            var scenario = Scenario()
            try scenario.apply(.create(payload))
        }
    }

    @Test("a second create is rejected as already existing")
    func createTwice() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        let rejection = try scenario.reject(.create(CreateSpecTask(name: "Auth again")))
        #expect(rejection.code == .alreadyExists)
        #expect(rejection.message == "spec task st-1 already exists (it is in backlog)")
    }

    @Test(
        "every command but create needs an existing spec task",
        arguments: [
            SpecTaskCommand.startPlanning(StartPlanning()),
            .cancel(CancelSpecTask()),
            .archive(ArchiveSpecTask()),
            .setSharedContext(SetSharedContext(key: "k", value: "v")),
            .updateZedThread(UpdateZedThread(workSessionID: "ws-1", status: .active)),
        ]
    )
    func unknownSpecTask(command: SpecTaskCommand) throws {
        var scenario = Scenario()
        let rejection = try scenario.reject(command)
        #expect(rejection == Rejection(.unknownSpecTask, "spec task st-1 does not exist; create it first"))
    }

    @Test("a command whose subject is another spec task than the state is rejected")
    func subjectMismatch() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        let command = IncomingCommand(
            id: "cmd-x",
            specTaskID: "st-2",
            time: ManagerFixtures.start,
            command: .startPlanning(StartPlanning())
        )
        let decision = SpecTaskManager.decide(scenario.state, command, context: ManagerFixtures.context)
        guard case .rejected(let rejection) = decision else {
            Issue.record("expected a rejection, got \(decision)")
            return
        }
        #expect(rejection.code == .invalidArgument)
        #expect(rejection.message.contains("st-2") && rejection.message.contains("st-1"))
    }

    // MARK: - Archive

    @Test("archive and unarchive announce the flag with the status unchanged; repeating it publishes nothing")
    func archive() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        let archived = try scenario.apply(.archive(ArchiveSpecTask(archived: true)))
        #expect(scenario.task.archived)
        #expect(scenario.task.status == .backlog)
        let change = try #require(archived.specTaskChanges.first)
        #expect(change.from == .backlog && change.to == .backlog && change.reason == "archived")
        #expect(change.specTask.archived)

        let again = try scenario.apply(.archive(ArchiveSpecTask(archived: true)))
        #expect(again.count == 1, "only the outcome")

        let unarchived = try scenario.apply(.archive(ArchiveSpecTask(archived: false)))
        #expect(unarchived.specTaskChanges.map(\.reason) == ["unarchived"])
        #expect(!scenario.task.archived)
    }

    @Test("a done or cancelled task can still be archived")
    func archiveTerminal() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        try scenario.apply(.cancel(CancelSpecTask()))
        try scenario.apply(.archive(ArchiveSpecTask()))
        #expect(scenario.task.archived && scenario.task.status == .cancelled)
    }

    // MARK: - Shared context

    @Test("shared context entries are added, changed and cleared, each announced once")
    func sharedContext() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))

        var emissions = try scenario.apply(.setSharedContext(SetSharedContext(key: "api.base", value: "/v1")))
        #expect(
            emissions.statusEvents.last == .sharedContextChanged(SharedContextChange(key: "api.base", value: "/v1"))
        )
        #expect(
            scenario.state?.sharedContext == [
                SharedContextEntry(
                    specTaskID: "st-1",
                    key: "api.base",
                    value: "/v1",
                    updatedAt: ManagerFixtures.start.addingTimeInterval(2)
                )
            ]
        )

        try scenario.apply(.setSharedContext(SetSharedContext(key: "db", value: "postgres")))
        emissions = try scenario.apply(.setSharedContext(SetSharedContext(key: "api.base", value: "/v2")))
        #expect(emissions.count == 2)
        #expect(scenario.state?.sharedContext.map(\.key) == ["api.base", "db"], "an update keeps the entry's place")
        #expect(scenario.state?.sharedContext.first?.value == "/v2")
        #expect(scenario.state?.sharedContext.first?.updatedAt == ManagerFixtures.start.addingTimeInterval(4))

        emissions = try scenario.apply(.setSharedContext(SetSharedContext(key: "api.base", value: "/v2")))
        #expect(emissions.count == 1, "the same value changes nothing")

        emissions = try scenario.apply(.setSharedContext(SetSharedContext(key: "api.base", value: nil)))
        #expect(emissions.statusEvents.last == .sharedContextChanged(SharedContextChange(key: "api.base", value: nil)))
        #expect(scenario.state?.sharedContext.map(\.key) == ["db"])

        emissions = try scenario.apply(.setSharedContext(SetSharedContext(key: "missing", value: nil)))
        #expect(emissions.count == 1, "clearing a key that is not there changes nothing")
    }

    @Test(
        "shared context keys must be 1...200 characters and values at most 64 KiB",
        arguments: [
            SetSharedContext(key: "", value: "v"),
            SetSharedContext(key: "   ", value: "v"),
            SetSharedContext(key: String(repeating: "k", count: 201), value: "v"),
            SetSharedContext(key: "big", value: String(repeating: "x", count: 64 * 1024 + 1)),
            SetSharedContext(key: "big", value: String(repeating: "é", count: 32 * 1024 + 1)),
        ]
    )
    func sharedContextLimits(entry: SetSharedContext) throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        let rejection = try scenario.reject(.setSharedContext(entry))
        #expect(rejection.code == .invalidArgument)
    }

    @Test("a 200-character key and a 64 KiB value are accepted")
    func sharedContextBoundaries() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        try scenario.apply(
            .setSharedContext(
                SetSharedContext(
                    key: String(repeating: "k", count: 200),
                    value: String(repeating: "x", count: 64 * 1024)
                )
            )
        )
        #expect(scenario.state?.sharedContext.count == 1)
    }

    // MARK: - Concurrency limit

    @Test("the concurrency limit is validated, stored and announced when it changes")
    func concurrencyLimit() throws {
        var scenario = Scenario()
        try scenario.apply(.create(CreateSpecTask(name: "Auth")))
        for invalid in [0, -5, 1001] {
            let rejection = try scenario.reject(
                .setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: invalid))
            )
            #expect(rejection.code == .invalidArgument)
            #expect(rejection.message.contains("\(invalid)"))
        }
        var emissions = try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 2)))
        #expect(scenario.task.maxConcurrentSessions == 2)
        #expect(emissions.specTaskChanges.map(\.reason) == ["at most 2 concurrent work sessions"])
        emissions = try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: 2)))
        #expect(emissions.count == 1)
        emissions = try scenario.apply(.setConcurrencyLimit(SetConcurrencyLimit(maxConcurrentSessions: nil)))
        #expect(scenario.task.maxConcurrentSessions == nil)
        #expect(emissions.specTaskChanges.map(\.reason) == ["no limit on concurrent work sessions"])
    }
}
