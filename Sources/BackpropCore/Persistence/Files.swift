#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whole-file reads and atomic writes through POSIX, each error naming the path and the
/// operating system's reason. Shared by model files and the command-line tool.
public enum Files {
    /// The bytes of the regular file at `path`, lent to `body` for the duration of the call.
    /// Files larger than the machine's memory are refused before anything is allocated.
    public static func withContents<Result>(
        of path: String, _ body: (UnsafeRawBufferPointer) throws(BackpropError) -> Result
    ) throws(BackpropError) -> Result {
        // Non-blocking, so that a FIFO without a writer is refused below instead of hanging.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw failure("cannot open \(path)") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat \(path)") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw BackpropError(.io, "\(path) is not a regular file")
        }
        let size = Int(status.st_size)
        guard size <= Memory.limit, let buffer = malloc(max(size, 1)) else {
            throw BackpropError(.outOfMemory, "cannot allocate \(size) bytes to read \(path)")
        }
        defer { free(buffer) }
        var offset = 0
        while offset < size {
            let count = read(descriptor, buffer + offset, size - offset)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read \(path)") }
            guard count > 0 else { throw BackpropError(.io, "\(path) shrank while it was read") }
            offset += count
        }
        return try body(UnsafeRawBufferPointer(start: buffer, count: size))
    }

    /// Replaces the file at `path` with `bytes` atomically: they go to a temporary file in
    /// the same directory, which is fsync'ed and renamed over `path`, and then the
    /// directory is fsync'ed. An error at any point before the rename leaves the old file
    /// intact and removes the temporary file (a crash may leave the temporary behind, never
    /// a half-written `path`).
    public static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws(BackpropError) {
        let (temporary, descriptor) = try createTemporary(besides: path)
        var isOpen = true
        do throws(BackpropError) {
            try writeAll(bytes, to: descriptor, named: temporary)
            guard fsync(descriptor) == 0 else { throw failure("cannot flush \(temporary) to disk") }
            isOpen = false
            guard close(descriptor) == 0 else { throw failure("cannot close \(temporary)") }
            guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) to \(path)") }
        } catch {
            if isOpen { close(descriptor) }
            unlink(temporary)
            throw error
        }
        try syncDirectory(of: path)
    }

    /// A new file beside `path`, created exclusively with the usual mode (0666 less the
    /// umask, which is left alone: changing it would race with the host's other threads)
    /// and closed on exec.
    private static func createTemporary(besides path: String) throws(BackpropError) -> (String, Int32) {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        var generator = SplitMix64(seed: UInt64(bitPattern: Int64(clock.tv_nsec) ^ Int64(clock.tv_sec) << 30) ^ UInt64(getpid()) << 40)
        for _ in 0 ..< 32 {
            let temporary = "\(path).\(String(generator.next() >> 16, radix: 36)).tmp"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 { return (temporary, descriptor) }
            guard errno == EEXIST else { throw failure("cannot create a temporary file beside \(path)") }
        }
        throw BackpropError(.io, "cannot create a temporary file beside \(path): every name tried exists")
    }

    /// The directory part of `path` ("." when it has none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, named path: String) throws(BackpropError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, base + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw failure("cannot write \(path)") }
            offset += written
        }
    }

    /// Makes the rename itself durable.
    private static func syncDirectory(of path: String) throws(BackpropError) {
        let directory = directory(of: path)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("wrote \(path) but cannot open its directory to flush it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("wrote \(path) but cannot flush its directory") }
    }

    private static func failure(_ what: String) -> BackpropError {
        let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return BackpropError(.io, "\(what): \(reason)")
    }
}
