/// A per-feature affine map applied to every input before layer 1, a^0_k = (x_k − shift_k) ·
/// scale_k, so that a deployed model takes raw inputs: `Network.standardizeInputs` sets it
/// from training data (shift = mean, scale = 1 / standard deviation), and model files keep
/// it. Every call that takes inputs applies it: forward, predict, evaluate, the training
/// steps and fit.
public struct InputScaling: Sendable, Equatable {
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
    static func standardizing(_ x: UnsafePointer<Float>, rows: Int, width: Int) -> InputScaling {
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
        return InputScaling(checkedShift: mean.map { Float($0) }, scale: scale)
    }

    private init(checkedShift shift: [Float], scale: [Float]) {
        self.shift = shift
        self.scale = scale
    }

    /// a^0 = (x − shift) ⊙ scale for `rows` samples; `target` may be `x`.
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
    public func setInputScaling(_ scaling: InputScaling?) throws(BackpropError) {
        if let scaling, scaling.shift.count != inputSize {
            throw BackpropError(.sizeMismatch,
                "the scaling has \(scaling.shift.count) features; the network has \(inputSize) inputs")
        }
        inputScaling = scaling
        forwardBatch = nil  // kept activations were scaled the old way
    }

    /// Sets the input scaling that standardises `data` (see `InputScaling.standardizing`).
    public func standardizeInputs(_ data: UnsafeBufferPointer<Float>, count: Int) throws(BackpropError) {
        guard count > 0 else {
            throw BackpropError(.invalidArgument, "count is 0; standardising needs at least one sample")
        }
        let x = try validated(data, count: inputCount(batch: count), name: "inputs")
        try setInputScaling(InputScaling.standardizing(x, rows: count, width: inputSize))
    }
}
