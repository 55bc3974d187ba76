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

    /// Allocates `count` floats, uninitialized. Requests larger than the memory this
    /// process may use are refused up front: on Linux they would otherwise succeed through
    /// overcommit and end in the OOM killer when touched.
    static func allocateFloats(_ count: Int, for purpose: String) throws(BackpropError)
        -> UnsafeMutablePointer<Float>
    {
        try allocate(Float.self, count: count, for: purpose)
    }

    /// `count` uninitialized values of a trivial type, with the same budget as floats.
    static func allocate<Element>(_ type: Element.Type, count: Int, for purpose: String) throws(BackpropError)
        -> UnsafeMutablePointer<Element>
    {
        try checkBudget(count, of: type, for: purpose)
        let bytes = max(count, 1) * MemoryLayout<Element>.stride
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
            throw BackpropError(.outOfMemory, "could not allocate \(bytes) bytes for \(purpose)")
        }
        return raw.bindMemory(to: type, capacity: max(count, 1))
    }

    /// Refuses `count` floats that exceed the memory this process may use: checked for a
    /// whole group of buffers before any of them is allocated, since buffers that each fit
    /// can still exceed it together.
    static func checkBudget(floats count: Int, for purpose: String) throws(BackpropError) {
        try checkBudget(count, of: Float.self, for: purpose)
    }

    private static func checkBudget<Element>(_ count: Int, of type: Element.Type, for purpose: String) throws(BackpropError) {
        let (bytes, overflow) = max(count, 0).multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow, bytes <= limit else {
            throw BackpropError(.outOfMemory,
                "\(purpose) would need \(overflow ? "more than \(Int.max)" : "\(bytes)") bytes, more than the \(limit >> 20) MiB of memory available to this process")
        }
    }

    static func free<Element>(_ pointer: UnsafeMutablePointer<Element>) {
        #if canImport(Glibc)
        Glibc.free(pointer)
        #else
        Musl.free(pointer)
        #endif
    }

    /// The machine's physical memory, or the cgroup's memory limit when that is lower.
    static let limit: Int = min(physicalMemory, cgroupLimit ?? Int.max)

    private static let physicalMemory: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// cgroup v2's memory.max, or v1's limit_in_bytes, when set.
    private static var cgroupLimit: Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let file = fopen(path, "r") else { continue }
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 32)
            guard fgets(&line, Int32(line.count), file) != nil else { continue }
            // "max" (no limit) parses as 0 and is skipped.
            let value = strtoull(line, nil, 10)
            if value > 0, value < UInt64(Int.max) { return Int(value) }
        }
        return nil
    }
}
