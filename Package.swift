// swift-tools-version:6.0
import PackageDescription
import Foundation

// The release build targets the CPU it is built on, because without a CPU target Swift
// emits SSE only and SIMD FMAs become scalar `fmaf` calls (~100x slower). For a binary that
// must run on other x86-64 machines set BACKPROP_TARGET_CPU (e.g. `haswell` for any AVX2 CPU).
let targetCPU = ProcessInfo.processInfo.environment["BACKPROP_TARGET_CPU"] ?? "native"
let codegen: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
// The library itself also turns dynamic exclusivity checks off: they guard `var`
// properties of classes with a thread-local access set on every read, which cost a tiny
// network's training step (D) 9%, and the library's shared state is behind pointers they
// never checked anyway. Tests, the CLI and the demo keep them.
let libraryCodegen: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU, "-enforce-exclusivity=unchecked"])]

// The C layer is compiled for the x86-64 baseline, whatever the target: each of its entry
// points checks the CPU (CPUSupport.swift) before any core code, built for targetCPU, runs.
// A known baseline target records what it needs; "native" records nothing.
// Only the two baselines whose instructions CPUSupport checks exactly: other CPU names let
// LLVM emit more (AVX-VNNI for alderlake, SSE4A for znver*, VPOPCNTQ for icelake).
let baselineDefine: String? = ["haswell": "BACKPROP_REQUIRES_X86_64_V3", "skylake-avx512": "BACKPROP_REQUIRES_AVX512"][targetCPU]
let cLayerCodegen: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"] + (baselineDefine.map { ["-Xcc", "-D\($0)"] } ?? []))]
// A packaged library carries its ABI's SONAME (scripts/package: libbackprop.so.0); a build
// from source keeps libbackprop.so, so that programs linked against .build/release run
// from there.
let soname = ProcessInfo.processInfo.environment["BACKPROP_SONAME"] ?? "libbackprop.so"

// On x86-64 the library also carries an AVX-512 register tile, built for AVX-512 whatever
// the target CPU, and uses it only where CPUID says the CPU has AVX-512 (GEMMKernel.swift):
// a build for `haswell` runs on any AVX2 CPU and still gets the wider tile where it helps.
// (`arch` is the architecture the manifest is built for, i.e. the host's: a cross build
// from x86-64 to another architecture would have to drop this target.)
#if arch(x86_64)
let avx512Kernels: [Target] = [
    .target(name: "BackpropKernelsAVX512", dependencies: ["BackpropKernels"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "skylake-avx512", "-enforce-exclusivity=unchecked"])]),
]
#else
let avx512Kernels: [Target] = []
#endif
let coreDependencies: [Target.Dependency] = ["CScheduler", "CPUFeatures", "CFloatingPoint", "BackpropKernels"]
    + avx512Kernels.map { .target(name: $0.name) }

let exportsMap = Context.packageDirectory + "/Sources/CBackprop/exports.map"

let package = Package(
    name: "backprop",
    products: [
        // libbackprop.so: the C ABI of include/backprop.h.
        .library(name: "backprop", type: .dynamic, targets: ["CBackprop"]),
        .library(name: "BackpropCore", targets: ["BackpropCore"]),
        .executable(name: "backprop-demo", targets: ["backprop-demo"]),
        // The command-line tool: train, predict, evaluate and inspect models from CSV/IDX data.
        .executable(name: "backprop-cli", targets: ["backprop-cli"]),
    ],
    targets: [
        .target(name: "BackpropCore", dependencies: coreDependencies, swiftSettings: libraryCodegen),
        // The GEMM's register tile, written once and specialized where it is used.
        .target(name: "BackpropKernels", swiftSettings: libraryCodegen),
        // CPUID, asked once to choose the tile. Declarations and an inline function only.
        .systemLibrary(name: "CPUFeatures", path: "Sources/CPUFeatures"),
        // The thread's floating-point control register (FTZ/DAZ), which Swift cannot reach.
        // Inline functions only.
        .systemLibrary(name: "CFloatingPoint", path: "Sources/CFloatingPoint"),
        // libc's sched_getcpu(), which Swift's Glibc module hides. Declarations only.
        .systemLibrary(name: "CScheduler", path: "Sources/CScheduler"),
        // The header as a Clang module, so Swift code can use its constants and check its
        // prototypes. It links nothing.
        .systemLibrary(name: "CBackpropABI", path: "include"),
        .target(
            name: "CBackprop",
            dependencies: ["BackpropCore", "CBackpropABI", "CPUFeatures"],
            exclude: ["exports.map"],
            swiftSettings: cLayerCodegen,
            linkerSettings: [
                // A self-contained .so: Swift's runtime linked in, only bp_* exported.
                .unsafeFlags([
                    "-static-stdlib",
                    "-Xlinker", "-soname=\(soname)",
                    "-Xlinker", "--version-script=\(exportsMap)",
                ]),
            ]
        ),
        // Compiled, never linked: fails the build when a prototype in include/backprop.h
        // and its @_cdecl implementation disagree on any type.
        .target(name: "ABIConformance", dependencies: ["CBackprop", "CBackpropABI"]),
        // Generated data sets and a mini-batch loop, shared by the demo and the tests.
        .target(name: "SyntheticData", dependencies: ["BackpropCore"], swiftSettings: codegen),
        .executableTarget(name: "backprop-cli", dependencies: ["BackpropCore"], swiftSettings: codegen),
        .executableTarget(name: "backprop-demo", dependencies: ["BackpropCore", "SyntheticData"], swiftSettings: codegen),
        .testTarget(name: "BackpropCoreTests", dependencies: ["BackpropCore", "SyntheticData"], swiftSettings: codegen),
    ] + avx512Kernels
)
