import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// With `SPECTASK_EXIT_WITH_PARENT=1`, a process whose parent goes away stops too: gracefully (SIGTERM to itself,
/// the same clean shutdown as Ctrl-C), then for good if that takes more than 20 s.
///
/// For harnesses that start workers and runners as children (the tests, `spectask chaos`): when the harness dies
/// or forgets to stop them, orphans would otherwise keep consuming, relaying and polling the broker forever.
enum ParentWatch {
    static func startIfRequested(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment["SPECTASK_EXIT_WITH_PARENT"] == "1" else { return }
        let parent = getppid()
        let thread = Thread {
            while getppid() == parent { Thread.sleep(forTimeInterval: 1) }
            FileHandle.standardError.write(Data("spectask: parent process \(parent) is gone; stopping\n".utf8))
            kill(getpid(), SIGTERM)
            Thread.sleep(forTimeInterval: 20)
            exit(1)
        }
        thread.name = "spectask.parent-watch"
        thread.start()
    }
}
