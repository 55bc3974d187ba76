/// A read-only matrix with arbitrary strides: element (r, c) is at
/// `base[r * rowStride + c * columnStride]`. Backprop's three products (W a, W^T δ,
/// δ a^T) read W and δ transposed through swapped strides instead of copying them.
struct MatrixView {
    let base: UnsafePointer<Float>
    let rowStride: Int
    let columnStride: Int

    /// A row-major matrix with `width` columns.
    static func rowMajor(_ base: UnsafePointer<Float>, width: Int) -> MatrixView {
        MatrixView(base: base, rowStride: width, columnStride: 1)
    }

    /// The transpose of a row-major matrix with `width` columns.
    static func transposed(_ base: UnsafePointer<Float>, width: Int) -> MatrixView {
        MatrixView(base: base, rowStride: 1, columnStride: width)
    }
}

/// Scratch memory of the packed GEMM, allocated once per network and sized for its widest
/// layer so that no product allocates.
struct GEMMWorkspace {
    /// The register tile, whose shape sets the layout of the packed panels.
    let kernel: GEMMKernel
    let packedA: UnsafeMutablePointer<Float>
    let packedB: UnsafeMutablePointer<Float>
    /// Floats `packedB` holds: kc × the columns the workspace was made for.
    let packedBCapacity: Int
    let edgeTile: UnsafeMutablePointer<Float>

    init(maxColumns: Int) throws(BackpropError) {
        kernel = .selected
        let columns = GEMM.roundUp(min(maxColumns, GEMM.nc), to: kernel.nr)
        packedA = try Memory.allocateFloats(GEMM.mc * GEMM.kc, for: "the GEMM's packed A block")
        do throws(BackpropError) {
            packedBCapacity = GEMM.kc * columns
            packedB = try Memory.allocateFloats(packedBCapacity, for: "the GEMM's packed B block")
        } catch {
            Memory.free(packedA)
            throw error
        }
        do throws(BackpropError) {
            edgeTile = try Memory.allocateFloats(kernel.mr * kernel.nr, for: "the GEMM's edge tile")
        } catch {
            Memory.free(packedA)
            Memory.free(packedB)
            throw error
        }
    }

    func free() {
        Memory.free(packedA)
        Memory.free(packedB)
        Memory.free(edgeTile)
    }
}

/// Worker threads and a packing workspace for each, for products split across cores.
struct GEMMThreads {
    let pool: ThreadPool
    /// One per part of a split product (parts are numbered like the pool's threads).
    let workspaces: [GEMMWorkspace]

    /// Products with fewer multiply-adds than this stay on one thread: below it, waking
    /// the workers costs more than the split saves.
    static let minimumWork = 1 << 21

    /// Whether an m × n × k product is split across `parts` threads (by bands of columns).
    static func splits(m: Int, n: Int, k: Int, parts: Int) -> Bool {
        parts > 1 && n >= parts * GEMMKernel.selected.nr && multiplyAdds(m, n, k) >= minimumWork
    }

    /// m·n·k, saturating instead of overflowing.
    static func multiplyAdds(_ m: Int, _ n: Int, _ k: Int) -> Int {
        let (mn, first) = m.multipliedReportingOverflow(by: n)
        let (mnk, second) = mn.multipliedReportingOverflow(by: k)
        return first || second ? Int.max : mnk
    }
}

/// Cache-blocked, register-blocked single-precision matrix multiply in the BLIS layout:
/// C (m × n) = alpha · A (m × k) · B (k × n) [+ C]. Blocks of B are packed into contiguous
/// panels, and so are blocks of A unless its rows are contiguous (then it is read in
/// place), so any strides cost only the packing; the register tile (`GEMMKernel`: 8 × 32
/// with AVX-512, else 6 × 16) keeps C in registers across the whole k-block.
enum GEMM {
    static let kc = 256
    static let mc = 144
    static let nc = 2048

    static func roundUp(_ value: Int, to multiple: Int) -> Int {
        (value + multiple - 1) / multiple * multiple
    }

