/// Post-training symmetric int8 quantisation of a weight matrix with one scale per output
/// unit: row j of W^l becomes q_jk = round(W_jk / s_j), |q_jk| ≤ 127, s_j = max_k |W_jk| / 127,
/// so W_jk ≈ s_j q_jk with an error of at most s_j / 2. A row of zeros has s_j = 1.
/// The library's parameters are finite, so every quotient is too.
struct Int8Rows {
    let values: [Int8]
    let scales: [Float]

    init(_ weights: UnsafePointer<Float>, rows: Int, columns: Int) {
        var values = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 1, count: rows)
        for j in 0 ..< rows {
            let row = weights + j * columns
            var largest: Float = 0
            for k in 0 ..< columns { largest = max(largest, abs(row[k])) }
            let scale = largest / 127
            // A row too small for a normal scale (subnormal weights, which the library's
            // arithmetic reads as 0 anyway) stays zeros, so no quotient is infinite or NaN.
            guard scale.isNormal else { continue }
            scales[j] = scale
            for k in 0 ..< columns {
                let step = (row[k] / scale).rounded()
                values[j * columns + k] = step.isNaN ? 0 : Int8(max(-127, min(127, step)))
            }
        }
        self.values = values
        self.scales = scales
    }
}
