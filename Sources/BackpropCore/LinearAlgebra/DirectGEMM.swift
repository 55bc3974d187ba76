/// Matrix products without packing, for shapes where packing would cost as much as the
/// multiply: tiny layers, a few samples (a batch of two to four), and rank-few updates
/// (the weight gradient of such a batch). A single sample goes straight to `MatrixVector`.
/// Each form keeps its inner loop on a unit-stride dimension.
enum DirectGEMM {
    /// Whether `GEMM.multiply` should come here rather than pack.
    static func isPreferred(m: Int, n: Int, k: Int) -> Bool {
        min(m, k) <= 4 || GEMMThreads.multiplyAdds(m, n, k) <= 32 * 1024
    }

    /// The depth from which a B with contiguous columns (W^T read in place, as every
    /// layer's forward product reads it) is multiplied by dot products; shallower ones copy
    /// B into rows when there is scratch.
    static let dotProductDepth = 16

    /// Same contract as `GEMM.multiply`. A `workspace` (or nil) lends its packed-B block, so
    /// that a strided B can be copied into rows first.
    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int, workspace: GEMMWorkspace? = nil
    ) {
        if b.columnStride == 1 {
            rowCombinations(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc)
        } else if b.rowStride == 1 && a.columnStride == 1 && k >= dotProductDepth {
            dotProducts(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc)
        } else if let workspace, k * n <= workspace.packedBCapacity {
            let rows = MatrixView(base: UnsafePointer(workspace.packedB), rowStride: n, columnStride: 1)
            copyRows(k: k, n: n, b, into: workspace.packedB)
            elementwiseFromRows(m: m, n: n, k: k, alpha: alpha, a, rows, accumulate: accumulate, into: c, ldc: ldc)
        } else {
            elementwise(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc)
        }
    }

    /// B (k × n, any strides) into `rows`, row-major and contiguous.
    private static func copyRows(k: Int, n: Int, _ b: MatrixView, into rows: UnsafeMutablePointer<Float>) {
        for kk in 0 ..< k {
            let from = b.base + kk * b.rowStride, to = rows + kk * n
            for j in 0 ..< n { to[j] = from[j * b.columnStride] }
        }
    }

    /// `elementwise` with B's rows contiguous, sixteen columns of C at a time: each element
    /// takes the same fused multiply-adds in the same order, so the results are the same
    /// bits. The layout of a layer with a few inputs (W^T read in place is strided),
    /// which `elementwise` computed element by element at a tenth of the speed.
    private static func elementwiseFromRows(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        typealias V = MatrixVector.V
        let scale = V(repeating: alpha)
        for i in 0 ..< m {
            let row = a.base + i * a.rowStride, out = c + i * ldc
            var j = 0
            while j + V.scalarCount <= n {
                var sum = V()
                var from = b.base + j
                for kk in 0 ..< k {
                    sum.addProduct(V(repeating: row[kk * a.columnStride]), UnsafeRawPointer(from).loadUnaligned(as: V.self))
                    from += n
                }
                let previous = accumulate ? UnsafeRawPointer(out + j).loadUnaligned(as: V.self) : V()
                UnsafeMutableRawPointer(out + j).storeBytes(of: previous + scale * sum, as: V.self)
                j += V.scalarCount
            }
            while j < n {
                var sum: Float = 0
                for kk in 0 ..< k { sum = sum.addingProduct(row[kk * a.columnStride], b.base[kk * n + j]) }
                out[j] = (accumulate ? out[j] : 0) + alpha * sum
                j += 1
            }
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
