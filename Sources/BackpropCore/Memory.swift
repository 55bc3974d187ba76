#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Heap memory for the network's float buffers. Allocation goes through `posix_memalign`
/// rather than `UnsafeMutablePointer.allocate`, because the latter traps when memory is
/// exhausted, and a trap would take down the process that embeds the library.
enum Memory {
    /// Cache-line and AVX-512 aligned.
    static let alignment = 64

    /// Allocates `count` floats, uninitialized. Requests larger than the machine's
    /// physical memory are refused up front: on Linux they would otherwise succeed through
    /// overcommit and end in the OOM killer when touched.
    static func allocateFloats(_ count: Int, for purpose: String) throws(BackpropError)
        -> UnsafeMutablePointer<Float>
    {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow, bytes <= physicalMemory else {
            throw BackpropError(.outOfMemory,
                "\(purpose) needs \(count) floats, more than this machine's \(physicalMemory >> 20) MiB of memory")
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
            throw BackpropError(.outOfMemory, "could not allocate \(bytes) bytes for \(purpose)")
        }
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    static func free(_ pointer: UnsafeMutablePointer<Float>) {
        #if canImport(Glibc)
        Glibc.free(pointer)
        #else
        Musl.free(pointer)
        #endif
    }

    static let physicalMemory: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()
}
