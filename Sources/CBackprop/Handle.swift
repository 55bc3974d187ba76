import BackpropCore
import CBackpropABI

/// A bp_network* is a retained reference to a `Network`: created by bp_create,
/// released by bp_destroy.
enum Handle {
    static func make(_ network: Network) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(network).toOpaque())
    }

    static func network(_ handle: OpaquePointer?) throws(Failure) -> Network {
        try unmanaged(handle).takeUnretainedValue()
    }

    /// `body` on the network behind a handle, without retaining it: the caller's handle
    /// keeps it alive for the call (bp_destroy during a call is the caller's error), and
    /// a retain and release are a measurable share of a tiny network's step.
    static func withNetwork<R>(_ handle: OpaquePointer?, _ body: (Network) throws -> R) throws -> R {
        try unmanaged(handle)._withUnsafeGuaranteedRef(body)
    }

    private static func unmanaged(_ handle: OpaquePointer?) throws(Failure) -> Unmanaged<Network> {
        guard let handle else {
            throw Failure(BP_ERROR_NULL_ARGUMENT, "net is NULL; pass a handle from bp_create()")
        }
        return Unmanaged<Network>.fromOpaque(UnsafeRawPointer(handle))
    }

    /// The network behind a handle, or nil for NULL: for the getters that return 0.
    static func peek(_ handle: OpaquePointer?) -> Network? {
        try? network(handle)
    }

    static func release(_ handle: OpaquePointer) {
        Unmanaged<Network>.fromOpaque(UnsafeRawPointer(handle)).release()
    }
}

/// A caller's rows as the core's buffers, sized from the network and the batch (the core
/// then checks the values; the caller vouches for the length).
extension Network {
    func inputRows(_ pointer: UnsafePointer<Float>, batch: Int) throws(BackpropError) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer, count: try inputCount(batch: batch))
    }

    func targetRows(_ pointer: UnsafePointer<Float>, batch: Int) throws(BackpropError) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer, count: try outputCount(batch: batch))
    }

    func outputRows(_ pointer: UnsafeMutablePointer<Float>, batch: Int) throws(BackpropError) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: try outputCount(batch: batch))
    }
}
