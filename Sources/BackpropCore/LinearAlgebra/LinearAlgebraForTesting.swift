/// The matrix products and vector math on arrays, for the unit tests that compare each
/// path with a naive reference or libm (`@_spi(Testing) import BackpropCore`). Not part of
/// the library's API: the network calls the pointer forms directly, with its own
/// workspaces and threads.
@_spi(Testing) public enum LinearAlgebraForTesting {
    /// How an operand is stored: as the m × k (or k × n) matrix itself, row-major, or as its
    /// transpose, row-major (read through swapped strides, as W^T δ and δ a^T read W and δ).
    public enum Layout: CaseIterable, Sendable { case rowMajor, transposed }

    /// Which product computes C: the packed GEMM (or the direct one for the shapes it
    /// prefers, as in the network), or the sparse product of A's nonzero entries.
    public enum Path: CaseIterable, Sendable { case dense, sparse }

    /// C = α op(A) op(B) (+ C when `accumulate`), C m × n row-major; with a `bias` (n floats)
    /// C starts from it instead, and `activation` (elementwise) is applied to the finished
    /// C. Split across `threads` threads when the product is large enough. The sparse path
    /// requires the shapes `SparseGEMM.suits` (and ignores `accumulate`, as the network never
    /// asks for it there). Without `packing`, the dense path has no workspace, as inference
    /// on small networks has none: every shape goes to the direct product, without scratch.
    public static func multiply(
        _ path: Path, m: Int, n: Int, k: Int, alpha: Float, a: [Float], _ aLayout: Layout, b: [Float], _ bLayout: Layout,
        c: inout [Float], accumulate: Bool, bias: [Float]? = nil, activation: Activation? = nil, threads: Int = 1,
        packing: Bool = true
    ) throws(BackpropError) {
        precondition(a.count == m * k && b.count == k * n && c.count == m * n && (bias?.count ?? n) == n)
        let gemmThreads = try threadsForTesting(threads, maxColumns: n)
        defer { gemmThreads?.workspaces.forEach { $0.free() } }
        let workspace = try GEMMWorkspace(maxColumns: n)
        defer { workspace.free() }
        let sparse = try SparseGEMM.Workspace(maxColumns: n)
        defer { sparse.free() }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                withOptionalPointer(bias) { bias in
                    c.withUnsafeMutableBufferPointer { c in
                        let viewA = view(a.baseAddress!, layout: aLayout, rows: m, columns: k)
                        let viewB = view(b.baseAddress!, layout: bLayout, rows: k, columns: n)
                        let epilogue = Epilogue(bias: bias, finish: activation.map { .activation($0) } ?? .none)
                        switch path {
                        case .dense:
                            GEMM.multiply(m: m, n: n, k: k, alpha: alpha, viewA, viewB, accumulate: accumulate,
                                          into: c.baseAddress!, ldc: n, epilogue: epilogue,
                                          workspace: packing ? workspace : nil, threads: gemmThreads)
                        case .sparse:
                            SparseGEMM.multiply(m: m, n: n, k: k, alpha: alpha, viewA, viewB, into: c.baseAddress!, ldc: n,
                                                epilogue: epilogue, workspace: sparse, threads: gemmThreads)
                        }
                    }
                }
            }
        }
    }

    /// Whether the sparse path can take an m × k A times a k × n B.
    public static func sparseSuits(m: Int, n: Int, k: Int) -> Bool { SparseGEMM.suits(m: m, n: n, k: k) }

    /// The products of a batch of one: y = W x + c (W rows × columns row-major, on `threads`
    /// threads when large enough), y = α W^T v (+ y), and G = α v x^T.
    public static func matrixVector(w: [Float], rows: Int, columns: Int, x: [Float], adding c: [Float]?, threads: Int = 1)
        -> [Float]
    {
        precondition(w.count == rows * columns && x.count == columns && (c?.count ?? rows) == rows)
        let pool = threads > 1 ? ThreadPool(threads: threads) : nil
        var y = [Float](repeating: .nan, count: rows)
        withOptionalPointer(c) { c in
            y.withUnsafeMutableBufferPointer { y in
                MatrixVector.product(w, rows: rows, columns: columns, rowStride: columns, x: x, adding: c,
                                     into: y.baseAddress!, pool: pool)
            }
        }
        return y
    }

    public static func transposedMatrixVector(w: [Float], rows: Int, columns: Int, v: [Float], alpha: Float,
                                              accumulating y: [Float]?) -> [Float] {
        precondition(w.count == rows * columns && v.count == rows && (y?.count ?? columns) == columns)
        var result = y ?? [Float](repeating: .nan, count: columns)
        result.withUnsafeMutableBufferPointer { out in
            MatrixVector.transposedProduct(w, rows: rows, columns: columns, rowStride: columns, v: v, vStride: 1,
                                           alpha: alpha, accumulate: y != nil, into: out.baseAddress!)
        }
        return result
    }

    public static func outerProduct(v: [Float], x: [Float], alpha: Float) -> [Float] {
        var g = [Float](repeating: .nan, count: v.count * x.count)
        g.withUnsafeMutableBufferPointer { g in
            MatrixVector.outerProduct(v, rows: v.count, x, columns: x.count, alpha: alpha, into: g.baseAddress!)
        }
        return g
    }

    /// e^x, as the vectorised activations compute it.
    public static func exp(_ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        y.withUnsafeMutableBufferPointer { y in
            VectorMath.map(x, into: y.baseAddress!, count: x.count) { VectorMath.exp($0) }
        }
        return y
    }

    private static func view(_ base: UnsafePointer<Float>, layout: Layout, rows: Int, columns: Int) -> MatrixView {
        layout == .rowMajor ? .rowMajor(base, width: columns) : .transposed(base, width: rows)
    }

    private static func threadsForTesting(_ count: Int, maxColumns: Int) throws(BackpropError) -> GEMMThreads? {
        guard count > 1 else { return nil }
        let pool = ThreadPool(threads: count)
        var workspaces: [GEMMWorkspace] = []
        for _ in 0 ..< pool.threadCount { workspaces.append(try GEMMWorkspace(maxColumns: maxColumns)) }
        return GEMMThreads(pool: pool, workspaces: workspaces)
    }

    private static func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
