import BackpropCore
import CBackpropABI

@_cdecl("bp_export_onnx")
public func bp_export_onnx(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        try network.exportONNX(to: String(cString: try required(path, "path")))
    }
}

@_cdecl("bp_export_onnx_to_buffer")
public func bp_export_onnx_to_buffer(
    _ net: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let written = try required(written, "written")
        let model = try network.onnxModel()
        written.pointee = model.count
        guard let buffer else { return }
        // A capacity beyond Int.max is simply large enough.
        guard capacity < 0 || capacity >= model.count else {
            throw Failure(BP_ERROR_BUFFER_TOO_SMALL, "the buffer holds \(capacity) bytes; the ONNX model needs \(model.count)")
        }
        model.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { buffer.copyMemory(from: source, byteCount: bytes.count) }
        }
    }
}

@_cdecl("bp_import_onnx")
public func bp_import_onnx(
    _ path: UnsafePointer<CChar>?, _ loss: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> bp_status {
    creatingEntryPoint(out) {
        try Network.importONNX(from: String(cString: try required(path, "path")), loss: try importLoss(loss))
    }
}

@_cdecl("bp_import_onnx_from_buffer")
public func bp_import_onnx_from_buffer(
    _ buffer: UnsafeRawPointer?, _ count: Int, _ loss: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> bp_status {
    creatingEntryPoint(out) {
        let bytes = UnsafeRawBufferPointer(start: try requiredBytes(buffer, "buffer"), count: try size(count, "size"))
        return try Network.importONNX(bytes, loss: try importLoss(loss))
    }
}

/// A BP_LOSS_* value, or nil for BP_ONNX_LOSS_AUTO.
private func importLoss(_ code: Int32) throws(Failure) -> Loss? {
    code == BP_ONNX_LOSS_AUTO ? nil : try Loss(code: code, argument: "loss")
}
