/// The validated data and the buffers of one `Network.fit`: everything it checks and
/// allocates before the first step, so that a refused fit fails before training (and, in
/// a data-parallel fit, before the processes start to wait for each other).
final class FitRun {
    /// A data set whose inputs, targets and weights have been checked.
    struct CheckedSet {
        let inputs: UnsafePointer<Float>
        let targets: UnsafePointer<Float>
        let weights: SampleWeights?
        let count: Int
    }

    let training: CheckedSet
    let held: CheckedSet?
    /// Rows per step: the batch size, or all the data when it holds fewer.
    let batch: Int
    /// The cosine schedule's cycle (see `Network.scheduleCycle`).
    let cycle: Int
    /// The order in which the epoch visits the rows, shuffled in place.
    let order: UnsafeMutablePointer<Int>
    /// The gathered batch's targets, then (with weights) its weights.
    let yBatch: UnsafeMutablePointer<Float>
    let wBatch: UnsafeMutablePointer<Float>
    /// The best epoch's parameters, kept with early stopping and `restoreBest`.
    let best: UnsafeMutablePointer<Float>?

    var count: Int { training.count }
    var weights: SampleWeights? { training.weights }
    /// The steps that visit every row once.
    var localSteps: Int { (count + batch - 1) / batch }

    /// `allowsZeroWeight`: the training weights may sum to 0, as one process's shard of a
    /// data-parallel fit may (the processes check the sum over all shards).
    init(
        network: Network, data: DataSet, validation: DataSet?, options: FitOptions, allowsZeroWeight: Bool = false
    ) throws(BackpropError) {
        try network.validate(options)
        cycle = try network.scheduleCycle(epochs: options.epochs)
        training = try Self.checked(data, network, allowingZeroWeight: allowsZeroWeight)
        held = try validation.map { (set) throws(BackpropError) in try Self.checked(set, network) }
        batch = min(options.batchSize, data.count)
        let outputs = batch * network.outputSize
        let weightSlots = data.weights == nil ? 0 : batch
        let keepsBest = options.patience > 0 && options.restoreBest
        let floats = try Memory.allocateFloats(outputs + weightSlots + (keepsBest ? network.parameterCount : 0),
                                               for: "a training batch")
        yBatch = floats
        wBatch = floats + outputs
        best = keepsBest ? floats + outputs + weightSlots : nil
        do {
            order = try Memory.allocate(Int.self, count: data.count, for: "the sample order")
        } catch {
            Memory.free(floats)
            throw error
        }
        for index in 0 ..< data.count { order[index] = index }
    }

    func release() {
        Memory.free(yBatch)  // the start of the floats that hold wBatch and best too
        Memory.free(order)
    }

    /// Copies the rows of step `step` of the epoch (in `order`) into the a^0 buffer `x`
    /// (scaled by `scaling`), `yBatch` and `wBatch`; returns how many there are: 0 for a
    /// step beyond this process's data. Each sample is copied once: the step reads `x` in
    /// place.
    func gather(
        step: Int, into x: UnsafeMutablePointer<Float>, scaling: FeatureScaling?, width: Int, outputs: Int
    ) -> Int {
        let start = step * batch
        guard start < count else { return 0 }
        let rows = min(batch, count - start)
        for slot in 0 ..< rows {
            let row = order[start + slot]
            if let scaling {
                scaling.apply(training.inputs + row * width, into: x + slot * width, rows: 1)
            } else {
                (x + slot * width).update(from: training.inputs + row * width, count: width)
            }
            (yBatch + slot * outputs).update(from: training.targets + row * outputs, count: outputs)
            if let weights { wBatch[slot] = weights.values[row] }
        }
        return rows
    }

    private static func checked(
        _ set: DataSet, _ network: Network, allowingZeroWeight: Bool = false
    ) throws(BackpropError) -> CheckedSet {
        let (x, y, w) = try network.validated(set, allowingZeroWeight: allowingZeroWeight)
        return CheckedSet(inputs: x, targets: y, weights: w, count: set.count)
    }
}
