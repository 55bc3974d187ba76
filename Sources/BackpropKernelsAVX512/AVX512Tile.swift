import BackpropKernels

/// The 8 × 32 tile in SIMD16 (zmm) accumulators: sixteen of AVX-512's 32 registers, plus
/// two for B and one for a broadcast. This module alone is built for AVX-512, so the core
/// calls it only on a CPU (and OS) that has it.
///
/// Eight rows rather than six: batches and layer widths are usually multiples of 8, so no
/// tile is padded with rows computed for nothing, and each pair of B loads feeds sixteen
/// multiply-adds. The entry points are `@inline(never)` so that they are compiled here,
/// with this module's flags, and never inlined into a caller built for a lesser CPU.
public enum AVX512Tile: RegisterTile {
    public typealias Vector = SIMD16<Float>
    public static var rows: Int { 8 }

    @inline(never)
    public static func tileReadingRows(
        k: Int, a: UnsafePointer<Float>, rowStep: Int, b: UnsafePointer<Float>, alpha: Float,
        accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        multiplyRows(k: k, a: a, rowStep: rowStep, b: b, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
    }

    @inline(never)
    public static func tileReadingPanel(
        k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, alpha: Float,
        accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        multiplyPanel(k: k, a: a, b: b, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
    }
}
