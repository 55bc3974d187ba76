/// The products of one sample's step, each a matrix and a vector: z = W x (+ b), r = W^T v
/// and G = α v x^T. A batch of one calls them directly, since for a tiny network the
/// dispatch of a general product costs more than its arithmetic; `DirectGEMM` applies
/// them row by row. Index arithmetic runs on pointers, so no loop carries overflow checks.
enum MatrixVector {
    typealias V = SIMD16<Float>

    /// y_r = c_r + α (W_r · x) for the `rows` rows of W, each `columns` contiguous floats,
    /// `rowStride` apart; x holds `columns` contiguous floats, and c (which may be y, or nil
    /// for zeros) `rows`.
    @inline(__always)
    static func product(
        _ w: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int,
        x: UnsafePointer<Float>, alpha: Float, adding c: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
    ) {
        var r = 0
        if columns >= 16 {
            while r + 4 <= rows {
                let dots = dot4(x, w + r * rowStride, stride: rowStride, count: columns)
                for lane in 0 ..< 4 { y[r + lane] = (c?[r + lane] ?? 0) + alpha * dots[lane] }
                r += 4
            }
        }
        while r < rows {
            let dot = dot(x, w + r * rowStride, count: columns)
            y[r] = (c?[r] ?? 0) + alpha * dot
            r += 1
        }
    }

    /// Products with fewer multiply-adds than this stay on one thread. Above it the rows
    /// are split: besides the arithmetic, each core then streams only its share of W
    /// through its own cache (A's first layer, 800 KB, does not fit one core's L2).
    static let minimumParallelWork = 1 << 16

    /// `product` on the threads of `pool` when it has at least `minimumParallelWork`
    /// multiply-adds: each part is one band of rows, whole groups of four, so every y_r is
    /// computed exactly as on one thread.
    static func product(
        _ w: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int,
        x: UnsafePointer<Float>, adding c: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, pool: ThreadPool?
    ) {
        let parts = pool?.threadCount ?? 1
        guard let pool, parts > 1, rows >= 4 * parts,
              GEMMThreads.multiplyAdds(rows, columns, 1) >= minimumParallelWork else {
            product(w, rows: rows, columns: columns, rowStride: rowStride, x: x, alpha: 1, adding: c, into: y)
            return
        }
        pool.run(RowBands(w: w, columns: columns, rowStride: rowStride, x: x, c: c, y: y,
                          rows: Bands(count: rows, parts: parts, granularity: 4)))
    }

    /// One matrix-vector product split into bands of whole groups of four rows, one per part.
    private struct RowBands: ParallelJob {
        let w: UnsafePointer<Float>, columns: Int, rowStride: Int
        let x: UnsafePointer<Float>, c: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>
        let rows: Bands

        func run(part: Int) {
            let band = rows.range(part: part), first = band.lowerBound
            guard !band.isEmpty else { return }
            MatrixVector.product(w + first * rowStride, rows: band.count, columns: columns, rowStride: rowStride,
                                 x: x, alpha: 1, adding: c.map { $0 + first }, into: y + first)
        }
    }

