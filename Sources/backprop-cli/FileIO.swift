#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BackpropCore

/// The tool's file access: BackpropCore's `Files` (bounded reads, atomic writes) with its
/// errors as the tool's failures, and the checks made before any work starts.
enum FileIO {
    static func readAll(_ path: String) throws(CLIError) -> [UInt8] {
        do {
            return try Files.withContents(of: path) { Array($0) }
        } catch {
            throw .failure(error.message)
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(CLIError) {
        do {
            try bytes.withUnsafeBytes { try Files.writeAtomically($0, to: path) }
        } catch let error as BackpropError {
            throw .failure(error.message)
        } catch {
            throw .failure("cannot write \(path): \(error)")
        }
    }

    /// The size of the file at `path` in bytes.
    static func size(of path: String) throws(CLIError) -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure("cannot stat \(path)") }
        return Int(status.st_size)
    }

    /// Fails now, before any work, if a file cannot be created at `path` later.
    static func checkCanCreate(_ path: String) throws(CLIError) {
        let directory = Files.directory(of: path)
        guard access(directory, W_OK) == 0 else { throw failure("cannot write \(path): directory \(directory)") }
    }

    /// A failure naming what could not be done and the operating system's reason.
    private static func failure(_ what: String) -> CLIError {
        let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return .failure("\(what): \(reason)")
    }
}
