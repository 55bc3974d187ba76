import BackpropCore
import CBackpropABI
import CPUFeatures

@_cdecl("bp_abi_version")
public func bp_abi_version() -> UInt32 {
    UInt32(BP_ABI_VERSION)
}

@_cdecl("bp_version")
public func bp_version() -> UnsafePointer<CChar>? {
    cString(Version.string)
}

@_cdecl("bp_kernels")
public func bp_kernels() -> UnsafePointer<CChar>? {
    bp_cpu_refusal() == nil ? cString(GEMMKernel.selected.name) : cString("none")
}
