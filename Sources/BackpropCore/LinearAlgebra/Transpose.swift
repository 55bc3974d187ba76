/// 16 × 16 transposes in registers, for packing a transposed operand (W^T in z = W a)
/// into the GEMM's panels: sixteen vector loads, 64 two-vector shuffles and sixteen vector
/// stores, where element-by-element copying costs a load and a store per float.
enum Transpose {
    typealias V = SIMD16<Float>

    /// Writes the transpose of the 16 × 16 block whose row r is the 16 contiguous floats at
    /// `source + r * sourceStride`: row r of the result, the block's column r, goes to
    /// `target + r * targetStride`. Strides are in floats.
    @inline(__always)
    static func block16(
        _ source: UnsafePointer<Float>, sourceStride: Int, into target: UnsafeMutablePointer<Float>, targetStride: Int
    ) {
        var from = UnsafeRawPointer(source)
        let step = sourceStride * MemoryLayout<Float>.stride
        @inline(__always) func next() -> V {
            defer { from += step }
            return from.loadUnaligned(as: V.self)
        }
        var rows: Rows = (next(), next(), next(), next(), next(), next(), next(), next(),
                          next(), next(), next(), next(), next(), next(), next(), next())
        // Four perfect shuffles: each interleaves row i with row i + 8 into rows 2i and
        // 2i + 1, and after four of them element (r, c) is at (c, r).
        for _ in 0 ..< 4 { rows = perfectShuffle(rows) }
        var to = UnsafeMutableRawPointer(target)
        let targetStep = targetStride * MemoryLayout<Float>.stride
        @inline(__always) func store(_ row: V) {
            to.storeBytes(of: row, as: V.self)
            to += targetStep
        }
        store(rows.0); store(rows.1); store(rows.2); store(rows.3); store(rows.4); store(rows.5); store(rows.6)
        store(rows.7); store(rows.8); store(rows.9); store(rows.10); store(rows.11); store(rows.12); store(rows.13)
        store(rows.14); store(rows.15)
    }

    typealias Rows = (V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V)

    @inline(__always)
    private static func perfectShuffle(_ r: Rows) -> Rows {
        (zipLow(r.0, r.8), zipHigh(r.0, r.8), zipLow(r.1, r.9), zipHigh(r.1, r.9),
         zipLow(r.2, r.10), zipHigh(r.2, r.10), zipLow(r.3, r.11), zipHigh(r.3, r.11),
         zipLow(r.4, r.12), zipHigh(r.4, r.12), zipLow(r.5, r.13), zipHigh(r.5, r.13),
         zipLow(r.6, r.14), zipHigh(r.6, r.14), zipLow(r.7, r.15), zipHigh(r.7, r.15))
    }

    /// (a0, b0, a1, b1, …, a7, b7): one constant two-vector shuffle.
    @inline(__always)
    private static func zipLow(_ a: V, _ b: V) -> V { interleave(a.lowHalf, b.lowHalf) }

    /// (a8, b8, a9, b9, …, a15, b15).
    @inline(__always)
    private static func zipHigh(_ a: V, _ b: V) -> V { interleave(a.highHalf, b.highHalf) }

    @inline(__always)
    private static func interleave(_ even: SIMD8<Float>, _ odd: SIMD8<Float>) -> V {
        var result = V()
        result.evenHalf = even
        result.oddHalf = odd
        return result
    }
}
