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

    /// How many of the values are not zero (NaN counts as nonzero); `count` < 2^35, so
    /// that no Int32 lane can overflow.
    static func nonzeroCount(_ x: UnsafePointer<Float>, count: Int) -> Int {
        let raw = UnsafeRawPointer(x)
        var lanes = SIMD16<Int32>()
        var i = 0
        while i + 16 <= count {
            lanes &+= SIMD16(repeating: 1).replacing(with: 0, where: raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) .== 0)
            i += 16
        }
        var total = 0
        for lane in 0 ..< 16 { total += Int(lanes[lane]) }
        while i < count {
            total += x[i] != 0 ? 1 : 0
            i += 1
        }
        return total
    }

    /// Copies `count` floats and returns whether all of them are finite, in one pass (as
    /// in `allFinite`).
    static func copyCheckingFinite(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int)
        -> Bool
    {
        let input = UnsafeRawPointer(source)
        let output = UnsafeMutableRawPointer(target)
        var zeros = V()
        var i = 0
        while i + 16 <= count {
            let value = input.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            output.storeBytes(of: value, toByteOffset: i * 4, as: V.self)
            zeros += value * V()
            i += 16
        }
        var tail: Float = 0
        while i < count {
            target[i] = source[i]
            tail += source[i] * 0
            i += 1
        }
        return (VectorMath.sum(zeros) + tail).isFinite
    }

    /// z ← y − η x (the update W ← W − η ∂C/∂W over the flat parameter buffer); returns
    /// whether every z is finite, checked in the same pass as in `allFinite`.
    static func subtractScaled(
        _ x: UnsafePointer<Float>, scale eta: Float, from y: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>,
        count: Int
    ) -> Bool {
        let rx = UnsafeRawPointer(x)
        let ry = UnsafeRawPointer(y)
        let rz = UnsafeMutableRawPointer(z)
        let negEta = V(repeating: -eta)
        var zeros = V()
        var i = 0
        while i + 16 <= count {
            let value = ry.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                .addingProduct(negEta, rx.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            rz.storeBytes(of: value, toByteOffset: i * 4, as: V.self)
            zeros += value * V()
            i += 16
        }
        var tail: Float = 0
        while i < count {
            z[i] = y[i].addingProduct(-eta, x[i])  // fused, as the vector lanes
            tail += z[i] * 0
            i += 1
        }
        return (VectorMath.sum(zeros) + tail).isFinite
    }

    /// Writes `vector` (width floats) into each of `rows` rows of `matrix`, `ldc` apart.
    static func broadcastRows(
        _ vector: UnsafePointer<Float>, into matrix: UnsafeMutablePointer<Float>, rows: Int, width: Int, ldc: Int
    ) {
        for row in 0 ..< rows { (matrix + row * ldc).update(from: vector, count: width) }
    }

    /// out[j] = scale · Σ_rows matrix[row][j]: the batch mean of each column. Sums run
    /// down the rows sixteen columns at a time, in registers, writing each output once.
    static func columnSums(_ matrix: UnsafePointer<Float>, rows: Int, width: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(matrix)
        let target = UnsafeMutableRawPointer(out)
        let stride = width * MemoryLayout<Float>.stride
        var j = 0
        while j + 16 <= width {
            var sum = V()
            var row = raw + j * MemoryLayout<Float>.stride
            for _ in 0 ..< rows {
                sum += row.loadUnaligned(as: V.self)
                row += stride
            }
            target.storeBytes(of: sum * V(repeating: scale), toByteOffset: j * MemoryLayout<Float>.stride, as: V.self)
            j += 16
        }
        while j < width {
            var sum: Float = 0
            for row in 0 ..< rows { sum += matrix[row * width + j] }
            out[j] = sum * scale
            j += 1
        }
    }
}