    /// y = α Σ_r v_r W_r [+ y], i.e. α W^T v: the `rows` rows of W (each `columns`
    /// contiguous floats, `rowStride` apart) weighted by v's elements, `vStride` apart.
    /// Sixty-four columns of y at a time stay in registers across all rows, so y is
    /// written once instead of once per row.
    @inline(__always)
    static func transposedProduct(
        _ w: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int,
        v: UnsafePointer<Float>, vStride: Int, alpha: Float, accumulate: Bool, into y: UnsafeMutablePointer<Float>
    ) {
        let output = UnsafeMutableRawPointer(y)
        var j = 0
        while j + 64 <= columns {
            var acc0 = accumulate ? output.loadUnaligned(fromByteOffset: j * 4, as: V.self) : V()
            var acc1 = accumulate ? output.loadUnaligned(fromByteOffset: j * 4 + 64, as: V.self) : V()
            var acc2 = accumulate ? output.loadUnaligned(fromByteOffset: j * 4 + 128, as: V.self) : V()
            var acc3 = accumulate ? output.loadUnaligned(fromByteOffset: j * 4 + 192, as: V.self) : V()
            var row = UnsafeRawPointer(w + j), element = v
            for _ in 0 ..< rows {
                let s = V(repeating: alpha * element.pointee)
                acc0.addProduct(s, row.loadUnaligned(as: V.self))
                acc1.addProduct(s, row.loadUnaligned(fromByteOffset: 64, as: V.self))
                acc2.addProduct(s, row.loadUnaligned(fromByteOffset: 128, as: V.self))
                acc3.addProduct(s, row.loadUnaligned(fromByteOffset: 192, as: V.self))
                row += rowStride * 4
                element += vStride
            }
            output.storeBytes(of: acc0, toByteOffset: j * 4, as: V.self)
            output.storeBytes(of: acc1, toByteOffset: j * 4 + 64, as: V.self)
            output.storeBytes(of: acc2, toByteOffset: j * 4 + 128, as: V.self)
            output.storeBytes(of: acc3, toByteOffset: j * 4 + 192, as: V.self)
            j += 64
        }
        while j + 16 <= columns {
            var acc = accumulate ? output.loadUnaligned(fromByteOffset: j * 4, as: V.self) : V()
            var row = UnsafeRawPointer(w + j), element = v
            for _ in 0 ..< rows {
                acc.addProduct(V(repeating: alpha * element.pointee), row.loadUnaligned(as: V.self))
                row += rowStride * 4
                element += vStride
            }
            output.storeBytes(of: acc, toByteOffset: j * 4, as: V.self)
            j += 16
        }
        while j < columns {
            var sum: Float = accumulate ? y[j] : 0
            var row = w + j, element = v
            for _ in 0 ..< rows {
                sum = sum.addingProduct(alpha * element.pointee, row.pointee)
                row += rowStride
                element += vStride
            }
            y[j] = sum
            j += 1
        }
    }

    /// G = α v x^T (`rows` × `columns`, row-major): row r of G is α v_r x.
    @inline(__always)
    static func outerProduct(
        _ v: UnsafePointer<Float>, rows: Int, _ x: UnsafePointer<Float>, columns: Int, alpha: Float,
        into g: UnsafeMutablePointer<Float>
    ) {
        var row = g
        for r in 0 ..< rows {
            scale(x, by: alpha * v[r], into: row, count: columns)
            row += columns
        }
    }

    /// y = s·x over `count` floats.
    @inline(__always)
    private static func scale(_ x: UnsafePointer<Float>, by s: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0 ..< count { y[j] = s * x[j] }
    }

    /// x · y over `count` contiguous floats each.
    @inline(__always)
    private static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        guard count >= 16 else { return shortDot(x, y, count: count) }
        var acc = V()
        var i = 0
        let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
        while i + 16 <= count {
            acc.addProduct(rx.loadUnaligned(fromByteOffset: i * 4, as: V.self), ry.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            i += 16
        }
        return tail(x, y, from: i, count: count, sum: VectorMath.sum(acc))
    }

    /// x · y for fewer than sixteen floats: the even and the odd terms in two chains, then
    /// their sum, which halves the latency a tiny network's step waits on.
    /// `TinyNetworkStep.propagateForward` sums in the same order.
    @inline(__always)
    private static func shortDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var even: Float = 0, odd: Float = 0
        var i = 0
        while i + 2 <= count {
            even = even.addingProduct(x[i], y[i])
            odd = odd.addingProduct(x[i + 1], y[i + 1])
            i += 2
        }
        if i < count { even = even.addingProduct(x[i], y[i]) }
        return even + odd
    }

    /// x · y_0 … x · y_3 where y_r starts at y + r·stride, each `count` contiguous floats:
    /// four independent FMA chains hide the latency, and x is loaded once for all four.
    /// Never inlined: inside some callers LLVM's SLP vectoriser re-packed the accumulators
    /// into shuffles that ran 1.4 to 10 times slower.
    @inline(never)
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
        return SIMD4(
            tail(x, y, from: i, count: count, sum: VectorMath.sum(acc0)),
            tail(x, y + stride, from: i, count: count, sum: VectorMath.sum(acc1)),
            tail(x, y + 2 * stride, from: i, count: count, sum: VectorMath.sum(acc2)),
            tail(x, y + 3 * stride, from: i, count: count, sum: VectorMath.sum(acc3)))
    }

    /// sum + x[i] y[i] + … for the last i ..< count, one element at a time.
    @inline(__always)
    private static func tail(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, from start: Int, count: Int, sum: Float)
        -> Float
    {
        var sum = sum
        for i in start ..< count { sum = sum.addingProduct(x[i], y[i]) }
        return sum
    }
}
