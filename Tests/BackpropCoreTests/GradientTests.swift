import XCTest
import BackpropCore

/// The library's gradients against the float64 reference of the seed's equations, for
/// every activation × loss combination the library accepts.
final class GradientTests: XCTestCase {
    static let hiddenActivations = Activation.allCases.filter(\.isElementwiseForTests)

    /// Every output activation with each loss that accepts any output, and cross-entropy's two.
    static var combinations: [(output: Activation, loss: Loss)] {
        [Loss.meanSquaredError, .huber, .l1].flatMap { loss in Activation.allCases.map { ($0, loss) } }
            + [(.sigmoid, .crossEntropy), (.softmax, .crossEntropy)]
    }

    func testTheTablesCoverEveryActivationAndLoss() {
        XCTAssertEqual(Set(Self.hiddenActivations + [.softmax]), Set(Activation.allCases))
        XCTAssertEqual(Set(Self.combinations.map(\.loss)), Set(Loss.allCases))
    }

    func testEveryActivationAndLossMatchesTheReference() throws {
        var seed: UInt64 = 100
        for (output, loss) in Self.combinations {
            for hidden in Self.hiddenActivations {
                seed += 1
                try checkGradients(sizes: [4, 6, 5, 3], activations: [hidden, hidden, output], loss: loss, batch: 5, seed: seed)
            }
        }
    }

    /// Shapes past the GEMM's register tile (8 × 32 or 6 × 16) and k-block (256) on every product:
    /// forward k = 300, weight-gradient k = batch = 270, edge tiles in m and n, and last panels
    /// computed half as wide (n = 48 = 32 + 16 and n = 24 = 16 + 8 fill them exactly).
    func testLargeShapesExerciseEveryGEMMBlockEdge() throws {
        try checkGradients(sizes: [300, 37, 7], activations: [.tanh, .softmax], loss: .crossEntropy, batch: 13, seed: 5,
                           checkFiniteDifferences: false)
        try checkGradients(sizes: [20, 70, 3], activations: [.sigmoid, .sigmoid], loss: .meanSquaredError, batch: 270, seed: 6,
                           checkFiniteDifferences: false)
        try checkGradients(sizes: [48, 24, 5], activations: [.relu, .softmax], loss: .crossEntropy, batch: 64, seed: 8,
                           checkFiniteDifferences: false)
    }

    /// Where at most 40% of a ReLU layer's output a^l or of its δ^l is nonzero, the
    /// products with it skip the zeros (`SparseGEMM`): z^(l+1) = W^(l+1) a^l + b^(l+1),
    /// ∂C/∂W^l and δ^(l-1). Negative biases switch most units off here, and the shapes take
    /// those products past every block edge: 280 units and 270 samples (two blocks of 256
    /// rows and two k-blocks of 256), B's 300, 280 and 70 columns (blocks of 64, then whole
    /// vectors, then single floats).
    func testProductsThatSkipTheZerosOfReLULayersMatchTheReference() throws {
        try checkSkippingZeros(sizes: [300, 280, 70, 10], hiddenBiases: [-0.8, -0.2], batch: 270, seed: 12, products: 4)
    }

    /// Over 2048 = GEMM.nc columns, B is packed and combined in chunks: z^2's 2100 units
    /// (starting from the bias), and the k-blocks of δ^1 = (Δ^2 W^2) ⊙ σ' over them.
    func testProductsThatSkipZerosSplitWideOperandsIntoPackings() throws {
        try checkSkippingZeros(sizes: [100, 80, 2100, 10], hiddenBiases: [-0.8, -0.2], batch: 40, seed: 14, products: 4)
    }

    /// Sets the hidden biases, checks that every hidden a^l (so δ^l too) is under 40%
    /// nonzero and that `products` products skipped zeros, and checks the gradients.
    private func checkSkippingZeros(
        sizes: [Int], hiddenBiases: [Float], batch: Int, seed: UInt64, products: Int, line: UInt = #line
    ) throws {
        let network = try Network(layerSizes: sizes, activations: [.relu, .relu, .softmax], loss: .crossEntropy, seed: seed)
        var parameters = network.parameterArray()
        var end = 0
        for (l, bias) in zip(1..., hiddenBiases) {
            end += sizes[l] * sizes[l - 1] + sizes[l]
            parameters.replaceSubrange(end - sizes[l] ..< end, with: repeatElement(bias, count: sizes[l]))
        }
        try network.setParameters(parameters)
        let (xs, ys) = Self.batch(network, count: batch, seed: seed &* 31)
        let reference = ReferenceNetwork(network)
        let hidden = xs.map { reference.forward($0).a }
        for l in 1 ... hiddenBiases.count {
            let active = hidden.reduce(0) { count, a in count + a[l].filter { $0 > 0 }.count }
            XCTAssertLessThan(Double(active), 0.4 * Double(batch * sizes[l]), "a^\(l) and δ^\(l) sparse enough", line: line)
        }
        try checkGradients(network, xs, ys, line: line)
        XCTAssertEqual(network.productsSkippingZeros, products, line: line)
    }

