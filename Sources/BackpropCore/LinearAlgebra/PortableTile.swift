import BackpropKernels

/// The 6 × 16 tile in SIMD8 accumulators: twelve, which with two B vectors and a
/// broadcast fit the sixteen registers of AVX2. It is specialized here, so it is built for
/// the library's target CPU and runs wherever the library does. Its entry point is
/// `@inline(never)`, like the AVX-512 tile's, so that `GEMMKernel`'s choice between the
/// tiles stays two calls, small enough to inline into the macro-kernel.
enum PortableTile: RegisterTile {
    typealias Vector = SIMD8<Float>
    static var rows: Int { 6 }

    @inline(never)
    static func multiplyTile(
        leftHalf: Bool, k: Int, a: UnsafePointer<Float>, rowStep: Int, kStep: Int, b: UnsafePointer<Float>,
        alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        multiply(leftHalf: leftHalf, k: k, a: a, rowStep: rowStep, kStep: kStep, b: b, alpha: alpha,
                 accumulate: accumulate, bias: bias, c: c, ldc: ldc)
    }

    /// `RegisterTile.combine(width:)`, the sparse product's inner loop, compiled here.
    @inline(never)
    static func combineRows(
        width: Int, rows: Int, entries: UnsafeRawPointer, listStride: Int, counts: UnsafePointer<Int32>,
        panel: UnsafePointer<Float>, panelWidth: Int, alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        combine(width: width, rows: rows, entries: entries, listStride: listStride, counts: counts, panel: panel,
                panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
    }
}
