#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Products whose left operand is mostly exact zeros, computed from its nonzero entries
/// only: C[i, ·] = α Σ_{p : A(i,p) ≠ 0} A(i, p) · B[p, ·].
///
/// Behind a ReLU, a^l and δ^l are zero wherever a unit was off, and three products
/// multiply by them: z^(l+1) = W^(l+1) a^l + b^(l+1), ∂C/∂W^l = (1/m) (Δ^l)^T A^(l-1) and
/// Δ^(l-1) = (Δ^l W^l) ⊙ σ'. On workload A three units in four are off, so a dense
/// product spends most of its multiply-adds on zeros.
///
/// A is gathered, a block of rows and one k-block of its columns at a time, into lists of
/// its nonzero entries; then each row of C combines the rows of B its list names, a few
/// vectors of columns at a time, so that the part of B being read stays in L1. Every
/// element of C is the same chain of multiply-adds, in the same k order and k-blocks
/// (`GEMM.kc`), with the same start (bias or C) and store, as the packed GEMM makes it,
/// less the terms whose A is zero. Adding a zero product leaves a nonzero sum as it was,
/// so the result has the dense product's value. Two things can tell the paths apart,
/// neither in a finite step that converges: an infinity in B (the dense product makes
/// NaN of 0 · ∞), and the sign of a zero sum (a product that underflows to −0 stays −0
/// here, where a later +0 term of the dense chain makes it +0).
enum SparseGEMM {
    /// A's nonzero fraction above which the dense product is the better choice. This
    /// combination does one multiply-add per load of B, where the packed tile does eight,
    /// and runs at about 60% of the tile's rate; at 0.5 (workload C's δ) it made C's step
    /// 1.5% slower.
    static let maximumDensity = 0.4

    /// Whether an m × k A times a k × n B could take this path, if A is sparse enough: it
    /// has to be a product the dense GEMM would pack, with at least one whole block of
    /// columns. Never when the environment variable BACKPROP_SPARSE=off turns the path off
    /// (to compare); it is read once, the first time this is asked.
    static func suits(m: Int, n: Int, k: Int) -> Bool {
        isEnabled && n >= blockWidth && !DirectGEMM.isPreferred(m: m, n: n, k: k)
    }

    /// Whether an A with `nonzero` of its `count` entries not zero is sparse enough.
    static func prefers(nonzero: Int, of count: Int) -> Bool {
        Double(nonzero) <= maximumDensity * Double(count)
    }

    private static let isEnabled = getenv("BACKPROP_SPARSE").map { String(cString: $0) } != "off"
    /// Columns of B's packed panels: four AVX-512 vectors, combined in one pass over a
    /// row's list, whose independent chains of multiply-adds hide the multiply-add latency
    /// (the portable tile's 8-float vectors take two passes).
    static let blockWidth = 4 * 16

