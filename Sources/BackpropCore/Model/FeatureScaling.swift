/// A per-feature affine map v ↦ (v − shift) · scale. As a network's input scaling it maps
/// every input before layer 1, a^0 = (x − shift) ⊙ scale, in every call that takes inputs
/// (forward, predict, evaluate, the training steps, fit); as its target scaling (regressors
/// only) it maps every target before the loss, and outputs come back as a^L / scale + shift,
/// so a deployed model takes and gives raw values. `Network.standardizeInputs` and
/// `standardizeTargets` set them from training data (shift = mean, scale = 1 / standard
/// deviation); model files keep them.
public struct FeatureScaling: Sendable, Equatable {
    public let shift: [Float]
    public let scale: [Float]

    /// `shift` and `scale` of one length, every value finite.
    public init(shift: [Float], scale: [Float]) throws(BackpropError) {
        guard shift.count == scale.count else {
            throw BackpropError(.sizeMismatch, "shift has \(shift.count) values but scale has \(scale.count)")
        }
        for (name, values) in [("shift", shift), ("scale", scale)] {
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw BackpropError(.nonFinite, "\(name)[\(index)] is \(values[index]); the scaling must be finite")
            }
        }
        self.shift = shift
        self.scale = scale
    }

    /// The standardisation of `rows` samples of `width` features at `x`: shift = the mean,
    /// scale = 1 / the (population) standard deviation, or 1 where a feature is constant,
    /// as scikit-learn's StandardScaler. Accumulated in double precision.
    static func standardizing(_ x: UnsafePointer<Float>, rows: Int, width: Int) -> FeatureScaling {
        var mean = [Double](repeating: 0, count: width), squares = [Double](repeating: 0, count: width)
        for row in 0 ..< rows {
            for k in 0 ..< width { mean[k] += Double(x[row * width + k]) }
        }
        for k in 0 ..< width { mean[k] /= Double(rows) }
        for row in 0 ..< rows {
            for k in 0 ..< width {
                let d = Double(x[row * width + k]) - mean[k]
                squares[k] += d * d
            }
        }
        let deviation = squares.map { ($0 / Double(rows)).squareRoot() }
        let scale = deviation.map { (d: Double) -> Float in
            let inverse = Float(1 / d)
            return d > 0 && inverse.isFinite ? inverse : 1
        }
        return FeatureScaling(checkedShift: mean.map { Float($0) }, scale: scale)
    }

    private init(checkedShift shift: [Float], scale: [Float]) {
        self.shift = shift
        self.scale = scale
    }

    /// v / scale + shift for `rows` samples, in place: outputs back in the targets' units.
    func invert(_ values: UnsafeMutablePointer<Float>, rows: Int) {
        shift.withUnsafeBufferPointer { shift in
            scale.withUnsafeBufferPointer { scale in
                let width = shift.count
                for row in 0 ..< rows {
                    let offset = row * width
                    for k in 0 ..< width { values[offset + k] = values[offset + k] / scale[k] + shift[k] }
                }
            }
        }
    }

    /// (x − shift) ⊙ scale for `rows` samples; `target` may be `x`.
    func apply(_ x: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, rows: Int) {
        shift.withUnsafeBufferPointer { shift in
            scale.withUnsafeBufferPointer { scale in
                let width = shift.count
                for row in 0 ..< rows {
                    let offset = row * width
                    for k in 0 ..< width { target[offset + k] = (x[offset + k] - shift[k]) * scale[k] }
                }
            }
        }
    }
}

extension Network {
    /// Sets the input scaling (nil removes it). Its width must be the input layer's.
    public func setInputScaling(_ scaling: FeatureScaling?) throws(BackpropError) {
        if let scaling, scaling.shift.count != inputSize {
            throw BackpropError(.sizeMismatch,
                "the scaling has \(scaling.shift.count) features; the network has \(inputSize) inputs")
        }
        inputScaling = scaling
        forwardBatch = nil  // kept activations were scaled the old way
    }

    /// Sets the input scaling that standardises `data` (see `FeatureScaling.standardizing`).
    public func standardizeInputs(_ data: UnsafeBufferPointer<Float>, count: Int) throws(BackpropError) {
        guard count > 0 else {
            throw BackpropError(.invalidArgument, "count is 0; standardising needs at least one sample")
        }
        let x = try validated(data, count: inputCount(batch: count), name: "inputs")
        try setInputScaling(FeatureScaling.standardizing(x, rows: count, width: inputSize))
    }

    /// Sets the target scaling (nil removes it): a regressor's only (a softmax or sigmoid
    /// output gives probabilities, which no scaling may move), of the output layer's width,
    /// every scale nonzero (outputs are divided by it).
    public func setTargetScaling(_ scaling: FeatureScaling?) throws(BackpropError) {
        if let scaling {
            guard !ClassifierRule.isClassifier(output: layers[layers.count - 1].activation) else {
                throw BackpropError(.invalidArgument,
                    "a classifier's outputs are probabilities; only a regressor (not a softmax or sigmoid output) scales its targets")
            }
            guard scaling.shift.count == outputSize else {
                throw BackpropError(.sizeMismatch,
                    "the scaling has \(scaling.shift.count) features; the network has \(outputSize) outputs")
            }
            if let index = scaling.scale.firstIndex(of: 0) {
                throw BackpropError(.invalidArgument, "scale[\(index)] is 0; outputs are divided by the target scale")
            }
        }
        targetScaling = scaling
    }

    /// Sets the target scaling that standardises `data` (count × outputSize targets).
    public func standardizeTargets(_ data: UnsafeBufferPointer<Float>, count: Int) throws(BackpropError) {
        guard count > 0 else {
            throw BackpropError(.invalidArgument, "count is 0; standardising needs at least one sample")
        }
        let y = try validated(data, count: outputCount(batch: count), name: "targets")
        try setTargetScaling(FeatureScaling.standardizing(y, rows: count, width: outputSize))
    }

    /// `targets` (rows × outputSize) as the loss sees them: scaled into `buffer` when the
    /// network has a target scaling, else as they are.
    func scaledTargets(_ targets: UnsafePointer<Float>, rows: Int, buffer: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard let targetScaling else { return targets }
        targetScaling.apply(targets, into: buffer, rows: rows)
        return UnsafePointer(buffer)
    }
}
