/// The inner loop of the core's sparse product (`SparseGEMM`), written once here beside
/// the register tile and specialized in the same modules, so that the AVX-512 build of
/// it serves any library that carries the AVX-512 tile.
///
/// Row r of a gathered operand is a list of `counts[r]` entries of 8 bytes, an Int32
/// index then a Float value, at `entries + r · listStride · 8`. B is a packed panel whose
/// row p is `panelWidth` floats at `panel + p · panelWidth`.
extension RegisterTile {
    /// For each of `rows` rows r: C[r, 0..<width] = α Σ over r's list of value · B[index,
    /// 0..<width] [+ C, or + the bias row], with `width` a multiple of Vector.scalarCount.
    /// Up to four vectors of columns share one pass over a list. Each element is one chain
    /// of multiply-adds in list order, then stored as the tile stores it, so results do not
    /// depend on the vector width.
    @inlinable @inline(__always)
    public static func combine(
        width: Int, rows: Int, entries: UnsafeRawPointer, listStride: Int, counts: UnsafePointer<Int32>,
        panel: UnsafePointer<Float>, panelWidth: Int, alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        var column = 0
        while column < width {
            let vectors = min(4, (width - column) / Vector.scalarCount)
            let (panel, bias, c) = (panel + column, bias.map { $0 + column }, c + column)
            // Each call passes its count as a literal, so that it is specialized for it.
            switch vectors {
            case 4: combine(vectors: 4, rows: rows, entries: entries, listStride: listStride, counts: counts, panel: panel,
                            panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
            case 3: combine(vectors: 3, rows: rows, entries: entries, listStride: listStride, counts: counts, panel: panel,
                            panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
            case 2: combine(vectors: 2, rows: rows, entries: entries, listStride: listStride, counts: counts, panel: panel,
                            panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
            default: combine(vectors: 1, rows: rows, entries: entries, listStride: listStride, counts: counts, panel: panel,
                             panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias, c: c, ldc: ldc)
            }
            column += vectors * Vector.scalarCount
        }
    }

    /// `combine(width:)` for `vectors` (a literal, 1 to 4) vectors, one accumulator each.
    @inlinable @inline(__always)
    public static func combine(
        vectors: Int, rows: Int, entries: UnsafeRawPointer, listStride: Int, counts: UnsafePointer<Int32>,
        panel: UnsafePointer<Float>, panelWidth: Int, alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let size = MemoryLayout<Vector>.stride
        let rowBytes = panelWidth * MemoryLayout<Float>.stride
        let base = UnsafeRawPointer(panel)
        for row in 0 ..< rows {
            var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector()
            var entry = entries + row * listStride * 8
            for _ in 0 ..< Int(counts[row]) {
                let s = Vector(repeating: entry.load(fromByteOffset: 4, as: Float.self))
                let source = base + Int(entry.load(as: Int32.self)) * rowBytes
                @inline(__always) func add(_ index: Int, _ sum: inout Vector) {
                    if vectors > index { sum.addProduct(s, source.loadUnaligned(fromByteOffset: index * size, as: Vector.self)) }
                }
                add(0, &c0); add(1, &c1); add(2, &c2); add(3, &c3)
                entry += 8
            }
            let target = UnsafeMutableRawPointer(c + row * ldc)
            @inline(__always) func store(_ index: Int, _ sum: Vector) {
                guard vectors > index else { return }
                var result = sum * alpha
                if accumulate {
                    result += target.loadUnaligned(fromByteOffset: index * size, as: Vector.self)
                } else if let bias {
                    result += UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: index * size, as: Vector.self)
                }
                target.storeBytes(of: result, toByteOffset: index * size, as: Vector.self)
            }
            store(0, c0); store(1, c1); store(2, c2); store(3, c3)
        }
    }
}
