/// Array conveniences for Swift callers; each wraps the buffer-based method of the same name.
extension Network {
    /// a^L for `batch` samples given row-major `inputs` (batch × inputSize); a `training`
    /// pass drops units by the network's dropout.
    public func forward(_ inputs: [Float], batch: Int, training: Bool = false) throws(BackpropError) -> [Float] {
        // Checked before the outputs are allocated, which an absurd batch would make fatal.
        try expect(inputs.count, equals: inputCount(batch: batch), name: "inputs")
        var outputs = [Float](repeating: 0, count: try outputCount(batch: batch))
        try inputs.withUnsafeBufferPointer { (x) throws(BackpropError) in
            try outputs.withUnsafeMutableBufferPointer { (out) throws(BackpropError) in
                try forward(x, batch: batch, outputs: out, training: training)
            }
        }
        return outputs
    }

    @discardableResult
    public func backward(_ targets: [Float], batch: Int) throws(BackpropError) -> Float {
        try targets.withUnsafeBufferPointer { (y) throws(BackpropError) in try backward(y, batch: batch) }
    }

    @discardableResult
    public func trainStep(inputs: [Float], targets: [Float], batch: Int, learningRate eta: Float) throws(BackpropError) -> Float {
        try inputs.withUnsafeBufferPointer { (x) throws(BackpropError) in
            try targets.withUnsafeBufferPointer { (y) throws(BackpropError) in
                try trainStep(inputs: x, targets: y, batch: batch, learningRate: eta)
            }
        }
    }

    /// All parameters in the flat layout (W^1, b^1, W^2, b^2, …).
    public func parameterArray() -> [Float] {
        Array(UnsafeBufferPointer(start: parameters, count: parameterCount))
    }

    public func setParameters(_ values: [Float]) throws(BackpropError) {
        try values.withUnsafeBufferPointer { (p) throws(BackpropError) in try setParameters(p) }
    }

    /// The gradients of the last `backward`, in the flat layout.
    public func gradientArray() throws(BackpropError) -> [Float] {
        var result = [Float](repeating: 0, count: parameterCount)
        try result.withUnsafeMutableBufferPointer { (g) throws(BackpropError) in try copyGradients(into: g) }
        return result
    }
}

extension Network {
    /// `evaluate` on row-major arrays of inputs and targets.
    public func evaluate(inputs: [Float], targets: [Float]) throws(BackpropError) -> (loss: Float, accuracy: Float) {
        try withDataSet(inputs, targets) { (data) throws(BackpropError) in try evaluate(data) }
    }

    /// `metrics` on row-major arrays.
    public func metrics(inputs: [Float], targets: [Float]) throws(BackpropError) -> Metrics {
        try withDataSet(inputs, targets) { (data) throws(BackpropError) in try metrics(data) }
    }

    /// `fit` on row-major arrays; `validation` holds (inputs, targets) arrays. Returns the
    /// report of every epoch.
    @discardableResult
    public func fit(
        inputs: [Float], targets: [Float], validation: (inputs: [Float], targets: [Float])? = nil,
        options: FitOptions, progress: (EpochReport) -> Bool = { _ in true }
    ) throws(BackpropError) -> [EpochReport] {
        var history: [EpochReport] = []
        try withDataSet(inputs, targets) { (data) throws(BackpropError) in
            guard let validation else {
                try fit(data, options: options) { history.append($0); return progress($0) }
                return
            }
            try withDataSet(validation.inputs, validation.targets) { (held) throws(BackpropError) in
                try fit(data, validation: held, options: options) { history.append($0); return progress($0) }
            }
        }
        return history
    }

    /// The arrays as a `DataSet` whose count is taken from the inputs.
    @discardableResult
    private func withDataSet<Result>(
        _ inputs: [Float], _ targets: [Float], _ body: (DataSet) throws(BackpropError) -> Result
    ) throws(BackpropError) -> Result {
        let count = inputs.count / inputSize
        try expect(inputs.count, equals: count * inputSize, name: "inputs (a whole number of rows)")
        return try inputs.withUnsafeBufferPointer { (x) throws(BackpropError) in
            try targets.withUnsafeBufferPointer { (y) throws(BackpropError) in
                try body(DataSet(inputs: x, targets: y, count: count))
            }
        }
    }
}
