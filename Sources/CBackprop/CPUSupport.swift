import CBackpropABI
import CPUFeatures

/// Whether this CPU runs the library's code. A build for a CPU baseline (scripts/package
/// builds for x86-64-v3) compiles the core with that baseline's instructions, while this
/// layer is compiled for plain x86-64: every entry point asks here first, and on a CPU
/// below the baseline returns BP_ERROR_UNSUPPORTED_CPU before any core code runs, instead
/// of dying on an illegal instruction. A build for the machine it is built on ("native",
/// the default) records no baseline and refuses nothing.
enum CPUSupport {
    /// The message of BP_ERROR_UNSUPPORTED_CPU, or nil when the CPU has what the build needs.
    static let refusal: String? = {
        let missing = missingFeatures()
        guard !missing.isEmpty else { return nil }
        return "this CPU lacks \(missing.joined(separator: ", ")), which this build of libbackprop needs "
            + "(it is built for \(baseline): Intel Haswell, AMD Zen or newer); use a build for this CPU "
            + "(swift build -c release on it)"
    }()

    /// The baseline this build was compiled for.
    static var baseline: String {
#if BACKPROP_REQUIRES_AVX512
        return "x86-64-v4"
#elseif BACKPROP_REQUIRES_X86_64_V3
        return "x86-64-v3"
#else
        return "the build machine"
#endif
    }

    /// The names of the features the build needs that the CPU or the OS lacks.
    private static func missingFeatures() -> [String] {
#if BACKPROP_REQUIRES_X86_64_V3 || BACKPROP_REQUIRES_AVX512
        let mask = Int(bp_cpu_missing_x86_64_v3())
        var names = x86_64_v3.filter { mask & $0.bit != 0 }.map(\.name)
#if BACKPROP_REQUIRES_AVX512
        if bp_cpu_has_avx512() == 0 { names.append("AVX-512 (F, CD, BW, DQ, VL)") }
#endif
        return names
#else
        return []
#endif
    }

    private static let x86_64_v3: [(bit: Int, name: String)] = [
        (Int(BP_CPU_SSE3), "SSE3"), (Int(BP_CPU_SSSE3), "SSSE3"), (Int(BP_CPU_SSE4_1), "SSE4.1"),
        (Int(BP_CPU_SSE4_2), "SSE4.2"), (Int(BP_CPU_POPCNT), "POPCNT"),
        (Int(BP_CPU_CMPXCHG16B), "CMPXCHG16B"), (Int(BP_CPU_LAHF_SAHF), "LAHF/SAHF"),
        (Int(BP_CPU_AVX), "AVX"), (Int(BP_CPU_AVX2), "AVX2"), (Int(BP_CPU_FMA), "FMA"),
        (Int(BP_CPU_BMI1), "BMI1"), (Int(BP_CPU_BMI2), "BMI2"), (Int(BP_CPU_F16C), "F16C"),
        (Int(BP_CPU_LZCNT), "LZCNT"), (Int(BP_CPU_MOVBE), "MOVBE"),
        (Int(BP_CPU_OS_YMM), "the OS's saving of AVX registers"),
    ]
}

@_cdecl("bp_check_cpu")
public func bp_check_cpu() -> bp_status {
    guard let refusal = CPUSupport.refusal else { return BP_OK }
    LastError.record(refusal)
    return BP_ERROR_UNSUPPORTED_CPU
}
