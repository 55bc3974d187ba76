import BackpropCore
import CBackpropABI

@_cdecl("bp_create")
public func bp_create(
    _ layerSizes: UnsafePointer<Int>?, _ layerCount: Int, _ activations: UnsafePointer<Int32>?,
    _ loss: Int32, _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> bp_status {
    creatingEntryPoint(out) {
        let sizePointer = try required(layerSizes, "layer_sizes")
        let activationPointer = try required(activations, "activations")
        let count = try size(layerCount, "layer_count")
        // Bounded before either array is read: their length is all the caller told us.
        guard count >= 2 else {
            throw Failure(BP_ERROR_INVALID_ARGUMENT,
                "layer_count is \(count); a network needs at least an input and an output layer (2)")
        }
        guard count <= Network.maxLayerCount else {
            throw Failure(BP_ERROR_SIZE_OVERFLOW,
                "layer_count is \(count); at most BP_MAX_LAYER_COUNT (\(Network.maxLayerCount)) layers are supported")
        }
        var sizes: [Int] = []
        for index in 0 ..< count {
            sizes.append(try size(sizePointer[index], "layer_sizes[\(index)]"))
        }
        var sigmas: [Activation] = []
        for index in 0 ..< count - 1 {
            sigmas.append(try Activation(code: activationPointer[index], argument: "activations[\(index)]"))
        }
        return try Network(layerSizes: sizes, activations: sigmas, loss: try Loss(code: loss, argument: "loss"), seed: seed)
    }
}

@_cdecl("bp_destroy")
public func bp_destroy(_ net: OpaquePointer?) {
    if let net { Handle.release(net) }
}

@_cdecl("bp_input_size")
public func bp_input_size(_ net: OpaquePointer?) -> Int {
    Handle.peek(net)?.inputSize ?? 0
}

@_cdecl("bp_output_size")
public func bp_output_size(_ net: OpaquePointer?) -> Int {
    Handle.peek(net)?.outputSize ?? 0
}

@_cdecl("bp_parameter_count")
public func bp_parameter_count(_ net: OpaquePointer?) -> Int {
    Handle.peek(net)?.parameterCount ?? 0
}

@_cdecl("bp_layer_count")
public func bp_layer_count(_ net: OpaquePointer?) -> Int {
    Handle.peek(net)?.layerSizes.count ?? 0
}

@_cdecl("bp_layer_size")
public func bp_layer_size(_ net: OpaquePointer?, _ index: Int) -> Int {
    guard let sizes = Handle.peek(net)?.layerSizes, sizes.indices.contains(index) else { return 0 }
    return sizes[index]
}

@_cdecl("bp_set_threads")
public func bp_set_threads(_ net: OpaquePointer?, _ threads: Int) -> bp_status {
    entryPoint {
        // size_t values past Int.max are simply out of range, like 257.
        try Handle.network(net).setThreadCount(threads < 0 ? Int.max : threads)
    }
}

@_cdecl("bp_thread_count")
public func bp_thread_count(_ net: OpaquePointer?) -> Int {
    Handle.peek(net)?.threadCount ?? 0
}

@_cdecl("bp_layer_activation")
public func bp_layer_activation(_ net: OpaquePointer?, _ layer: Int) -> Int32 {
    guard let activations = Handle.peek(net)?.activations, (1 ... activations.count).contains(layer) else { return -1 }
    return activations[layer - 1].code
}

@_cdecl("bp_loss_function")
public func bp_loss_function(_ net: OpaquePointer?) -> Int32 {
    Handle.peek(net)?.loss.code ?? -1
}
