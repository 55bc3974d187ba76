/// Elementwise and reduction loops over contiguous floats, written with SIMD16 so they
/// vectorise without fast-math. Each reads or writes exactly `count` floats at its pointers.
enum VectorKernels {
    typealias V = SIMD16<Float>

    /// Whether every value is finite: x · 0 is 0 for finite x and NaN for NaN or ±∞, so one
    /// vector sum decides without a branch per element.
    static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var acc = V()
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= count {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) * 0
            i += 16
        }
        var tail: Float = 0
        while i < count {
            tail += x[i] * 0
            i += 1
        }
        return (VectorMath.sum(acc) + tail).isFinite
    }

    /// z ← y − η x (the update W ← W − η ∂C/∂W over the flat parameter buffer).
    static func subtractScaled(
        _ x: UnsafePointer<Float>, scale eta: Float, from y: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        let rx = UnsafeRawPointer(x)
        let ry = UnsafeRawPointer(y)
        let rz = UnsafeMutableRawPointer(z)
        let negEta = V(repeating: -eta)
        var i = 0
        while i + 16 <= count {
            let value = ry.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                .addingProduct(negEta, rx.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            rz.storeBytes(of: value, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count {
            z[i] = y[i] - eta * x[i]
            i += 1
        }
    }

    /// Writes `vector` (width floats) into each of `rows` rows of `matrix`.
    static func broadcastRows(_ vector: UnsafePointer<Float>, into matrix: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0 ..< rows { (matrix + row * width).update(from: vector, count: width) }
    }

    /// out[j] = scale · Σ_rows matrix[row][j]: the batch mean of each column.
    static func columnSums(_ matrix: UnsafePointer<Float>, rows: Int, width: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        out.update(from: matrix, count: width)
        for row in 1 ..< max(rows, 1) {
            let source = matrix + row * width
            for j in 0 ..< width { out[j] += source[j] }
        }
        for j in 0 ..< width { out[j] *= scale }
    }
}