    /// One or two samples through wide layers take the unpacked kernels: dot products of
    /// four columns at a time with SIMD tails, and rank-few weight gradients.
    func testSingleSamplesThroughWideLayersMatchTheReference() throws {
        try checkGradients(sizes: [40, 33, 5], activations: [.leakyRelu, .sigmoid], loss: .crossEntropy, batch: 1, seed: 7,
                           checkFiniteDifferences: false)
        try checkGradients(sizes: [70, 17, 19, 3], activations: [.relu, .tanh, .linear], loss: .meanSquaredError, batch: 2,
                           seed: 8, checkFiniteDifferences: false)
    }

    func testTheReferenceAgreesWithFiniteDifferences() throws {
        for (output, loss) in Self.combinations {
            let network = try Network(layerSizes: [3, 4, 3], activations: [.tanh, output], loss: loss, seed: 9)
            let (xs, ys) = Self.batch(network, count: 4, seed: 10)
            let reference = ReferenceNetwork(network)
            let error = relativeError(reference.gradients(xs, ys), reference.numericalGradients(xs, ys))
            XCTAssertLessThan(error, 1e-6, "reference vs finite differences, \(output) output, \(loss)")
        }
    }

    func testLossMatchesTheReference() throws {
        for (output, loss) in Self.combinations {
            let network = try Network(layerSizes: [3, 5, 4], activations: [.relu, output], loss: loss, seed: 3)
            let (xs, ys) = Self.batch(network, count: 6, seed: 4)
            _ = try network.forward(xs.flatMap { $0.map(Float.init) }, batch: xs.count)
            let cost = try network.backward(ys.flatMap { $0.map(Float.init) }, batch: ys.count)
            let expected = ReferenceNetwork(network).meanCost(xs, ys)
            XCTAssertEqual(Double(cost), expected, accuracy: 1e-5 * max(1, abs(expected)), "\(output) output, \(loss)")
        }
    }

    private func checkGradients(
        sizes: [Int], activations: [Activation], loss: Loss, batch: Int, seed: UInt64,
        checkFiniteDifferences: Bool = true, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        // Biases drawn too (PyTorch's scheme): with zero biases, a sample whose layer below is
        // all dead ReLUs has z exactly 0, ReLU's kink, where finite differences see a slope of ½.
        let network = try Network(layerSizes: sizes, activations: activations, loss: loss, seed: seed,
                                  initialization: .pytorch)
        if loss == .huber {  // below the residuals' spread, so both of Huber's pieces are reached
            var options = network.trainingOptions
            options.huberDelta = 0.25
            try network.setTrainingOptions(options)
        }
        let (xs, ys) = Self.batch(network, count: batch, seed: seed &* 31)
        try checkGradients(network, xs, ys, checkFiniteDifferences: checkFiniteDifferences, file: file, line: line)
    }

    private func checkGradients(
        _ network: Network, _ xs: [[Double]], _ ys: [[Double]], checkFiniteDifferences: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let batch = xs.count
        _ = try network.forward(xs.flatMap { $0.map(Float.init) }, batch: batch)
        try network.backward(ys.flatMap { $0.map(Float.init) }, batch: batch)
        let library = try network.gradientArray().map(Double.init)
        let reference = ReferenceNetwork(network)
        let expected = reference.gradients(xs, ys)
        let error = relativeError(library, expected)
        XCTAssertLessThanOrEqual(error, 1e-4, "library vs reference: \(network)", file: file, line: line)
        if checkFiniteDifferences {
            // Two steps: a kink of ReLU or L1 within one step of θ_i spoils that difference, and
            // rarely both (a wrong gradient agrees with neither).
            let coarse = reference.numericalGradients(xs, ys, step: 1e-6)
            let fine = reference.numericalGradients(xs, ys, step: 1e-7)
            let numerical = zip(expected, zip(coarse, fine)).map { abs($0 - $1.0) <= abs($0 - $1.1) ? $1.0 : $1.1 }
            XCTAssertLessThan(relativeError(expected, numerical), 1e-6, "reference vs finite differences: \(network)",
                              file: file, line: line)
        }
    }

    /// Random inputs in [-1, 1) and targets suited to the loss: one-hot for softmax
    /// cross-entropy, values in (0, 1) for sigmoid cross-entropy, anything for MSE. Values
    /// are rounded to float32 so the library and the reference see the same numbers.
    static func batch(_ network: Network, count: Int, seed: UInt64) -> ([[Double]], [[Double]]) {
        var generator = SplitMix64(seed: seed)
        func draw() -> Double { Double(Float(generator.nextSymmetric(limit: 1))) }
        let xs = (0 ..< count).map { _ in (0 ..< network.inputSize).map { _ in draw() } }
        let ys: [[Double]] = (0 ..< count).map { _ in
            let width = network.outputSize
            switch (network.loss, network.activations.last!) {
            case (.crossEntropy, .softmax):
                let hot = Int(generator.next() % UInt64(width))
                return (0 ..< width).map { $0 == hot ? 1 : 0 }
            case (.crossEntropy, _):
                return (0 ..< width).map { _ in Double(Float(0.5 + 0.45 * draw())) }
            default:
                return (0 ..< width).map { _ in draw() }
            }
        }
        return (xs, ys)
    }
}

private extension Activation {
    /// Every activation but softmax, which only an output layer may have.
    var isElementwiseForTests: Bool { self != .softmax }
}
