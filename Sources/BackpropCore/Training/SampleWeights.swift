/// Weights w_x ≥ 0 of a batch's samples: the batch's loss becomes Σ_x w_x C_x / Σ_x w_x and
/// its gradient Σ_x w_x ∂C_x/∂θ / Σ_x w_x, the mean the unweighted batch takes with every
/// w_x = 1. A sample of weight 0 takes no part; class weights are sample weights drawn
/// from each sample's class.
struct SampleWeights {
    let values: UnsafePointer<Float>
    /// Σ_x w_x, in double precision, > 0 (or ≥ 0 for one process's shard of a
    /// data-parallel fit, whose other shards may weigh).
    let sum: Double

    /// `count` weights, each finite and ≥ 0, summing to more than 0 unless
    /// `allowingZeroSum` (`name` is the argument's).
    static func validated(
        _ buffer: UnsafeBufferPointer<Float>, count: Int, name: String, allowingZeroSum: Bool = false
    ) throws(BackpropError) -> SampleWeights {
        guard buffer.count == count, let values = buffer.baseAddress else {
            throw BackpropError(.sizeMismatch, "\(name) has \(buffer.count) floats; expected \(count), one per sample")
        }
        var sum: Double = 0
        for index in 0 ..< count {
            let weight = values[index]
            guard weight.isFinite else {
                throw BackpropError(.nonFinite, "\(name)[\(index)] is \(weight); weights must be finite")
            }
            guard weight >= 0 else {
                throw BackpropError(.invalidArgument, "\(name)[\(index)] is \(weight); weights must be ≥ 0")
            }
            sum += Double(weight)
        }
        guard sum > 0 || allowingZeroSum else {
            throw BackpropError(.invalidArgument, "the \(name) sum to 0; at least one sample must have a positive weight")
        }
        return SampleWeights(values: values, sum: sum)
    }

    /// m w_x / Σ w for row `row` of `rows`: the factor on δ^L_x that turns the batch mean the
    /// gradient kernels take, (1/m) Σ_x δ_x (a_x)^T, into the weighted mean.
    func factor(_ row: Int, rows: Int) -> Float {
        Float(Double(rows) * Double(values[row]) / sum)
    }

    /// `count` weights already validated one by one (a mini-batch drawn from validated
    /// weights), if they sum to more than 0: a batch of weight 0 has nothing to learn from.
    static func batch(_ values: UnsafePointer<Float>, count: Int) -> SampleWeights? {
        var sum: Double = 0
        for index in 0 ..< count { sum += Double(values[index]) }
        return sum > 0 ? SampleWeights(values: values, sum: sum) : nil
    }
}
