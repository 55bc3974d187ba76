import BackpropCore

/// Helpers shared by the demo and the tests for training a classifier with mini-batch SGD.
public enum Classification {
    /// Row-major one-hot targets: row i has a 1 in column labels[i].
    public static func oneHot(_ labels: [Int], classes: Int) -> [Float] {
        var targets = [Float](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() { targets[row * classes + label] = 1 }
        return targets
    }

    /// The fraction of samples whose largest output is at their label.
    public static func accuracy(of network: Network, inputs: [Float], labels: [Int]) throws(BackpropError) -> Double {
        let outputs = try network.forward(inputs, batch: labels.count)
        let width = network.outputSize
        var correct = 0
        for (row, label) in labels.enumerated() {
            let scores = outputs[row * width ..< (row + 1) * width]
            if scores.indices.max(by: { scores[$0] < scores[$1] }) == row * width + label { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }

    /// One epoch of mini-batch SGD over the rows in an order shuffled by `generator`
    /// (Fisher–Yates); returns the mean of the batches' losses.
    public static func trainEpoch(
        _ network: Network, inputs: [Float], targets: [Float], batchSize: Int, learningRate: Float,
        generator: inout SplitMix64
    ) throws(BackpropError) -> Float {
        let inWidth = network.inputSize
        let outWidth = network.outputSize
        let count = inputs.count / inWidth
        var order = Array(0 ..< count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        var x = [Float](repeating: 0, count: batchSize * inWidth)
        var y = [Float](repeating: 0, count: batchSize * outWidth)
        var total: Float = 0
        var batches = 0
        for start in stride(from: 0, to: count, by: batchSize) {
            let rows = order[start ..< min(start + batchSize, count)]
            for (slot, row) in rows.enumerated() {
                x.replaceSubrange(slot * inWidth ..< (slot + 1) * inWidth, with: inputs[row * inWidth ..< (row + 1) * inWidth])
                y.replaceSubrange(slot * outWidth ..< (slot + 1) * outWidth, with: targets[row * outWidth ..< (row + 1) * outWidth])
            }
            total += try network.trainStep(
                inputs: Array(x[0 ..< rows.count * inWidth]), targets: Array(y[0 ..< rows.count * outWidth]),
                batch: rows.count, learningRate: learningRate)
            batches += 1
        }
        return total / Float(batches)
    }
}
