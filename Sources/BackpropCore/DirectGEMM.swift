/// Matrix products without packing, for shapes where packing would cost as much as the
/// multiply: tiny layers (a 2-8-1 network), single samples (one row of A), and rank-few
/// updates (a batch of one or two in the weight gradient). Each form keeps its inner loop
/// on a unit-stride dimension.
enum DirectGEMM {
    typealias V = SIMD16<Float>

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

    /// Row i of C is Σ_kk α A(i, kk) · (row kk of B): axpy along B's contiguous rows.
    private static func rowCombinations(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0 ..< m {
            let row = c + i * ldc
            let first = alpha * a.base[i * a.rowStride]
            if accumulate {
                for j in 0 ..< n { row[j] = row[j].addingProduct(first, b.base[j]) }
            } else {
                for j in 0 ..< n { row[j] = first * b.base[j] }
            }
            for kk in 1 ..< max(k, 1) {
                let scale = alpha * a.base[i * a.rowStride + kk * a.columnStride]
                let source = b.base + kk * b.rowStride
                for j in 0 ..< n { row[j] = row[j].addingProduct(scale, source[j]) }
            }
        }
    }

    /// C(i, j) = α · (row i of A) · (column j of B), both contiguous: four columns at a
    /// time so four independent FMA chains hide the latency and A's row is loaded once.
    private static func dotProducts(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0 ..< m {
            let x = a.base + i * a.rowStride
            let row = c + i * ldc
            var j = 0
            while j + 4 <= n {
                let dots = dot4(x, b.base + j * b.columnStride, stride: b.columnStride, count: k)
                for lane in 0 ..< 4 { row[j + lane] = (accumulate ? row[j + lane] : 0) + alpha * dots[lane] }
                j += 4
            }
            while j < n {
                let dot = dot(x, b.base + j * b.columnStride, count: k)
                row[j] = (accumulate ? row[j] : 0) + alpha * dot
                j += 1
            }
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

    /// x · y over `count` contiguous floats each.
    @inline(__always)
    private static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V()
        var i = 0
        let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
        while i + 16 <= count {
            acc.addProduct(rx.loadUnaligned(fromByteOffset: i * 4, as: V.self), ry.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            i += 16
        }
        var sum = VectorMath.sum(acc)
        while i < count {
            sum = sum.addingProduct(x[i], y[i])
            i += 1
        }
        return sum
    }

    /// x · y_0 … x · y_3 where y_r starts at y + r·stride, each `count` contiguous floats.
    @inline(__always)
    private static func dot4(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, stride: Int, count: Int) -> SIMD4<Float> {
        var acc0 = V(), acc1 = V(), acc2 = V(), acc3 = V()
        let rx = UnsafeRawPointer(x)
        let r0 = UnsafeRawPointer(y), r1 = UnsafeRawPointer(y + stride)
        let r2 = UnsafeRawPointer(y + 2 * stride), r3 = UnsafeRawPointer(y + 3 * stride)
        var i = 0
        while i + 16 <= count {
            let offset = i * 4
            let v = rx.loadUnaligned(fromByteOffset: offset, as: V.self)
            acc0.addProduct(v, r0.loadUnaligned(fromByteOffset: offset, as: V.self))
            acc1.addProduct(v, r1.loadUnaligned(fromByteOffset: offset, as: V.self))
            acc2.addProduct(v, r2.loadUnaligned(fromByteOffset: offset, as: V.self))
            acc3.addProduct(v, r3.loadUnaligned(fromByteOffset: offset, as: V.self))
            i += 16
        }
        var sums = SIMD4(VectorMath.sum(acc0), VectorMath.sum(acc1), VectorMath.sum(acc2), VectorMath.sum(acc3))
        while i < count {
            let v = x[i]
            sums = sums.addingProduct(SIMD4(repeating: v), SIMD4(y[i], y[stride + i], y[2 * stride + i], y[3 * stride + i]))
            i += 1
        }
        return sums
    }
}
