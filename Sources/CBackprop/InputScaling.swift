import BackpropCore
import CBackpropABI

@_cdecl("bp_set_input_scaling")
public func bp_set_input_scaling(
    _ net: OpaquePointer?, _ shift: UnsafePointer<Float>?, _ scale: UnsafePointer<Float>?, _ count: Int
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        guard shift != nil || scale != nil || count != 0 else { return try network.setInputScaling(nil) }
        let shift = try required(shift, "shift"), scale = try required(scale, "scale")
        let width = try inputWidth(network, count)
        try network.setInputScaling(try InputScaling(
            shift: Array(UnsafeBufferPointer(start: shift, count: width)),
            scale: Array(UnsafeBufferPointer(start: scale, count: width))))
    }
}

@_cdecl("bp_get_input_scaling")
public func bp_get_input_scaling(
    _ net: OpaquePointer?, _ shift: UnsafeMutablePointer<Float>?, _ scale: UnsafeMutablePointer<Float>?, _ count: Int
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let shift = try required(shift, "shift"), scale = try required(scale, "scale")
        let width = try inputWidth(network, count)
        let scaling = network.inputScaling  // none: the identity
        for k in 0 ..< width {
            shift[k] = scaling?.shift[k] ?? 0
            scale[k] = scaling?.scale[k] ?? 1
        }
    }
}

@_cdecl("bp_standardize_inputs")
public func bp_standardize_inputs(_ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ count: Int) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let x = try required(inputs, "inputs")
        let rows = try size(count, "count")
        try network.standardizeInputs(try network.inputRows(x, batch: rows), count: rows)
    }
}

/// `count`, which must be the network's input width.
private func inputWidth(_ network: Network, _ count: Int) throws -> Int {
    let count = try size(count, "count")
    guard count == network.inputSize else {
        throw Failure(BP_ERROR_SIZE_MISMATCH, "count is \(count); the network has \(network.inputSize) inputs")
    }
    return count
}
