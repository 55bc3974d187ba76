import BackpropCore
import CBackpropABI

@_cdecl("bp_save")
public func bp_save(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        try network.save(to: String(cString: try required(path, "path")))
    }
}

@_cdecl("bp_load")
public func bp_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> bp_status {
    creatingEntryPoint(out) {
        try Network.load(from: String(cString: try required(path, "path")))
    }
}

@_cdecl("bp_save_to_buffer")
public func bp_save_to_buffer(
    _ net: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let written = try required(written, "written")
        written.pointee = network.encodedSize
        guard let buffer else { return }
        // A capacity beyond Int.max is simply large enough.
        try network.encode(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity < 0 ? Int.max : capacity))
    }
}

@_cdecl("bp_load_from_buffer")
public func bp_load_from_buffer(
    _ buffer: UnsafeRawPointer?, _ count: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> bp_status {
    creatingEntryPoint(out) {
        try Network.decode(UnsafeRawBufferPointer(start: try requiredBytes(buffer, "buffer"), count: try size(count, "size")))
    }
}
