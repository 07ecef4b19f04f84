import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process of the chaos campaign (a worker, the Zed runner, a script), started with `posix_spawn` and
/// reaped with `waitpid`.
///
/// Not `Foundation.Process`: on Linux it learns that a child exited only when every copy of a socket the child
/// inherits is closed, and the PostgreSQL server that `scripts/services postgres-up` leaves running would hold such
/// a copy for ever; it also needs a child's descriptors to be inherited to notice anything at all. Here the child
/// runs through a shell that closes every descriptor but 0, 1 and 2 (this process's Kafka and PostgreSQL sockets
/// included) and then `exec`s the program, so the pid is the program's own and SIGKILL, SIGSTOP and SIGCONT reach
/// it directly. Output and errors go to a log file, input is /dev/null. Each child gets a process group of its own,
/// so a Ctrl-C in the terminal reaches only the campaign, which then stops its children itself; signal mask and
/// dispositions are reset (this process ignores SIGINT/SIGTERM to watch them with dispatch sources, and ignored
/// signals would be inherited).
final class ChaosChild: @unchecked Sendable {
    // @unchecked: `exitStatus` is only touched under `lock`.
    let pid: pid_t
    let name: String
    let logFile: URL
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Replaces the shell with the program ("$@"), every inherited descriptor above 2 closed. (The closing is part of
    /// the `exec` itself: closing them one by one in a loop would also close the copy of stderr bash keeps while a
    /// redirection of the loop is in effect.)
    private static let execWithoutInheritedDescriptors = #"""
        closes=()
        for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then closes+=("$fd>&-"); fi; done
        eval "exec \"\$@\" ${closes[*]}"
        """#

    init(name: String, executable: String, arguments: [String], environment: [String: String], logFile: URL) throws {
        self.name = name
        self.logFile = logFile
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ["/bin/bash", "-c", Self.execWithoutInheritedDescriptors, "bash", executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = envp.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, "/bin/bash", &actions, &attributes, &cArguments, &cEnvironment)
        guard code == 0 else {
            throw CLIError("could not start \(name) (\(executable)): \(String(cString: strerror(code)))")
        }
        self.pid = pid
    }

    /// The exit status (or 128 + signal), once the process ended; `nil` while it runs. Reaps it.
    var exited: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
    }

    var isRunning: Bool { exited == nil }

    func signal(_ number: Int32) {
        guard isRunning else { return }
        kill(pid, number)
    }

    /// Waits up to `timeout` for the process to end; returns its status, or `nil` if it still runs.
    @discardableResult
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exited { return status }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, and SIGKILL after `grace`; a stopped process is continued first so it can act on SIGTERM.
    func stop(grace: Duration) async {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if await waitForExit(timeout: grace) == nil {
            kill(pid, SIGKILL)
            await waitForExit(timeout: .seconds(5))
        }
    }

    /// SIGKILL, waiting until it is gone (a SIGKILLed process can not refuse, but the kernel may take a moment).
    func killNow() async {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        await waitForExit(timeout: .seconds(10))
    }

    /// The log so far (or its last `limit` bytes).
    func log(last limit: Int? = nil) -> String {
        guard let data = try? Data(contentsOf: logFile) else { return "" }
        let slice = limit.map { data.suffix($0) } ?? data
        return String(decoding: slice, as: UTF8.self)
    }

    /// Size of the log in bytes: where text written from now on starts.
    var logSize: Int {
        ((try? FileManager.default.attributesOfItem(atPath: logFile.path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The log from byte `offset` on.
    func log(from offset: Int) -> String {
        guard let data = try? Data(contentsOf: logFile), offset < data.count else { return "" }
        return String(decoding: data.suffix(from: offset), as: UTF8.self)
    }

    /// Waits until the log (from byte `offset`) contains `text`; `false` when the process ended or time ran out.
    func waitForLog(_ text: String, from offset: Int = 0, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log(from: offset).contains(text) { return true }
            guard isRunning else { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

/// Runs a command to its end with a timeout, output into a log file; never waits for ever.
enum ChaosCommandRunner {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        logFile: URL,
        timeout: Duration
    ) async throws -> Result {
        let offset = ((try? FileManager.default.attributesOfItem(atPath: logFile.path))?[.size] as? NSNumber)?.intValue
        let child = try ChaosChild(
            name: URL(fileURLWithPath: executable).lastPathComponent,
            executable: executable,
            arguments: arguments,
            environment: environment,
            logFile: logFile
        )
        guard let status = await child.waitForExit(timeout: timeout) else {
            await child.killNow()
            throw CLIError(
                "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout); "
                    + "output:\n\(child.log(from: offset ?? 0))"
            )
        }
        return Result(status: status, output: child.log(from: offset ?? 0))
    }
}

enum ChaosPorts {
    /// A port nothing listens on, in 21000…32000 (below the ephemeral range, so no outgoing connection takes it
    /// meanwhile).
    static func free() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 21_000...32_000)
            let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socketFD >= 0 else { continue }
            defer { close(socketFD) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return port }
        }
        throw CLIError("found no free port in 21000…32000")
    }
}

enum ChaosCheckout {
    /// The checkout whose `scripts/services` and `topics/` the campaign uses: `--repo`, else the first ancestor of
    /// the running binary (`<checkout>/.build/<configuration>/spectask`) that has them, else the current directory.
    static func find(explicit: String?) throws -> URL {
        func isCheckout(_ url: URL) -> Bool {
            let fileManager = FileManager.default
            return fileManager.isExecutableFile(atPath: url.appendingPathComponent("scripts/services").path)
                && fileManager.fileExists(atPath: url.appendingPathComponent("topics").path)
        }
        if let explicit {
            let url = URL(fileURLWithPath: explicit).standardizedFileURL
            guard isCheckout(url) else {
                throw CLIError("--repo \(explicit): no scripts/services and topics/ there; pass the spectask checkout")
            }
            return url
        }
        var candidates: [URL] = []
        if let binary = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            var directory = binary.deletingLastPathComponent()
            while directory.path != "/" {
                candidates.append(directory)
                directory = directory.deletingLastPathComponent()
            }
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        guard let found = candidates.first(where: isCheckout) else {
            throw CLIError(
                "can not find the spectask checkout (scripts/services and topics/) above the binary or in the "
                    + "current directory; pass it with --repo"
            )
        }
        return found.standardizedFileURL
    }

    /// The running binary, to start workers and the runner of the same build.
    static var binary: String {
        get throws {
            guard let path = Bundle.main.executableURL?.resolvingSymlinksInPath().path else {
                throw CLIError("can not tell where the spectask binary is")
            }
            return path
        }
    }
}
