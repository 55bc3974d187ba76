/// Matrix products without packing, for shapes where packing would cost as much as the
/// multiply: tiny layers, a few samples (a batch of two to four), and rank-few updates
/// (the weight gradient of such a batch). A single sample goes straight to `MatrixVector`.
/// Each form keeps its inner loop on a unit-stride dimension.
enum DirectGEMM {
    /// Whether `GEMM.multiply` should come here rather than pack.
    static func isPreferred(m: Int, n: Int, k: Int) -> Bool {
        min(m, k) <= 4 || GEMMThreads.multiplyAdds(m, n, k) <= 32 * 1024
    }

    /// Same contract as `GEMM.multiply`.
    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if b.columnStride == 1 {
            rowCombinations(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc)
        } else if b.rowStride == 1 && a.columnStride == 1 && k >= 16 {
            dotProducts(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc)
        } else {
            elementwise(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc)
        }
    }

    /// Row i of C is α Σ_kk A(i, kk) · (row kk of B): B's contiguous rows combined.
    private static func rowCombinations(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0 ..< m {
            MatrixVector.transposedProduct(
                b.base, rows: k, columns: n, rowStride: b.rowStride, v: a.base + i * a.rowStride, vStride: a.columnStride,
                alpha: alpha, accumulate: accumulate, into: c + i * ldc)
        }
    }

    /// C(i, j) = α · (row i of A) · (column j of B), both contiguous: each row of C is B^T
    /// times a row of A.
    private static func dotProducts(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0 ..< m {
            MatrixVector.product(
                b.base, rows: n, columns: k, rowStride: b.columnStride, x: a.base + i * a.rowStride,
                alpha: alpha, adding: accumulate ? UnsafePointer(c + i * ldc) : nil, into: c + i * ldc)
        }
    }

    private static func elementwise(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0 ..< m {
            for j in 0 ..< n {
                var sum: Float = 0
                for kk in 0 ..< k {
                    sum = sum.addingProduct(a.base[i * a.rowStride + kk * a.columnStride],
                                            b.base[kk * b.rowStride + j * b.columnStride])
                }
                c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + alpha * sum
            }
        }
    }
}
