/// The bounds the multi-session manager enforces on what commands carry.
///
/// They keep rows, Kafka keys and prompts of a sane size; the envelope codec has its own overall size limit.
enum ManagerLimits {
    /// Characters in a spec task or work session name, after trimming.
    static let nameLength = 500
    /// Allowed values of `maxConcurrentSessions`; `nil` (no limit) is allowed too.
    static let concurrentSessions = 1...1000
    /// Characters in a shared-context key.
    static let sharedContextKeyLength = 1...200
    /// UTF-8 bytes in a shared-context value (64 KiB).
    static let sharedContextValueBytes = 64 * 1024
    /// Characters in an id a client chooses; ids become Kafka keys and primary keys.
    static let idLength = 200
    /// A Zed thread's reported progress, in percent.
    static let progress = 0...100
}

// MARK: - Validation

extension ManagerLimits {
    /// Checks a name: not blank, at most ``nameLength`` characters.
    ///
    /// - Returns: The name without surrounding whitespace.
    static func validName(_ name: String, of subject: String) throws(Rejection) -> String {
        let trimmed = String(Substring(name).trimmed())
        guard !trimmed.isEmpty else {
            throw Rejection(.invalidArgument, "the name of \(subject) is empty; give it a name")
        }
        guard trimmed.count <= nameLength else {
            throw Rejection(
                .invalidArgument,
                "the name of \(subject) is \(trimmed.count) characters long; at most \(nameLength) are allowed"
            )
        }
        return trimmed
    }

    /// Checks a concurrency limit: `nil` or within ``concurrentSessions``.
    static func validateConcurrencyLimit(_ limit: Int?, of specTaskID: String) throws(Rejection) {
        guard let limit, !concurrentSessions.contains(limit) else { return }
        throw Rejection(
            .invalidArgument,
            "maxConcurrentSessions \(limit) for spec task \(specTaskID) is out of range; use "
                + "\(concurrentSessions.lowerBound)...\(concurrentSessions.upperBound), or leave it out for no limit"
        )
    }

    /// Checks an id chosen by a client: not blank, at most ``idLength`` characters.
    static func validateClientID(_ id: String, field: String) throws(Rejection) {
        guard !Substring(id).trimmed().isEmpty else {
            throw Rejection(.invalidArgument, "\(field) is empty; leave it out to have an id generated")
        }
        guard id.count <= idLength else {
            throw Rejection(
                .invalidArgument,
                "\(field) is \(id.count) characters long; at most \(idLength) are allowed"
            )
        }
    }
}
