#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Model files on disk: the model format (`ModelFormat`) written atomically and read with
/// every size bounded (`Files`).
enum ModelFile {
    static func save(_ network: Network, to path: String) throws(BackpropError) {
        let size = ModelFormat.encodedSize(of: network)
        guard size <= Memory.limit, let buffer = malloc(max(size, 1)) else {
            throw BackpropError(.outOfMemory, "cannot allocate \(size) bytes for the model")
        }
        defer { free(buffer) }
        let bytes = UnsafeMutableRawBufferPointer(start: buffer, count: size)
        ModelFormat.encode(network, into: bytes)
        try Files.writeAtomically(UnsafeRawBufferPointer(bytes), to: path)
    }

    static func load(from path: String) throws(BackpropError) -> Network {
        try Files.withContents(of: path) { (bytes) throws(BackpropError) in try ModelFormat.decode(bytes) }
    }
}
