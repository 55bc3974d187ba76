import BackpropCore
import CBackpropABI

@_cdecl("bp_get_parameters")
public func bp_get_parameters(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ count: Int) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let buffer = try floats(out, count, "out")
        try network.copyParameters(into: buffer)
    }
}

@_cdecl("bp_set_parameters")
public func bp_set_parameters(_ net: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        try network.setParameters(UnsafeBufferPointer(start: try required(values, "in"), count: try size(count, "count")))
    }
}

@_cdecl("bp_get_gradients")
public func bp_get_gradients(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ count: Int) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let buffer = try floats(out, count, "out")
        try network.copyGradients(into: buffer)
    }
}

@_cdecl("bp_set_gradients")
public func bp_set_gradients(_ net: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        try network.setGradients(UnsafeBufferPointer(start: try required(values, "in"), count: try size(count, "count")))
    }
}

/// A caller's buffer of `count` floats, as the core's buffer type.
private func floats(_ pointer: UnsafeMutablePointer<Float>?, _ count: Int, _ name: String) throws(Failure)
    -> UnsafeMutableBufferPointer<Float>
{
    UnsafeMutableBufferPointer(start: try required(pointer, name), count: try size(count, "count"))
}

@_cdecl("bp_initialize")
public func bp_initialize(_ net: OpaquePointer?, _ scheme: Int32, _ seed: UInt64) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        try network.initialize(try Initialization(code: scheme, argument: "the initialisation scheme"), seed: seed)
    }
}
