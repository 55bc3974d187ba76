import CBackpropABI
import CPUFeatures

@_cdecl("bp_status_string")
public func bp_status_string(_ status: bp_status) -> UnsafePointer<CChar>? {
    cString(description(of: status))
}

@_cdecl("bp_last_error")
public func bp_last_error() -> UnsafePointer<CChar>? {
    // On a CPU below the build's baseline every call that can fail refuses, so the last
    // error is always the refusal, kept in C (CPUSupport.swift).
    if let refusal = bp_cpu_refusal() { return refusal }
    return LastError.message
}

private func description(of status: bp_status) -> StaticString {
    switch status {
    case BP_OK: return "success"
    case BP_ERROR_NULL_ARGUMENT: return "a required pointer argument is NULL"
    case BP_ERROR_INVALID_ARGUMENT: return "an argument is out of its valid range"
    case BP_ERROR_UNKNOWN_ENUM: return "unknown activation, loss, optimizer or option key"
    case BP_ERROR_INVALID_ARCHITECTURE: return "unsupported combination of layers, activations and loss"
    case BP_ERROR_SIZE_MISMATCH: return "a count does not match the network"
    case BP_ERROR_SIZE_OVERFLOW: return "sizes too large"
    case BP_ERROR_NON_FINITE: return "a value is NaN or infinite"
    case BP_ERROR_STATE: return "the call is not valid in the network's current state"
    case BP_ERROR_OUT_OF_MEMORY: return "out of memory"
    case BP_ERROR_DIVERGED: return "training diverged: the loss or a gradient is NaN or infinite"
    case BP_ERROR_BUFFER_TOO_SMALL: return "the buffer is too small for the model"
    case BP_ERROR_IO: return "a file operation failed"
    case BP_ERROR_NOT_A_MODEL: return "the data is not a backprop model"
    case BP_ERROR_UNSUPPORTED_VERSION: return "unsupported model format version"
    case BP_ERROR_TRUNCATED: return "the model is truncated"
    case BP_ERROR_CHECKSUM_MISMATCH: return "the model's checksum does not match its contents"
    case BP_ERROR_CORRUPT_MODEL: return "the model is corrupt"
    case BP_ERROR_UNSUPPORTED_MODEL: return "the ONNX model is not a network the library supports"
    case BP_ERROR_UNSUPPORTED_CPU: return "this CPU lacks instructions this build of the library needs"
    case BP_ERROR_PEER_FAILED: return "another process of the distributed fit failed"
    default: return "unknown status"
    }
}