    /// C = alpha · A · B, plus the previous C when `accumulate` is true, then the
    /// `epilogue` (whose bias, if any, replaces the previous C). C is row-major with leading
    /// dimension `ldc`. Small or thin shapes, and any shape when there is no workspace to
    /// pack into, go to `DirectGEMM` unpacked. Requires m, n, k ≥ 1 and, for B, n ≤ the
    /// width the workspace was made for (or any n when the workspace is `nc` wide).
    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float,
        _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue = .none,
        workspace: GEMMWorkspace?, threads: GEMMThreads? = nil
    ) {
        guard let workspace, !DirectGEMM.isPreferred(m: m, n: n, k: k) else {
            if let bias = epilogue.bias {
                VectorKernels.broadcastRows(bias, into: c, rows: m, width: n, ldc: ldc)
            }
            DirectGEMM.multiply(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate || epilogue.bias != nil,
                                into: c, ldc: ldc, workspace: workspace)
            epilogue.apply(to: c, rows: m, width: n, ldc: ldc)
            return
        }
        let parts = threads?.pool.threadCount ?? 1
        guard let threads, GEMMThreads.splits(m: m, n: n, k: k, parts: parts) else {
            packedMultiply(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: accumulate, into: c, ldc: ldc,
                           epilogue: epilogue, workspace: workspace)
            return
        }
        // Each part is a band of C's columns. Every element is still computed by one
        // part, with the same k-order, so results do not depend on the thread count.
        threads.pool.run(ColumnBands(
            m: m, k: k, alpha: alpha, a: a, b: b, accumulate: accumulate, c: c, ldc: ldc, epilogue: epilogue,
            columns: Bands(count: n, parts: parts, granularity: workspace.kernel.nr), workspaces: threads.workspaces))
    }

    /// One product split into bands of whole register-tile columns, one band per part.
    private struct ColumnBands: ParallelJob {
        let m: Int, k: Int, alpha: Float
        let a: MatrixView, b: MatrixView
        let accumulate: Bool
        let c: UnsafeMutablePointer<Float>, ldc: Int
        let epilogue: Epilogue
        let columns: Bands
        let workspaces: [GEMMWorkspace]

        func run(part: Int) {
            let band = columns.range(part: part), first = band.lowerBound
            guard !band.isEmpty else { return }
            let shifted = MatrixView(base: b.base + first * b.columnStride, rowStride: b.rowStride, columnStride: b.columnStride)
            GEMM.packedMultiply(m: m, n: band.count, k: k, alpha: alpha, a, shifted, accumulate: accumulate,
                                into: c + first, ldc: ldc, epilogue: epilogue.moved(row: 0, column: first, ldc: ldc),
                                workspace: workspaces[part])
        }
    }

    fileprivate static func packedMultiply(
        m: Int, n: Int, k: Int, alpha: Float,
        _ a: MatrixView, _ b: MatrixView,
        accumulate: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue,
        workspace: GEMMWorkspace
    ) {
        var jc = 0
        while jc < n {
            let ncBlock = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kcBlock = min(kc, k - pc)
                packB(b, rows: pc, kcBlock, columns: jc, ncBlock, nr: workspace.kernel.nr, into: workspace.packedB)
                var ic = 0
                while ic < m {
                    let mcBlock = min(mc, m - ic)
                    let panels = APanels(a, rows: ic, mcBlock, columns: pc, kcBlock, workspace: workspace)
                    // The bias starts the first k-block; the finish waits for the last.
                    macroKernel(
                        m: mcBlock, n: ncBlock, k: kcBlock, alpha: alpha, a: panels,
                        accumulate: (accumulate && epilogue.bias == nil) || pc > 0,
                        bias: pc == 0 ? epilogue.bias.map { $0 + jc } : nil,
                        c: c + ic * ldc + jc, ldc: ldc,
                        finishing: pc + kcBlock == k ? epilogue.moved(row: ic, column: jc, ldc: ldc) : nil,
                        workspace: workspace)
                    ic += mcBlock
                }
                pc += kcBlock
            }
            jc += ncBlock
        }
    }

    /// Where the register tile reads a block of A, `mr` rows at a time. A row-major A is read
    /// in place: each of the tile's rows is a stream of contiguous floats, as good as a
    /// packed panel once in cache, and packing it would cost a strided store per float.
    /// Only a ragged last panel is packed, zero-padded, so no row past A's end is read.
    /// Any other A is packed whole.
    fileprivate struct APanels {
        /// Element (i, kk) of the block, for a row i read in place, is at base[i·rowStep + kk].
        let base: UnsafePointer<Float>
        let rowStep: Int
        /// Packed panels: panel p (its first row p·mr + firstPacked) at packed + p·mr·k.
        let packed: UnsafePointer<Float>
        /// Panels before this one are read in place; it and any after are packed.
        let firstPacked: Int

        init(_ a: MatrixView, rows row: Int, _ rows: Int, columns column: Int, _ columns: Int, workspace: GEMMWorkspace) {
            packed = UnsafePointer(workspace.packedA)
            let mr = workspace.kernel.mr
            guard a.columnStride == 1 else {
                packA(a, rows: row, rows, columns: column, columns, mr: mr, into: workspace.packedA)
                (base, rowStep, firstPacked) = (packed, 1, 0)
                return
            }
            base = a.base + row * a.rowStride + column
            rowStep = a.rowStride
            firstPacked = rows / mr * mr
            if firstPacked < rows {
                packA(a, rows: row + firstPacked, rows - firstPacked, columns: column, columns, mr: mr,
                      into: workspace.packedA)
            }
        }
    }

    /// Packs A[row ..< row+rows, column ..< column+columns] into panels of `mr` rows:
    /// panel p holds element (p·mr + i, kk) at `p·mr·columns + kk·mr + i`, zero-padded.
    /// The inner loop runs along whichever dimension of A is contiguous (rows of δ^T are
    /// columns of δ: walking them element by element would stride across cache lines).
    fileprivate static func packA(
        _ a: MatrixView, rows row: Int, _ rows: Int, columns column: Int, _ columns: Int, mr: Int,
        into packed: UnsafeMutablePointer<Float>
    ) {
        var panel = packed
        var i0 = 0
        while i0 < rows {
            let height = min(mr, rows - i0)
            let origin = a.base + (row + i0) * a.rowStride + column * a.columnStride
            if a.rowStride == 1 && height == mr {
                for kk in 0 ..< columns { copyPanelColumn(origin + kk * a.columnStride, to: panel + kk * mr, mr: mr) }
            } else if a.rowStride == 1 {
                for kk in 0 ..< columns {
                    let source = origin + kk * a.columnStride
                    let target = panel + kk * mr
                    for i in 0 ..< height { target[i] = source[i] }
                    for i in height ..< mr { target[i] = 0 }
                }
            } else {
                // Rows of A are contiguous: stream along each one, writing every mr-th float.
                for i in 0 ..< mr {
                    var target = panel + i
                    guard i < height else {
                        for _ in 0 ..< columns {
                            target.pointee = 0
                            target += mr
                        }
                        continue
                    }
                    var source = origin + i * a.rowStride
                    for _ in 0 ..< columns {
                        target.pointee = source.pointee
                        source += a.columnStride
                        target += mr
                    }
                }
            }
            panel += mr * columns
            i0 += mr
        }
    }

    /// The mr contiguous floats of a full panel column in one or two moves instead of mr
    /// (mr is 8 or 6).
    @inline(__always)
    private static func copyPanelColumn(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, mr: Int) {
        let (source, target) = (UnsafeRawPointer(source), UnsafeMutableRawPointer(target))
        if mr == 8 {
            target.storeBytes(of: source.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        } else {
            target.storeBytes(of: source.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: 16,
                              as: SIMD2<Float>.self)
        }
    }

    /// Packs B[row ..< row+rows, column ..< column+columns] into panels of `nr` columns:
    /// panel q holds element (kk, q·nr + j) at `q·nr·rows + kk·nr + j`, zero-padded.
    /// The inner loop runs along whichever dimension of B is contiguous.
    static func packB(
        _ b: MatrixView, rows row: Int, _ rows: Int, columns column: Int, _ columns: Int, nr: Int,
        into packed: UnsafeMutablePointer<Float>
    ) {
        var panel = packed
        var j0 = 0
        while j0 < columns {
            let width = min(nr, columns - j0)
            let origin = b.base + row * b.rowStride + (column + j0) * b.columnStride
            if b.columnStride == 1 && width == nr {
                // A full panel row is one to four 16-float vectors (nr is 16 or 32, or 64 for SparseGEMM).
                for kk in 0 ..< rows {
                    let source = UnsafeRawPointer(origin + kk * b.rowStride)
                    let target = UnsafeMutableRawPointer(panel + kk * nr)
                    for offset in stride(from: 0, to: nr * MemoryLayout<Float>.stride, by: 64) {
                        target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self),
                                          toByteOffset: offset, as: SIMD16<Float>.self)
                    }
                }
            } else if b.columnStride == 1 {
                for kk in 0 ..< rows {
                    let source = origin + kk * b.rowStride
                    let target = panel + kk * nr
                    for j in 0 ..< width { target[j] = source[j] }
                    for j in width ..< nr { target[j] = 0 }
                }
            } else {
                packTransposed(b, origin: origin, rows: rows, width: width, nr: nr, into: panel)
            }
            panel += nr * rows
            j0 += nr
        }
    }

    /// One panel of a B whose columns are contiguous (a transpose, W^T): whole 16 × 16
    /// blocks are transposed in registers, and the ragged rest (a narrow last panel, rows
    /// past a multiple of 16) is copied element by element.
    private static func packTransposed(
        _ b: MatrixView, origin: UnsafePointer<Float>, rows: Int, width: Int, nr: Int, into panel: UnsafeMutablePointer<Float>
    ) {
        let blockRows = b.rowStride == 1 ? rows / 16 * 16 : 0
        let blockColumns = b.rowStride == 1 ? width / 16 * 16 : 0
        for first in stride(from: 0, to: blockColumns, by: 16) {
            for kk in stride(from: 0, to: blockRows, by: 16) {
                Transpose.block16(origin + first * b.columnStride + kk, sourceStride: b.columnStride,
                                  into: panel + kk * nr + first, targetStride: nr)
            }
        }
        copyTransposed(b, origin: origin, rows: blockRows ..< rows, columns: 0 ..< blockColumns, width: width, nr: nr,
                       into: panel)
        copyTransposed(b, origin: origin, rows: 0 ..< rows, columns: blockColumns ..< nr, width: width, nr: nr, into: panel)
    }

    /// Element by element, the part `rows` × `columns` of a transposed panel; columns at or
    /// past `width` are zeros. A few columns are read side by side, so that reads stream
    /// and each panel row gets a run of writes; all nr at once would put nr streams 4 KiB
    /// apart into the same cache sets.
    private static func copyTransposed(
        _ b: MatrixView, origin: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>, width: Int, nr: Int,
        into panel: UnsafeMutablePointer<Float>
    ) {
        let group = 8
        for first in stride(from: columns.lowerBound, to: columns.upperBound, by: group) {
            let end = min(first + group, columns.upperBound)
            let present = max(first, min(end, width))
            for kk in rows {
                let source = origin + kk * b.rowStride
                let target = panel + kk * nr
                for j in first ..< present { target[j] = source[j * b.columnStride] }
                for j in present ..< end { target[j] = 0 }
            }
        }
    }

    /// Multiplies an mc × kc block of A by a packed kc × nc block of B into C, starting
    /// from C when `accumulate`, else from `bias` (one float per column) or zero, and
    /// finishing each tile with `finishing` when this is the last k-block. Tiles that
    /// overhang C's edge are computed into the workspace's edge tile and only their valid
    /// part is merged.
    private static func macroKernel(
        m: Int, n: Int, k: Int, alpha: Float, a: APanels, accumulate: Bool, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, finishing: Epilogue?, workspace: GEMMWorkspace
    ) {
        let kernel = workspace.kernel
        let (mr, nr) = (kernel.mr, kernel.nr)
        var j0 = 0
        while j0 < n {
            let width = min(nr, n - j0)
            let bPanel = UnsafePointer(workspace.packedB + j0 * k)
            var i0 = 0
            while i0 < m {
                let height = min(mr, m - i0)
                let tile = c + i0 * ldc + j0
                let tileBias = bias.map { $0 + j0 }
                // A panel whose right half is all padding is computed half as wide.
                let leftHalf = width <= nr / 2
                if height == mr && (width == nr || width == nr / 2) {
                    multiplyTile(kernel, leftHalf: leftHalf, k: k, a: a, row: i0, b: bPanel, alpha: alpha,
                                 accumulate: accumulate, bias: tileBias, c: tile, ldc: ldc)
                } else {
                    let edge = workspace.edgeTile
                    multiplyTile(kernel, leftHalf: leftHalf, k: k, a: a, row: i0, b: bPanel, alpha: alpha,
                                 accumulate: false, bias: nil, c: edge, ldc: nr)
                    // Each sum in the order a full tile's store makes it, not 0 + e: a −0 stays −0,
                    // so which tiles are edges (which depends on the tile shape) changes no bit.
                    for i in 0 ..< height {
                        for j in 0 ..< width {
                            let e = edge[i * nr + j]
                            tile[i * ldc + j] = accumulate ? e + tile[i * ldc + j] : tileBias.map { e + $0[j] } ?? e
                        }
                    }
                }
                finishing?.moved(row: i0, column: j0, ldc: ldc).apply(to: tile, rows: height, width: width, ldc: ldc)
                i0 += mr
            }
            j0 += nr
        }
    }

    /// The tile whose A panel starts at `row` of the block: rows read in place or a packed
    /// panel.
    @inline(__always)
    private static func multiplyTile(
        _ kernel: GEMMKernel, leftHalf: Bool, k: Int, a: APanels, row: Int, b: UnsafePointer<Float>, alpha: Float,
        accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if row < a.firstPacked {
            kernel.multiplyTile(leftHalf: leftHalf, k: k, a: a.base + row * a.rowStep, rowStep: a.rowStep, kStep: 1,
                                b: b, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
        } else {
            kernel.multiplyTile(leftHalf: leftHalf, k: k, a: a.packed + (row - a.firstPacked) * k, rowStep: 1,
                                kStep: kernel.mr, b: b, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
        }
    }
}