    /// C = α A B, then the epilogue (C starts from its bias row, if any, as in the packed
    /// GEMM). C may not overlap A or B. Large products are split across `threads` by bands
    /// of columns, each element computed by one thread in the same order, so results do not
    /// depend on the thread count.
    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView,
        into c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue,
        workspace: Workspace, threads: GEMMThreads?
    ) {
        var firstK = 0
        while firstK < k {
            let depth = min(GEMM.kc, k - firstK)
            var firstColumn = 0
            while firstColumn < n {
                let width = min(GEMM.nc, n - firstColumn)
                let pass = Pass(m: m, k: firstK ..< firstK + depth, columns: firstColumn ..< firstColumn + width)
                pass.multiply(alpha: alpha, a, b, into: c, ldc: ldc, bias: epilogue.bias.map { $0 + firstColumn },
                               workspace: workspace, threads: threads)
                firstColumn += width
            }
            firstK += depth
        }
        epilogue.apply(to: c, rows: m, width: n, ldc: ldc)
    }

    /// The part of a product that one k-block of A (up to kc of its columns) and one
    /// packing of B (up to nc columns) make, over all of A's rows.
    private struct Pass {
        let m: Int
        let k: Range<Int>
        let columns: Range<Int>

        /// Adds this pass's terms to C; the first k-block writes C, starting from `bias`
        /// (this pass's part of the bias row) if there is one. Rows are gathered
        /// `rowCapacity` at a time, so that their lists stay in L2.
        func multiply(
            alpha: Float, _ a: MatrixView, _ b: MatrixView, into c: UnsafeMutablePointer<Float>, ldc: Int,
            bias: UnsafePointer<Float>?, workspace: Workspace, threads: GEMMThreads?
        ) {
            let packed = workspace.pack(b, rows: k.lowerBound, k.count, columns: columns.lowerBound, columns.count)
            var firstRow = 0
            while firstRow < m {
                let rows = min(workspace.rows.rowCapacity, m - firstRow)
                let lists = workspace.rows.gather(a, rows: firstRow, rows, columns: k.lowerBound, k.count)
                let product = RowCombination(
                    lists: lists, rows: rows, b: packed, depth: k.count, n: columns.count, alpha: alpha,
                    accumulate: k.lowerBound > 0, bias: k.lowerBound > 0 ? nil : bias,
                    c: c + firstRow * ldc + columns.lowerBound, ldc: ldc)
                product.run(work: lists.count * columns.count, threads: threads)
                firstRow += rows
            }
        }
    }

    /// Memory for the gathered A and for B's panels, allocated once per network.
    struct Workspace {
        let rows: SparseRows
        /// Up to kc rows of B, of up to nc columns rounded up to whole panels.
        private let packedB: UnsafeMutablePointer<Float>

        /// For a B of up to `maxColumns` columns.
        init(maxColumns: Int) throws(BackpropError) {
            rows = try SparseRows()
            let width = GEMM.roundUp(min(maxColumns, GEMM.nc), to: blockWidth)
            do throws(BackpropError) {
                packedB = try Memory.allocateFloats(GEMM.kc * width, for: "the packed operand of a sparse product")
            } catch {
                rows.free()
                throw error
            }
        }

        func free() {
            rows.free()
            Memory.free(packedB)
        }

        /// B[row ..< row+rows, column ..< column+columns] (rows ≤ kc, columns ≤ nc) packed
        /// into panels of `blockWidth` columns: column j of row p at
        /// (j / blockWidth) · blockWidth · rows + p · blockWidth + j % blockWidth.
        ///
        /// Rows are read in the order the lists name them, which no hardware prefetcher
        /// follows; packing streams B in once, in order, and leaves each panel contiguous
        /// (in place, rows whose stride is a multiple of 512 bytes would also share a few
        /// of L1's sets). It made workload A's training step 15% faster than reading B in
        /// place.
        func pack(_ b: MatrixView, rows row: Int, _ rows: Int, columns column: Int, _ columns: Int)
            -> UnsafePointer<Float>
        {
            GEMM.packB(b, rows: row, rows, columns: column, columns, nr: blockWidth, into: packedB)
            return UnsafePointer(packedB)
        }
    }

    /// C[0..<rows, 0..<n] = α Σ over each row's list of value · B[index, ·] [+ C, or + the
    /// bias row]: one gathered block of A times B.
    private struct RowCombination {
        let lists: SparseRows.Block
        let rows: Int
        /// B's packed panels, of `depth` rows each.
        let b: UnsafePointer<Float>
        let depth: Int
        let n: Int
        let alpha: Float
        let accumulate: Bool
        let bias: UnsafePointer<Float>?
        let c: UnsafeMutablePointer<Float>, ldc: Int

        /// On one thread, or in bands of whole blocks of columns across the pool when `work`
        /// multiply-adds are worth splitting.
        func run(work: Int, threads: GEMMThreads?) {
            guard let pool = threads?.pool, pool.threadCount > 1, work >= GEMMThreads.minimumWork,
                  n >= pool.threadCount * blockWidth
            else {
                combine(columns: 0 ..< n)
                return
            }
            pool.run(ColumnBands(product: self, columns: Bands(count: n, parts: pool.threadCount, granularity: blockWidth)))
        }

        /// The product split into bands of whole blocks of columns, one band per part.
        private struct ColumnBands: ParallelJob {
            let product: RowCombination
            let columns: Bands
            func run(part: Int) { product.combine(columns: columns.range(part: part)) }
        }

        /// Columns from a multiple of `blockWidth` on, a panel at a time: its whole vectors by
        /// the register tile's `combineRows`, then any last floats singly.
        func combine(columns: Range<Int>) {
            let kernel = GEMMKernel.selected
            var column = columns.lowerBound
            while column < columns.upperBound {
                let width = min(blockWidth, columns.upperBound - column)
                let panel = b + column / blockWidth * blockWidth * depth
                let whole = width / kernel.vectorWidth * kernel.vectorWidth
                kernel.combineRows(
                    width: whole, rows: rows, entries: UnsafeRawPointer(lists.entries), listStride: lists.stride,
                    counts: lists.counts, panel: panel, panelWidth: blockWidth, alpha: alpha, accumulate: accumulate,
                    bias: bias.map { $0 + column }, c: c + column, ldc: ldc)
                if whole < width { combineSingly(block: panel + whole, columns: column + whole ..< column + width) }
                column += width
            }
        }

        /// The last columns of a panel (fewer than a vector), one float at a time.
        private func combineSingly(block: UnsafePointer<Float>, columns: Range<Int>) {
            for row in 0 ..< rows {
                let list = lists.list(row)
                for (offset, column) in columns.enumerated() {
                    var sum: Float = 0
                    for entry in list { sum.addProduct(entry.value, block[Int(entry.index) * blockWidth + offset]) }
                    let target = c + row * ldc + column
                    let start = accumulate ? target.pointee : bias.map { $0[column] }
                    target.pointee = start.map { sum * alpha + $0 } ?? sum * alpha
                }
            }
        }
    }
}
