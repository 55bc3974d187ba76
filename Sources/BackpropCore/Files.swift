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
    /// directory is fsync'ed. A crash or error at any point leaves the old file intact and
    /// no temporary file behind.
    public static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws(BackpropError) {
        var template = Array("\(path).XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw failure("cannot create a temporary file beside \(path)") }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var isOpen = true
        do throws(BackpropError) {
            try writeAll(bytes, to: descriptor, named: temporary)
            // mkstemp creates the file readable by its owner only; give it the usual mode.
            let mask = umask(0)
            umask(mask)
            guard fchmod(descriptor, 0o666 & ~mask) == 0 else { throw failure("cannot set the mode of \(temporary)") }
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
