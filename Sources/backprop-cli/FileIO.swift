#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whole-file reads and atomic writes, with the operating system's reason in every error.
enum FileIO {
    static func readAll(_ path: String) throws(CLIError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open \(path)") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat \(path)") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .failure("\(path) is not a regular file") }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read \(path)") }
            guard count > 0 else { throw .failure("\(path) shrank while it was read") }
            offset += count
        }
        return bytes
    }

    /// The size of the file at `path` in bytes.
    static func size(of path: String) throws(CLIError) -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure("cannot stat \(path)") }
        return Int(status.st_size)
    }

    /// Fails now, before any work, if a file cannot be created at `path` later.
    static func checkCanCreate(_ path: String) throws(CLIError) {
        let directory = directory(of: path)
        guard access(directory, W_OK) == 0 else { throw failure("cannot write \(path): directory \(directory)") }
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so that
    /// `path` is never seen half-written; on any error the temporary file is removed.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(CLIError) {
        var template = Array("\(path).XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw failure("cannot create a temporary file beside \(path)") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var isOpen = true
        do throws(CLIError) {
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
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, named path: String) throws(CLIError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw failure("cannot write \(path)") }
            offset += written
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A failure naming what could not be done and the operating system's reason.
    private static func failure(_ what: String) -> CLIError {
        let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return .failure("\(what): \(reason)")
    }
}
