import Testing

/// The tests of `Sources/SpecTaskDomain/Messages`, nested in one suite so `swift test --filter Messages`
/// selects them all (a filter matches test ids, which name types, not folders).
@Suite("Messages")
enum MessagesTests {}
