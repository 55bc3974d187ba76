extension Network {
    /// One step of a data-parallel `fit`: this process's gradients of its gathered batch
    /// (zeros for an empty batch, or one of weight 0), replaced by `reduceGradients` with
    /// the global batch's, then the update; returns this process's loss times its weight,
    /// for the epoch's sums.
    ///
    /// The update is decided by the reduced gradients alone, which every process holds
    /// alike, so that the replicas stay identical: a process whose own loss is not finite
    /// makes its gradients NaN before the reduction, and every process then refuses the
    /// step as diverged.
    func reducedBatch(
        rows: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>, weights: UnsafePointer<Float>?, rate: Float,
        collective: Collective
    ) throws(BackpropError) -> Double {
        let batchWeights = weights.flatMap { SampleWeights.batch($0, count: rows) }
        let local: Collective.Batch
        if rows > 0 && (weights == nil || batchWeights != nil) {
            // One sample's positive weight cancels, as in `trainStep`.
            let loss = try storeGradients(x, y, batch: rows, weights: rows == 1 ? nil : batchWeights)
            if !loss.isFinite { gradients.update(repeating: .nan, count: parameterCount) }
            local = Collective.Batch(samples: rows, weight: batchWeights?.sum ?? Double(rows), loss: loss)
        } else {
            tinyStepHoldsGradients = false  // the zeros below replace whatever it held
            gradientBuffer.update(repeating: 0, count: parameterCount)
            // The pass a process with rows takes here draws dropout masks; counting it
            // keeps every replica's dropout state alike.
            dropout?.endPass()
            local = Collective.Batch(samples: rows, weight: 0, loss: 0)
        }
        forwardBatch = nil
        try collective.reduceGradients(UnsafeMutableBufferPointer(start: gradients, count: parameterCount), local)
        gradientState = .pending
        try applyUpdate(learningRate: rate)
        return Double(local.loss) * local.weight
    }
}
