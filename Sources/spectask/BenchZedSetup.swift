import Foundation
import Kafka
import Logging
import SpecTaskContract
import SpecTaskDomain
import SpecTaskWorker

/// One Zed instance the benchmark speaks for, as the worker announced it on `zed.commands`.
struct BenchZedInstance: Sendable {
    var specTaskID: String
    var instanceID: String
    /// The token from `create_instance`: every event of this instance carries it.
    var runnerToken: String
    /// From `create_thread`: the one thread of the task's one work session.
    var workSessionID: String
    var threadID: String
}

/// Brings `tasks` spec tasks to implementation, each with a ready Zed instance and an active thread, the way a
/// runner would see them: the commands of the closed-loop benchmark up to `start_implementation` (each task's next
/// command when the previous one's outcome arrived, at most `concurrency` tasks at once), then, for each instance
/// announced on `zed.commands`, `instance_ready` and `thread_created` with its runner token.
///
/// Done when `spectask.status` says every instance is ready and every thread active (whoever sent the events: a
/// reference runner on the same topics answers too, which changes nothing). Any input of these tasks on
/// `spectask.rejected` ends the setup with its reason.
struct BenchZedSetup {
    /// The commands each task gets: create, start_planning, submit_specs, approve_specs, start_implementation.
    static let steps = 5

    let run: String
    let tasks: Int
    let concurrency: Int
    let topics: WorkerTopics
    let producer: KafkaProducer
    /// Follows `topics.status`, `topics.zedCommands` and `topics.rejected`, positioned before anything was sent.
    let follower: StatusFollower
    let timeout: Duration
    let logger: Logger

    struct Result {
        /// In task order.
        var instances: [BenchZedInstance]
        var commands: Int
        var zedEvents: Int
        var elapsed: Duration
    }

    func run() async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        let names = (1...tasks).map { "\(run)-\($0)" }
        let ours = Set(names)
        var nextTask = 0
        var step: [String: Int] = [:]
        var waiting: [String: String] = [:]  // command id → task
        var implemented = 0
        var instances: [String: CreateZedInstance] = [:]
        var threads: [String: CreateZedThread] = [:]
        var announced: Set<String> = []
        var ready: Set<String> = []
        var active: Set<String> = []
        var commands = 0
        var lastReport = started

        func state() -> String {
            "\(implemented) of \(tasks) tasks through start_implementation, \(instances.count) instances and "
                + "\(threads.count) threads announced on \(topics.zedCommands), \(ready.count) instances ready, "
                + "\(active.count) threads active"
        }

        var records: [KafkaProducerRecord] = []
        func command(_ task: String) {
            let item = BenchDriver.command(for: task, step: step[task] ?? 0)
            waiting[item.id] = task
            records.append(BenchDriver.record(item, topic: topics.commands))
            commands += 1
        }

        while implemented < tasks || ready.count < tasks || active.count < tasks {
            guard clock.now < deadline else {
                throw CLIError("setup timed out after \(timeout): \(state()); are workers running?")
            }
            for message in try await follower.next(timeout: .milliseconds(50)) {
                switch message.raw.topic {
                case topics.status:
                    guard let task = message.event.subject, ours.contains(task) else { continue }
                    switch message.status {
                    case .commandApplied?:
                        guard let id = message.event.correlationid, waiting.removeValue(forKey: id) != nil else {
                            continue
                        }
                        step[task, default: 0] += 1
                        if step[task] == Self.steps { implemented += 1 } else { command(task) }
                    case .commandRejected(let outcome)?:
                        guard let id = message.event.correlationid, waiting[id] != nil else { continue }
                        throw CLIError(
                            "setup: \(outcome.commandType) of \(task) was rejected (\(outcome.code ?? "?")): "
                                + (outcome.reason ?? "")
                        )
                    case .zedInstanceChanged(let change)? where change.to == .ready:
                        ready.insert(task)
                    case .zedThreadChanged(let change)? where change.to == .active:
                        active.insert(task)
                    default:
                        continue
                    }
                case topics.zedCommands:
                    guard let (_, zedCommand) = try? EventDecoder.decodeZedCommand(message.raw.value) else { continue }
                    switch zedCommand {
                    case .createInstance(let create) where ours.contains(create.specTaskID):
                        instances[create.specTaskID] = create
                    case .createThread(let create) where ours.contains(create.specTaskID):
                        threads[create.specTaskID] = create
                    default:
                        continue
                    }
                case topics.rejected:
                    guard let (_, record) = try? EventDecoder.decodeRejected(message.raw.value),
                        let task = record.specTaskID, ours.contains(task)
                    else { continue }
                    throw CLIError("setup: an input of \(task) was rejected (\(record.code)): \(record.reason)")
                default:
                    continue
                }
            }
            // The runner's part, as soon as the worker asked for both the instance and its thread.
            for (task, instance) in instances where !announced.contains(task) {
                guard let thread = threads[task] else { continue }
                announced.insert(task)
                records += Self.announce(instance: instance, thread: thread, run: run, topic: topics.zedEvents)
            }
            while nextTask < names.count, nextTask - implemented < concurrency {
                step[names[nextTask]] = 0
                command(names[nextTask])
                nextTask += 1
            }
            if !records.isEmpty {
                _ = try await producer.send(records)
                records.removeAll(keepingCapacity: true)
            }
            if clock.now - lastReport > .seconds(2) {
                lastReport = clock.now
                print("  setup: \(state())")
            }
        }
        return Result(
            instances: names.map { task in
                BenchZedInstance(
                    specTaskID: task,
                    instanceID: instances[task]!.instanceID,
                    runnerToken: instances[task]!.runnerToken,
                    workSessionID: threads[task]!.workSessionID,
                    threadID: threads[task]!.threadID
                )
            },
            commands: commands,
            zedEvents: 2 * announced.count,
            elapsed: clock.now - started
        )
    }

    /// `instance_ready` and `thread_created`, as the reference runner sends them.
    static func announce(
        instance: CreateZedInstance,
        thread: CreateZedThread,
        run: String,
        topic: String
    ) -> [KafkaProducerRecord] {
        let events: [(id: String, event: ZedEvent)] = [
            ("\(run)-ready", .instanceReady(ZedInstanceReady(instanceID: instance.instanceID))),
            (
                "\(run)-thread-\(thread.threadID)",
                .threadCreated(
                    ZedThreadCreated(
                        instanceID: instance.instanceID,
                        workSessionID: thread.workSessionID,
                        zedThreadExternalID: "zed-\(thread.threadID)"
                    )
                )
            ),
        ]
        return events.map { id, event in
            KafkaProducerRecord(
                topic: topic,
                key: Array(instance.specTaskID.utf8),
                value: CommandEncoder.encode(
                    id: id,
                    specTaskID: instance.specTaskID,
                    source: BenchZedLoad.source,
                    event: event,
                    runnerToken: instance.runnerToken,
                    time: Date()
                )
            )
        }
    }
}
