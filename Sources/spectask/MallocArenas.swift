#if canImport(Glibc)
import Glibc
#endif

/// How many malloc arenas a long-running process may use.
///
/// glibc gives each thread that contends for the heap an arena of its own, up to eight per core, and memory freed in
/// one arena is not reused by the others: a worker's RSS grew to 110–117 MB over a benchmark matrix, against 83–93 MB
/// with two arenas, with no difference in throughput or latency beyond this machine's noise (side by side, twice).
enum MallocArenas {
    /// The limit the worker sets for itself.
    static let workerLimit: Int32 = 2

    /// Sets the limit, unless `MALLOC_ARENA_MAX` in the environment says otherwise (glibc reads that at start).
    /// Early, before the threads that would open arenas of their own.
    static func limit(to count: Int32, environment: [String: String]) {
        #if canImport(Glibc)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        // `mallopt` and `M_ARENA_MAX` are in <malloc.h>, which the Glibc module does not bring in: looked up by
        // name, with the constant's value from that header (part of glibc's ABI).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mArenaMax: Int32 = -8
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mArenaMax, count)
        #endif
    }
}
