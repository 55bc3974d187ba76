import BackpropCore
import CBackpropABI

/// Which of a network's two scalings a call is about.
private enum Side {
    case inputs, targets

    func width(of network: Network) -> Int { self == .inputs ? network.inputSize : network.outputSize }
    func scaling(of network: Network) -> FeatureScaling? { self == .inputs ? network.inputScaling : network.targetScaling }

    func set(_ scaling: FeatureScaling?, on network: Network) throws(BackpropError) {
        self == .inputs ? try network.setInputScaling(scaling) : try network.setTargetScaling(scaling)
    }

    /// Sets the scaling that standardises `count` rows of `data` (inputs or targets).
    func standardize(_ net: OpaquePointer?, _ data: UnsafePointer<Float>?, _ count: Int) -> bp_status {
        entryPoint {
            let network = try Handle.network(net)
            let rows = try size(count, "count")
            if self == .inputs {
                try network.standardizeInputs(try network.inputRows(try required(data, "inputs"), batch: rows), count: rows)
            } else {
                try network.standardizeTargets(try network.targetRows(try required(data, "targets"), batch: rows), count: rows)
            }
        }
    }

    /// `count`, which must be the scaled layer's width.
    func checkedWidth(_ network: Network, _ count: Int) throws -> Int {
        let count = try size(count, "count")
        guard count == width(of: network) else {
            throw Failure(BP_ERROR_SIZE_MISMATCH, "count is \(count); the network has \(width(of: network)) \(self)")
        }
        return count
    }
}

private func setScaling(
    _ side: Side, _ net: OpaquePointer?, _ shift: UnsafePointer<Float>?, _ scale: UnsafePointer<Float>?, _ count: Int
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        guard shift != nil || scale != nil || count != 0 else { return try side.set(nil, on: network) }
        let shift = try required(shift, "shift"), scale = try required(scale, "scale")
        let width = try side.checkedWidth(network, count)
        try side.set(try FeatureScaling(
            shift: Array(UnsafeBufferPointer(start: shift, count: width)),
            scale: Array(UnsafeBufferPointer(start: scale, count: width))), on: network)
    }
}

private func getScaling(
    _ side: Side, _ net: OpaquePointer?, _ shift: UnsafeMutablePointer<Float>?, _ scale: UnsafeMutablePointer<Float>?,
    _ count: Int
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let shift = try required(shift, "shift"), scale = try required(scale, "scale")
        let width = try side.checkedWidth(network, count)
        let scaling = side.scaling(of: network)  // none: the identity
        for k in 0 ..< width {
            shift[k] = scaling?.shift[k] ?? 0
            scale[k] = scaling?.scale[k] ?? 1
        }
    }
}

@_cdecl("bp_set_input_scaling")
public func bp_set_input_scaling(
    _ net: OpaquePointer?, _ shift: UnsafePointer<Float>?, _ scale: UnsafePointer<Float>?, _ count: Int
) -> bp_status {
    setScaling(.inputs, net, shift, scale, count)
}

@_cdecl("bp_get_input_scaling")
public func bp_get_input_scaling(
    _ net: OpaquePointer?, _ shift: UnsafeMutablePointer<Float>?, _ scale: UnsafeMutablePointer<Float>?, _ count: Int
) -> bp_status {
    getScaling(.inputs, net, shift, scale, count)
}

@_cdecl("bp_standardize_inputs")
public func bp_standardize_inputs(_ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ count: Int) -> bp_status {
    Side.inputs.standardize(net, inputs, count)
}

@_cdecl("bp_set_target_scaling")
public func bp_set_target_scaling(
    _ net: OpaquePointer?, _ shift: UnsafePointer<Float>?, _ scale: UnsafePointer<Float>?, _ count: Int
) -> bp_status {
    setScaling(.targets, net, shift, scale, count)
}

@_cdecl("bp_get_target_scaling")
public func bp_get_target_scaling(
    _ net: OpaquePointer?, _ shift: UnsafeMutablePointer<Float>?, _ scale: UnsafeMutablePointer<Float>?, _ count: Int
) -> bp_status {
    getScaling(.targets, net, shift, scale, count)
}

@_cdecl("bp_standardize_targets")
public func bp_standardize_targets(_ net: OpaquePointer?, _ targets: UnsafePointer<Float>?, _ count: Int) -> bp_status {
    Side.targets.standardize(net, targets, count)
}
