// Commands about the spec task as a whole: cancelling, archiving, shared context, the concurrency limit.

extension DecisionDraft {
    /// Any non-terminal status → cancelled. Everything below stops: sessions are cancelled, threads fail and
    /// are told to stop, the instance is stopped. Implementation tasks keep their status, as a record of how
    /// far each got.
    mutating func cancel(_ cancel: CancelSpecTask) throws(Rejection) {
        try changeSpecTaskStatus(to: .cancelled, reason: cancel.reason ?? "cancelled")
        closeAllWork(
            reason: "spec task cancelled",
            threadReason: "spec task cancelled",
            blocksImplementationTasks: false
        )
        stopInstance(reason: "spec task cancelled")
    }

    /// Sets or clears the archived flag, in any status. Setting the flag it already has changes nothing and
    /// publishes nothing.
    mutating func archive(_ archive: ArchiveSpecTask) {
        guard state.task.archived != archive.archived else { return }
        updateSpecTask(announce: archive.archived ? "archived" : "unarchived") { task in
            task.archived = archive.archived
        }
    }

    /// Sets (a value) or clears (`nil`) one shared-context entry, in any status. A change that changes nothing
    /// (the same value, or clearing a key that is not there) publishes nothing.
    mutating func setSharedContext(_ entry: SetSharedContext) throws(Rejection) {
        let keyLength = entry.key.count
        guard ManagerLimits.sharedContextKeyLength.contains(keyLength), !Substring(entry.key).trimmed().isEmpty else {
            throw Rejection(
                .invalidArgument,
                "shared context key \"\(entry.key.prefix(40))\" of spec task \(specTaskID) is \(keyLength) characters "
                    + "long; use 1...\(ManagerLimits.sharedContextKeyLength.upperBound) characters, not only spaces"
            )
        }
        if let value = entry.value, value.utf8.count > ManagerLimits.sharedContextValueBytes {
            throw Rejection(
                .invalidArgument,
                "the value of shared context key \(entry.key) is \(value.utf8.count) bytes; at most "
                    + "\(ManagerLimits.sharedContextValueBytes) (64 KiB) are allowed"
            )
        }

        var entries = state.sharedContext
        let existing = entries.firstIndex { $0.key == entry.key }
        switch (entry.value, existing) {
        case (nil, nil):
            return
        case (nil, let position?):
            entries.remove(at: position)
        case (let value?, let position?):
            guard entries[position].value != value else { return }
            entries[position].value = value
            entries[position].updatedAt = now
        case (let value?, nil):
            entries.append(SharedContextEntry(specTaskID: specTaskID, key: entry.key, value: value, updatedAt: now))
        }
        replaceSharedContext(with: entries)
        emit(.sharedContextChanged(SharedContextChange(key: entry.key, value: entry.value)))
    }

    /// Changes how many sessions may be active at once; the scheduler then starts sessions a raised limit
    /// makes room for. A lowered limit stops nothing that runs.
    mutating func setConcurrencyLimit(_ limit: SetConcurrencyLimit) throws(Rejection) {
        try ManagerLimits.validateConcurrencyLimit(limit.maxConcurrentSessions, of: specTaskID)
        guard state.task.maxConcurrentSessions != limit.maxConcurrentSessions else { return }
        let announcement =
            limit.maxConcurrentSessions.map { "at most \($0) concurrent work sessions" }
            ?? "no limit on concurrent work sessions"
        updateSpecTask(announce: announcement) { task in
            task.maxConcurrentSessions = limit.maxConcurrentSessions
        }
    }
}
