extension Network {
    /// batch × inputSize, or an error when batch is not positive or the product overflows.
    public func inputCount(batch: Int) throws(BackpropError) -> Int {
        try Self.elementCount(batch: batch, width: inputSize, name: "inputs")
    }

    /// batch × outputSize, or an error when batch is not positive or the product overflows.
    public func outputCount(batch: Int) throws(BackpropError) -> Int {
        try Self.elementCount(batch: batch, width: outputSize, name: "outputs")
    }

    // The checks below run on every call, a tiny network's step included: each is inlined,
    // and the error it throws is built out of line.

    @inline(__always)
    static func elementCount(batch: Int, width: Int, name: String) throws(BackpropError) -> Int {
        let (count, overflow) = batch.multipliedReportingOverflow(by: width)
        guard batch > 0, !overflow else { throw countError(batch: batch, width: width, name: name) }
        return count
    }

    @inline(never)
    static func countError(batch: Int, width: Int, name: String) -> BackpropError {
        batch > 0
            ? BackpropError(.sizeOverflow, "batch \(batch) × \(width) \(name) per sample overflows")
            : BackpropError(.invalidArgument, "batch is \(batch); pass at least one sample")
    }

    @inline(__always)
    func validate(learningRate eta: Float) throws(BackpropError) {
        guard eta.isFinite, eta >= 0 else { throw Self.learningRateError(eta) }
    }

    @inline(never)
    static func learningRateError(_ eta: Float) -> BackpropError {
        eta.isFinite
            ? BackpropError(.invalidArgument, "learning rate is \(eta); it must be ≥ 0")
            : BackpropError(.nonFinite, "learning rate is \(eta); it must be a finite number ≥ 0")
    }

    @inline(__always)
    func expect(_ count: Int, equals expected: Int, name: String) throws(BackpropError) {
        guard count == expected else { throw Self.countMismatch(count, expected: expected, name: name) }
    }

    @inline(never)
    static func countMismatch(_ count: Int, expected: Int, name: String) -> BackpropError {
        BackpropError(.sizeMismatch, "\(name) holds \(count) floats; expected \(expected)")
    }

    /// The buffer's base address once its count and values are checked.
    @inline(__always)
    func validated(_ buffer: UnsafeBufferPointer<Float>, count: Int, name: String) throws(BackpropError)
        -> UnsafePointer<Float>
    {
        try expect(buffer.count, equals: count, name: name)
        guard let base = buffer.baseAddress else { throw Self.emptyBuffer(name, expected: count) }
        guard VectorKernels.allFinite(base, count: count) else { throw nonFiniteError(buffer, name: name) }
        return base
    }

    @inline(never)
    static func emptyBuffer(_ name: String, expected count: Int) -> BackpropError {
        BackpropError(.sizeMismatch, "\(name) is empty; expected \(count) floats")
    }

    /// The error for a buffer with a NaN or infinite value, naming the first.
    func nonFiniteError(_ buffer: UnsafeBufferPointer<Float>, name: String) -> BackpropError {
        let index = buffer.firstIndex { !$0.isFinite } ?? 0
        return BackpropError(.nonFinite, "\(name)[\(index)] is \(buffer[index]); every value must be finite")
    }

    /// The data set's base addresses once its shape and values are checked.
    func validated(_ data: DataSet, allowingZeroWeight: Bool = false) throws(BackpropError)
        -> (UnsafePointer<Float>, UnsafePointer<Float>, SampleWeights?)
    {
        guard data.count > 0 else {
            throw BackpropError(.invalidArgument, "the data set is empty (count is 0); it needs at least one sample")
        }
        let x = try validated(data.inputs, count: inputCount(batch: data.count), name: "inputs")
        let y = try validated(data.targets, count: outputCount(batch: data.count), name: "targets")
        let w = try data.weights.map { (buffer) throws(BackpropError) in
            try SampleWeights.validated(buffer, count: data.count, name: "weights", allowingZeroSum: allowingZeroWeight)
        }
        return (x, y, w)
    }
}
