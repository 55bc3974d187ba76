import CBackpropABI
import CPUFeatures

/// bp_check_cpu(). A build for a CPU baseline (scripts/package builds for x86-64-v3)
/// compiles the core with that baseline's instructions while this layer is compiled for
/// plain x86-64: every entry point first asks `bp_cpu_refusal()` (cpu_features.h), and on
/// a CPU below the baseline returns BP_ERROR_UNSUPPORTED_CPU before any core code runs,
/// instead of dying on an illegal instruction. The refusal and its message are C: a
/// refused call runs no Swift code beyond these comparisons. A build for the machine it
/// is built on ("native", the default) records no baseline and refuses nothing.
@_cdecl("bp_check_cpu")
public func bp_check_cpu() -> bp_status {
    bp_cpu_refusal() == nil ? BP_OK : BP_ERROR_UNSUPPORTED_CPU
}
