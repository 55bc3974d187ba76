import BackpropCore
import CBackpropABI

@_cdecl("bp_export_c_source")
public func bp_export_c_source(
    _ net: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ prefix: UnsafePointer<CChar>?, _ options: UInt32
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let path = String(cString: try required(path, "path"))
        let prefix = String(cString: try required(prefix, "prefix"))
        try network.exportCSource(to: path, prefix: prefix, options: try cSourceOptions(options))
    }
}

/// The flags of bp_export_c_source() as options.
private func cSourceOptions(_ flags: UInt32) throws(Failure) -> CSourceOptions {
    let int8 = UInt32(BP_C_SOURCE_INT8), int32 = UInt32(BP_C_SOURCE_INT32_ACCUMULATE)
    guard flags & ~(int8 | int32) == 0 else {
        throw Failure(BP_ERROR_INVALID_ARGUMENT,
            "options is \(flags); expected BP_C_SOURCE_FLOAT (0) or BP_C_SOURCE_INT8 (\(int8)), with BP_C_SOURCE_INT32_ACCUMULATE (\(int32))")
    }
    return CSourceOptions(weights: flags & int8 != 0 ? .int8 : .float, accumulation: flags & int32 != 0 ? .int32 : .float)
}
