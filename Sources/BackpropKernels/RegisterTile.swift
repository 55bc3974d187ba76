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

    /// C[0..<rows, 0..<columns] = alpha · Σ_p a[p] ⊗ b[p] [+ C, or + the bias row].
    /// Reads A(i, p) at a[i·rowStep + p·kStep] for i < rows, p < k, and k·columns floats of
    /// the packed B panel; writes `rows` rows of `columns` floats at c, leading dimension ldc.
    /// Every element is one chain of multiply-adds in k order, whatever the tile, so all
    /// tiles give bit-identical results.
    @inlinable @inline(__always)
    public static func multiply(
        k: Int, a: UnsafePointer<Float>, rowStep: Int, kStep: Int, b: UnsafePointer<Float>, alpha: Float,
        accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
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
        for _ in 0 ..< k {
            let b0 = pb.loadUnaligned(as: Vector.self)
            let b1 = pb.loadUnaligned(fromByteOffset: half, as: Vector.self)
            var s = Vector(repeating: pa[0])
            c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = Vector(repeating: pa[rowStep])
            c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = Vector(repeating: pa[2 * rowStep])
            c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = Vector(repeating: pa3[0])
            c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = Vector(repeating: pa3[rowStep])
            c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = Vector(repeating: pa3[2 * rowStep])
            c50.addProduct(s, b0); c51.addProduct(s, b1)
            if rows == 8 {
                s = Vector(repeating: pa6[0])
                c60.addProduct(s, b0); c61.addProduct(s, b1)
                s = Vector(repeating: pa6[rowStep])
                c70.addProduct(s, b0); c71.addProduct(s, b1)
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
        let second = Vector.scalarCount
        store(c00, row: 0, column: 0); store(c01, row: 0, column: second)
        store(c10, row: 1, column: 0); store(c11, row: 1, column: second)
        store(c20, row: 2, column: 0); store(c21, row: 2, column: second)
        store(c30, row: 3, column: 0); store(c31, row: 3, column: second)
        store(c40, row: 4, column: 0); store(c41, row: 4, column: second)
        store(c50, row: 5, column: 0); store(c51, row: 5, column: second)
        if rows == 8 {
            store(c60, row: 6, column: 0); store(c61, row: 6, column: second)
            store(c70, row: 7, column: 0); store(c71, row: 7, column: second)
        }
    }
}
