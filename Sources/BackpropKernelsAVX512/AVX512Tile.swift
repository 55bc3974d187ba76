import BackpropKernels

/// The 8 × 32 tile in SIMD16 (zmm) accumulators: sixteen of AVX-512's 32 registers, plus
/// two for B and one for a broadcast. This module alone is built for AVX-512, so the core
/// calls it only on a CPU (and OS) that has it.
///
/// Eight rows rather than six: batches and layer widths are usually multiples of 8, so no
/// tile is padded with rows computed for nothing, and each pair of B loads feeds sixteen
/// multiply-adds. The entry point is `@inline(never)` so that it is compiled here, with
/// this module's flags, and never inlined into a caller built for a lesser CPU.
public enum AVX512Tile: RegisterTile {
    public typealias Vector = SIMD16<Float>
    public static var rows: Int { 8 }

    @inline(never)
    public static func multiplyTile(
        leftHalf: Bool, k: Int, a: UnsafePointer<Float>, rowStep: Int, kStep: Int, b: UnsafePointer<Float>,
        alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        multiply(leftHalf: leftHalf, k: k, a: a, rowStep: rowStep, kStep: kStep, b: b, alpha: alpha,
                 accumulate: accumulate, bias: bias, c: c, ldc: ldc)
    }

    /// `RegisterTile.combine(width:)`, the sparse product's inner loop, compiled here.
    @inline(never)
    public static func combineRows(
        width: Int, rows: Int, entries: UnsafeRawPointer, listStride: Int, counts: UnsafePointer<Int32>,
        panel: UnsafePointer<Float>, panelWidth: Int, alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        combine(width: width, rows: rows, entries: entries, listStride: listStride, counts: counts, panel: panel,
                panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
    }
}
