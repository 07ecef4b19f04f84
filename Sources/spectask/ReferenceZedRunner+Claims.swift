import SpecTaskDomain

// Path claims, as a careful agent in a shared workspace makes them: each thread claims the directory of its
// implementation task before its first edit and holds it to the end (its completion releases it), and half way
// claims the shared file every task touches (README.md) for one step, waiting while a sibling holds it.

extension ReferenceZedRunner {
    /// The file every thread edits once, half way: where two threads of a task meet.
    static let sharedFile = "README.md"

    /// The thread's own directory, e.g. `Sources/DataModel` for the task "Data model".
    static func ownPaths(of thread: CreateZedThread) -> [String] {
        let title = thread.implementationTaskTitle ?? thread.name
        let words = title.split { !$0.isLetter && !$0.isNumber }.map { $0.prefix(1).uppercased() + $0.dropFirst() }
        let name = String(words.joined().prefix(100))
        return ["Sources/\(name.isEmpty ? thread.workSessionID : name)"]
    }

    /// Claims the thread's directory and waits until it is granted. - Returns: whether the thread may go on.
    func claimOwnPaths(_ start: ThreadStart) async -> Bool {
        guard settings.claimPaths else { return true }
        return await hold(Self.ownPaths(of: start.command), claimID: "\(start.command.threadID)-own", for: start)
    }

    func claimSharedFile(_ start: ThreadStart) async -> Bool {
        guard settings.claimPaths else { return true }
        return await hold([Self.sharedFile], claimID: "\(start.command.threadID)-shared", for: start)
    }

    func releaseSharedFile(_ start: ThreadStart) async {
        guard settings.claimPaths else { return }
        let claimID = "\(start.command.threadID)-shared"
        claimResults.removeValue(forKey: claimID)
        await send(
            .pathsReleased(
                ZedPathsReleased(
                    instanceID: start.command.instanceID,
                    workSessionID: start.command.workSessionID,
                    claimIDs: [claimID]
                )
            ),
            of: start.command.instanceID
        )
    }

    func claimAnswered(_ result: ClaimResult) {
        claimResults[result.claimID] = result
        switch result.result {
        case .granted:
            logger.info(
                "thread \(result.threadID): claim \(result.claimID) granted (\(result.paths.joined(separator: ", ")))"
            )
        case .waiting, .refused, .released:
            logger.info(
                "thread \(result.threadID): claim \(result.claimID) \(result.result.rawValue): \(result.reason)"
            )
        }
    }

    /// Sends the claim and waits for it to be granted, sending it again every `claimRetryInterval` (a lost
    /// answer, or a refusal that may not hold any more).
    ///
    /// - Returns: `false` when the thread was stopped (or the runner is shutting down) before the claim was granted.
    private func hold(_ paths: [String], claimID: String, for start: ThreadStart) async -> Bool {
        let thread = start.command
        claimResults.removeValue(forKey: claimID)
        while !Task.isCancelled, isRunning(start) {
            await send(
                .pathsClaimed(
                    ZedPathsClaimed(
                        instanceID: thread.instanceID,
                        workSessionID: thread.workSessionID,
                        claimID: claimID,
                        paths: paths,
                        reason: "\(thread.name) edits them"
                    )
                ),
                of: thread.instanceID
            )
            let deadline = ContinuousClock.now + settings.claimRetryInterval
            while ContinuousClock.now < deadline {
                if claimResults[claimID]?.result == .granted { return true }
                do { try await Task.sleep(for: .milliseconds(50)) } catch { return false }
                guard isRunning(start) else { return false }
            }
        }
        return false
    }
}
