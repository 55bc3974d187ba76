/// The nonzero entries of a block of a matrix, listed row by row: the left operand of
/// `SparseGEMM`, gathered. Its memory is allocated once, with the network, so that
/// gathering allocates nothing.
struct SparseRows {
    /// A(i, p) for p the column within the gathered block. The register tiles' sparse loop
    /// reads it as 8 raw bytes, in this order (`RegisterTile.combine(width:)`).
    struct Entry {
        let index: Int32
        let value: Float
    }

    /// The most rows and columns one block gathers.
    let rowCapacity: Int
    let columnCapacity: Int
    /// Row i's list starts at entries + i · (the block's column count); it holds counts[i].
    /// `scratch` holds 16 rows of a block, transposed, while they are gathered.
    private let entries: UnsafeMutablePointer<Entry>
    private let counts: UnsafeMutablePointer<Int32>
    private let scratch: UnsafeMutablePointer<Float>

    /// Room for blocks of 256 rows by `GEMM.kc` columns (the k-block `SparseGEMM` gathers):
    /// 512 KiB of lists, which stay in L2 while every block of B's columns is combined
    /// with them.
    init() throws(BackpropError) {
        rowCapacity = 256
        columnCapacity = GEMM.kc
        let purpose = "the gathered operand of a sparse product"
        entries = try Memory.allocate(Entry.self, count: rowCapacity * columnCapacity, for: purpose)
        do throws(BackpropError) {
            counts = try Memory.allocate(Int32.self, count: rowCapacity, for: purpose)
        } catch {
            Memory.free(entries)
            throw error
        }
        do throws(BackpropError) {
            scratch = try Memory.allocateFloats(16 * columnCapacity, for: purpose)
        } catch {
            Memory.free(entries)
            Memory.free(counts)
            throw error
        }
    }

    func free() {
        Memory.free(entries)
        Memory.free(counts)
        Memory.free(scratch)
    }

    /// The gathered block, valid until the next `gather`: row i's list is counts[i] entries
    /// from entries + i · stride.
    struct Block {
        let entries: UnsafePointer<Entry>
        let counts: UnsafePointer<Int32>
        let stride: Int
        /// Nonzero entries in all rows.
        let count: Int

        func list(_ row: Int) -> UnsafeBufferPointer<Entry> {
            UnsafeBufferPointer(start: entries + row * stride, count: Int(counts[row]))
        }
    }

    /// Lists the nonzero entries of A[row ..< row+rows, column ..< column+columns]
    /// (rows ≤ rowCapacity, columns ≤ columnCapacity) in column order.
    func gather(_ a: MatrixView, rows row: Int, _ rows: Int, columns column: Int, _ columns: Int) -> Block {
        let origin = a.base + row * a.rowStride + column * a.columnStride
        var count = 0
        if a.columnStride == 1 {
            for i in 0 ..< rows { count += gatherRow(i, from: origin + i * a.rowStride, columns: columns) }
        } else {
            // Columns are contiguous (δ^T): 16 rows at a time are transposed into rows first.
            for first in stride(from: 0, to: rows, by: 16) {
                let height = min(16, rows - first)
                transpose(origin + first * a.rowStride, a, rows: height, columns: columns)
                for i in 0 ..< height { count += gatherRow(first + i, from: scratch + i * columns, columns: columns) }
            }
        }
        return Block(entries: entries, counts: counts, stride: columns, count: count)
    }

    /// Row i's list from its `columns` contiguous values; returns its length. Every entry
    /// is written and only nonzero ones are counted, so the loop has no branch to mispredict.
    private func gatherRow(_ i: Int, from source: UnsafePointer<Float>, columns: Int) -> Int {
        let list = entries + i * columns
        var n = 0
        for p in 0 ..< columns {
            let value = source[p]
            list[n] = Entry(index: Int32(truncatingIfNeeded: p), value: value)
            n += value != 0 ? 1 : 0
        }
        counts[i] = Int32(truncatingIfNeeded: n)
        return n
    }

    /// `rows` (≤ 16) rows of A from `origin` into `scratch`, one after another, `columns`
    /// floats each: whole 16 × 16 blocks in registers, the rest element by element.
    private func transpose(_ origin: UnsafePointer<Float>, _ a: MatrixView, rows: Int, columns: Int) {
        let blocked = rows == 16 && a.rowStride == 1 ? columns / 16 * 16 : 0
        for p in stride(from: 0, to: blocked, by: 16) {
            Transpose.block16(origin + p * a.columnStride, sourceStride: a.columnStride, into: scratch + p,
                              targetStride: columns)
        }
        for i in 0 ..< rows {
            for p in blocked ..< columns { scratch[i * columns + p] = origin[i * a.rowStride + p * a.columnStride] }
        }
    }
}
