#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Model files on disk. Saving is atomic: the model goes to a temporary file in the
/// target's directory, which is flushed, fsync'ed and renamed over the target, and then
/// the directory is fsync'ed; a crash or error at any point leaves the old file intact.
enum ModelFile {
    static func save(_ network: Network, to path: String) throws(BackpropError) {
        let size = ModelFormat.encodedSize(of: network)
        let buffer = try allocate(size, for: "the model")
        defer { free(buffer) }
        ModelFormat.encode(network, into: UnsafeMutableRawBufferPointer(start: buffer, count: size))

        let (temporary, descriptor) = try createTemporary(besides: path)
        do throws(BackpropError) {
            try writeAll(descriptor, UnsafeRawBufferPointer(start: buffer, count: size), path: temporary)
            guard fsync(descriptor) == 0 else { throw failure("cannot flush \(temporary) to disk") }
            let closed = close(descriptor)
            guard closed == 0 else { throw failure("cannot close \(temporary)") }
            guard rename(temporary, path) == 0 else { throw failure("cannot rename \(temporary) to \(path)") }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        try syncDirectory(of: path)
    }

    static func load(from path: String) throws(BackpropError) -> Network {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open \(path)") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat \(path)") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw BackpropError(.io, "\(path) is not a regular file")
        }
        let size = Int(status.st_size)
        let buffer = try allocate(size, for: "the contents of \(path)")
        defer { free(buffer) }
        try readAll(descriptor, UnsafeMutableRawBufferPointer(start: buffer, count: size), path: path)
        return try ModelFormat.decode(UnsafeRawBufferPointer(start: buffer, count: size))
    }

    private static func allocate(_ size: Int, for purpose: String) throws(BackpropError) -> UnsafeMutableRawPointer {
        guard size <= Memory.physicalMemory, let buffer = malloc(max(size, 1)) else {
            throw BackpropError(.outOfMemory, "cannot allocate \(size) bytes for \(purpose)")
        }
        return buffer
    }

    /// An exclusively created file named after `path`, in the same directory so that the
    /// final rename cannot cross file systems.
    private static func createTemporary(besides path: String) throws(BackpropError) -> (String, Int32) {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        var generator = SplitMix64(seed: UInt64(bitPattern: Int64(clock.tv_nsec)) ^ UInt64(getpid()) << 32)
        for _ in 0 ..< 16 {
            let temporary = "\(path).\(String(generator.next() % 0x1_0000_0000, radix: 16)).tmp"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 { return (temporary, descriptor) }
            guard errno == EEXIST else { throw failure("cannot create \(temporary)") }
        }
        throw BackpropError(.io, "cannot create a temporary file beside \(path)")
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(BackpropError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, base + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw failure("cannot write \(path)") }
            offset += written
        }
    }

    private static func readAll(_ descriptor: Int32, _ bytes: UnsafeMutableRawBufferPointer, path: String) throws(BackpropError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let count = read(descriptor, base + offset, bytes.count - offset)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read \(path)") }
            guard count > 0 else { break }
            offset += count
        }
        guard offset == bytes.count else { throw BackpropError(.io, "\(path) changed size while it was read") }
    }

    /// Makes the rename itself durable.
    private static func syncDirectory(of path: String) throws(BackpropError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("saved \(path) but cannot open its directory to flush it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("saved \(path) but cannot flush its directory") }
    }

    /// An I/O error with the operating system's reason.
    private static func failure(_ what: String) -> BackpropError {
        let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return BackpropError(.io, "\(what): \(reason)")
    }
}
