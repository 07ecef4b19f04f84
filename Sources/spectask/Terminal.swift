#if canImport(Glibc)
@preconcurrency import Glibc
#endif

enum Terminal {
    /// Makes stdout line-buffered, so output reaches a pipe or a file line by line instead of in 4 KiB blocks.
    static func lineBufferStandardOutput() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
