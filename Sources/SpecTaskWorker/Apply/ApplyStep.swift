import SpecTaskDomain
import SpecTaskStore

/// The step every decision goes through, whoever made its input: the batch applier for the messages of a batch,
/// the heartbeat sweeper for the timeouts it fires.
///
/// It keeps the spec tasks' states as loaded and as changed since, and what the decisions publish (status events,
/// Zed commands, and a progress snapshot per task that changed in a way readers see) and log (coordination
/// entries); ``finish()`` turns it all into the one statement that persists it. The caller holds the tasks' locks,
/// loaded them, and decides; this step is the only place that says what an applied decision amounts to.
struct ApplyStep {
    /// The states as loaded, to write only what changed.
    let loaded: [String: StoredSpecTask]
    /// The states as the decisions so far left them.
    private(set) var current: [String: StoredSpecTask]
    var outputs: OutputBatch
    private(set) var coordination: [CoordinationEntry] = []
    /// The spec tasks that changed in a way readers see (``InputPolicy/isNews(_:previous:new:emissions:)``).
    private(set) var changedTasks: Set<String> = []

    init(loaded: [String: StoredSpecTask], outputs: OutputBatch) {
        self.loaded = loaded
        self.current = loaded
        self.outputs = outputs
    }

    /// The state of a spec task as the decisions so far left it; `nil` when it does not exist.
    func state(of specTaskID: String) -> SpecTaskState? { current[specTaskID]?.state }

    /// Records `command`'s applied decision: its spec task's new state, its outputs and its coordination entries.
    mutating func applied(_ command: IncomingCommand, state: SpecTaskState, emissions: [Emission]) {
        let subject = command.specTaskID
        let previous = current[subject]?.state
        var stored = current[subject] ?? StoredSpecTask(state: state)
        stored.state = state
        current[subject] = stored
        if InputPolicy.isNews(command, previous: previous, new: state, emissions: emissions) {
            changedTasks.insert(subject)
        }
        coordination += outputs.add(emissions, task: subject, stored: &current[subject], correlationID: command.id)
    }

    /// Publishes the outcome of a command that was not applied on its spec task's status.
    mutating func commandRejected(_ outcome: CommandOutcome, task: String) {
        outputs.commandRejected(outcome, task: task, stored: &current[task])
    }

    /// Ends the step: adds a progress snapshot of every changed task to the outputs, and returns everything to persist: the changed
    /// states, the coordination entries and the outbox messages (the caller adds the offsets, if any).
    mutating func finish() -> BatchWrite {
        for id in changedTasks.sorted() {
            if let stored = current[id] { outputs.progress(stored) }
        }
        var write = BatchWrite()
        write.changes = current.keys.sorted().filter { current[$0] != loaded[$0] }.map { (current[$0]!, loaded[$0]) }
        write.coordination = coordination
        write.outbox = outputs.messages
        return write
    }
}
