/// The register tile of the packed GEMM: `rows` × 2·`Vector.scalarCount` floats of C kept
/// in 2·`rows` vector accumulators across a whole k-block.
///
/// The multiply is written once, here, generic and inlinable. Each conformance specializes
/// it in its own module, so that the module's code-generation flags choose the
/// instructions: the AVX-512 tile lives in a module built for AVX-512, the portable tile in
/// the core, built for the library's target CPU. One binary can then carry both and pick at
/// run time (see `GEMMKernel` in the core).
public protocol RegisterTile {
    associatedtype Vector: SIMD where Vector.Scalar == Float
    /// Rows of C per tile (mr): must be 6 or 8.
    static var rows: Int { get }
}

extension RegisterTile {
    /// Columns of C per tile (nr): two vectors.
    @inlinable
    public static var columns: Int { 2 * Vector.scalarCount }

    /// The whole tile, or with `leftHalf` its left half: both specializations of
    /// `multiply(vectors:)`, each with its width a constant. A conformance wraps this in an
    /// `@inline(never)` entry point, so that it is compiled with its own module's flags.
    @inlinable @inline(__always)
    public static func multiply(
        leftHalf: Bool, k: Int, a: UnsafePointer<Float>, rowStep: Int, kStep: Int, b: UnsafePointer<Float>,
        alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if leftHalf {
            multiply(vectors: 1, k: k, a: a, rowStep: rowStep, kStep: kStep, b: b, alpha: alpha,
                     accumulate: accumulate, bias: bias, c: c, ldc: ldc)
        } else {
            multiply(vectors: 2, k: k, a: a, rowStep: rowStep, kStep: kStep, b: b, alpha: alpha,
                     accumulate: accumulate, bias: bias, c: c, ldc: ldc)
        }
    }

    /// C[0..<rows, 0..<width] = alpha · Σ_p a[p] ⊗ b[p] [+ C, or + the bias row], where
    /// width is `vectors` · Vector.scalarCount: the whole tile for 2, its left half for 1
    /// (for a panel whose columns past the half are only padding, such as a layer of 10
    /// units or the last of 784 = 24·32 + 16 inputs: half the multiply-adds, and no edge
    /// tile when the half is full). Pass a literal, so that it is a constant once inlined.
    /// Reads A(i, p) at a[i·rowStep + p·kStep] for i < rows, p < k, and k·columns floats of
    /// the packed B panel; writes `rows` rows of width floats at c, leading dimension ldc.
    /// Every element is one chain of multiply-adds in k order, whatever the tile, so all
    /// tiles give bit-identical results.
    @inlinable @inline(__always)
    public static func multiply(
        vectors: Int, k: Int, a: UnsafePointer<Float>, rowStep: Int, kStep: Int, b: UnsafePointer<Float>,
        alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        var c00 = Vector(), c01 = Vector(), c10 = Vector(), c11 = Vector(), c20 = Vector(), c21 = Vector()
        var c30 = Vector(), c31 = Vector(), c40 = Vector(), c41 = Vector(), c50 = Vector(), c51 = Vector()
        var c60 = Vector(), c61 = Vector(), c70 = Vector(), c71 = Vector()
        // Rows 0–2, 3–5 and 6–7 from three pointers, so every A operand is one base plus a
        // scaled index for any rowStep.
        var pa = a
        var pa3 = a + 3 * rowStep
        var pa6 = a + 6 * rowStep
        var pb = UnsafeRawPointer(b)
        let half = MemoryLayout<Vector>.stride
        @inline(__always)
        func add(_ scalar: Float, times b0: Vector, _ b1: Vector, to c0: inout Vector, _ c1: inout Vector) {
            let s = Vector(repeating: scalar)
            c0.addProduct(s, b0)
            if vectors == 2 { c1.addProduct(s, b1) }
        }
        for _ in 0 ..< k {
            let b0 = pb.loadUnaligned(as: Vector.self)
            let b1 = vectors == 2 ? pb.loadUnaligned(fromByteOffset: half, as: Vector.self) : b0
            add(pa[0], times: b0, b1, to: &c00, &c01)
            add(pa[rowStep], times: b0, b1, to: &c10, &c11)
            add(pa[2 * rowStep], times: b0, b1, to: &c20, &c21)
            add(pa3[0], times: b0, b1, to: &c30, &c31)
            add(pa3[rowStep], times: b0, b1, to: &c40, &c41)
            add(pa3[2 * rowStep], times: b0, b1, to: &c50, &c51)
            if rows == 8 {
                add(pa6[0], times: b0, b1, to: &c60, &c61)
                add(pa6[rowStep], times: b0, b1, to: &c70, &c71)
                pa6 += kStep
            }
            pa += kStep
            pa3 += kStep
            pb += 2 * half
        }
        @inline(__always)
        func store(_ value: Vector, row: Int, column: Int) {
            let target = UnsafeMutableRawPointer(c + row * ldc + column)
            var result = value * alpha
            if accumulate {
                result += target.loadUnaligned(as: Vector.self)
            } else if let bias {
                result += UnsafeRawPointer(bias + column).loadUnaligned(as: Vector.self)
            }
            target.storeBytes(of: result, as: Vector.self)
        }
        @inline(__always)
        func store(_ c0: Vector, _ c1: Vector, row: Int) {
            store(c0, row: row, column: 0)
            if vectors == 2 { store(c1, row: row, column: Vector.scalarCount) }
        }
        store(c00, c01, row: 0)
        store(c10, c11, row: 1)
        store(c20, c21, row: 2)
        store(c30, c31, row: 3)
        store(c40, c41, row: 4)
        store(c50, c51, row: 5)
        if rows == 8 {
            store(c60, c61, row: 6)
            store(c70, c71, row: 7)
        }
    }
}
