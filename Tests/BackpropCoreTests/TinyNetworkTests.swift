import XCTest
import BackpropCore

/// A single sample's training step through a tiny network (every layer at most 15 units,
/// elementwise σ) takes a path of its own, which must give the general path's results
/// bit for bit: the loss, the gradients and the parameters after every step.
final class TinyNetworkTests: XCTestCase {
    static let shapes: [[Int]] = [[2, 8, 1], [15, 15, 15], [3, 1, 4, 2], [1, 1], [5, 9, 7, 6, 3]]

    func testTinyStepsAreBitIdenticalToForwardBackwardUpdate() throws {
        var seed: UInt64 = 40
        var steps = 0, changed = 0
        // The tiny step serves the mean squared error and cross-entropy (see TinyNetworkStep.init).
        for (output, loss) in GradientTests.combinations
        where output != .softmax && (loss == .meanSquaredError || loss == .crossEntropy) {
            for hidden in GradientTests.hiddenActivations {
                for sizes in Self.shapes {
                    seed += 1
                    let activations = Array(repeating: hidden, count: sizes.count - 2) + [output]
                    steps += 12
                    changed += try checkSteps(sizes: sizes, activations: activations, loss: loss, seed: seed)
                }
            }
        }
        // Not vacuous: dead ReLU outputs and divergent linear stacks aside, steps change θ.
        XCTAssertGreaterThan(changed, steps * 8 / 10)
    }

    func testHuberAndL1TakeTheGeneralPath() throws {
        for loss in [Loss.huber, .l1] {
            let network = try Network(layerSizes: [2, 8, 1], activations: [.tanh, .linear], loss: loss, seed: 1)
            XCTAssertFalse(network.takesTinySteps, loss.name)
        }
    }

    /// Random shapes, deep stacks included, under every optimizer (the others take the
    /// tiny forward and backward, then the general update).
    func testRandomShapesAndEveryOptimizerAreBitIdentical() throws {
        var generator = SplitMix64(seed: 77)
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
        let hidden = GradientTests.hiddenActivations
        for optimizer in Optimizer.allCases {
            for _ in 0 ..< 6 {
                let depth = pick(0 ... 1) == 0 ? pick(1 ... 4) : pick(20 ... 40)
                let sizes = (0 ... depth).map { _ in pick(1 ... 15) }
                let activations = (1 ..< depth).map { _ in hidden[pick(0 ... hidden.count - 1)] } + [.sigmoid]
                var options = TrainingOptions()
                options.optimizer = optimizer
                try checkSteps(sizes: sizes, activations: activations, loss: pick(0 ... 1) == 0 ? .meanSquaredError : .crossEntropy,
                               seed: generator.next(), options: options)
            }
        }
    }

    /// Plain SGD's tiny steps keep W^l by columns between steps; every other way of
    /// changing θ must make them gather the columns afresh.
    func testEveryOtherChangeOfTheParametersIsSeenByTheNextTinyStep() throws {
        let sizes = [3, 7, 2], activations: [Activation] = [.tanh, .sigmoid]
        let fast = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 11)
        let general = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 11)
        var generator = SplitMix64(seed: 12)
        func sample(_ count: Int) -> [Float] { (0 ..< count).map { _ in Float(generator.nextSymmetric(limit: 1)) } }
        func tinySteps() throws {
            for _ in 0 ..< 3 {
                let x = sample(3), y = sample(2)
                let cost = try fast.trainStep(inputs: x, targets: y, batch: 1, learningRate: 0.2)
                _ = try general.forward(x, batch: 1)
                XCTAssertEqual(cost.bitPattern, try general.backward(y, batch: 1).bitPattern)
                try general.update(learningRate: 0.2)
            }
            XCTAssertEqual(fast.parameterArray().map(\.bitPattern), general.parameterArray().map(\.bitPattern))
        }
        let changes: [(String, (Network, [Float], [Float]) throws -> Void)] = [
            ("setParameters", { network, _, _ in try network.setParameters(network.parameterArray().map { $0 * 0.5 }) }),
            ("a batch of two", { network, x, y in try network.trainStep(inputs: x, targets: y, batch: 2, learningRate: 0.3) }),
            ("forward, backward, update", { network, x, y in
                _ = try network.forward(Array(x[0 ..< 3]), batch: 1)
                try network.backward(Array(y[0 ..< 2]), batch: 1)
                try network.update(learningRate: 0.3)
            }),
            ("momentum", { network, x, y in
                var options = TrainingOptions()
                options.optimizer = .momentum
                try network.setTrainingOptions(options)
                try network.trainStep(inputs: Array(x[0 ..< 3]), targets: Array(y[0 ..< 2]), batch: 1, learningRate: 0.3)
                try network.setTrainingOptions(TrainingOptions())
            }),
            ("clipping", { network, x, y in
                var options = TrainingOptions()
                options.clipNorm = 0.01
                try network.setTrainingOptions(options)
                try network.trainStep(inputs: Array(x[0 ..< 3]), targets: Array(y[0 ..< 2]), batch: 1, learningRate: 0.3)
                try network.setTrainingOptions(TrainingOptions())
            }),
        ]
        try tinySteps()
        for (name, change) in changes {
            let x = sample(6), y = sample(4)
            let before = fast.parameterArray()
            try change(fast, x, y)
            try change(general, x, y)
            XCTAssertNotEqual(fast.parameterArray(), before, name)
            try tinySteps()
        }
    }

    /// An update that overflows is refused with the general path's error, and leaves θ
    /// (and the columns the next step starts from) as they were.
    func testAnOverflowingTinyStepIsRefusedAndChangesNothing() throws {
        let fast = try Network(layerSizes: [2, 8, 1], activations: [.sigmoid, .linear], loss: .meanSquaredError, seed: 5)
        let general = try Network(layerSizes: [2, 8, 1], activations: [.sigmoid, .linear], loss: .meanSquaredError, seed: 5)
        let x: [Float] = [0.3, 0.9], y: [Float] = [1000]
        try fast.trainStep(inputs: x, targets: y, batch: 1, learningRate: 1e-4)
        _ = try general.forward(x, batch: 1)
        try general.backward(y, batch: 1)
        try general.update(learningRate: 1e-4)
        let before = fast.parameterArray()
        let fastError = Result { () throws(BackpropError) in try fast.trainStep(inputs: x, targets: y, batch: 1, learningRate: 1e37) }
        let generalError = Result { () throws(BackpropError) in
            _ = try general.forward(x, batch: 1)
            try general.backward(y, batch: 1)
            try general.update(learningRate: 1e37)
        }
        guard case .failure(let error) = fastError, case .failure(let expected) = generalError else {
            return XCTFail("a step of 1e37 was not refused")
        }
        XCTAssertEqual(error, expected)
        XCTAssertEqual(fast.parameterArray(), before)
        XCTAssertThrowsError(try fast.backward(y, batch: 1)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        let cost = try fast.trainStep(inputs: x, targets: y, batch: 1, learningRate: 1e-4)
        _ = try general.forward(x, batch: 1)
        XCTAssertEqual(cost.bitPattern, try general.backward(y, batch: 1).bitPattern)
        try general.update(learningRate: 1e-4)
        XCTAssertEqual(fast.parameterArray().map(\.bitPattern), general.parameterArray().map(\.bitPattern))
    }

    func testOnlyNetworksThatFitAVectorTakeTinySteps() throws {
        let tiny = try Network(layerSizes: [15, 15, 15], activations: [.tanh, .sigmoid], loss: .meanSquaredError, seed: 1)
        let wide = try Network(layerSizes: [2, 16, 1], activations: [.tanh, .sigmoid], loss: .meanSquaredError, seed: 1)
        let softmax = try Network(layerSizes: [2, 4, 3], activations: [.tanh, .softmax], loss: .crossEntropy, seed: 1)
        XCTAssertTrue(tiny.takesTinySteps)
        XCTAssertFalse(wide.takesTinySteps)
        XCTAssertFalse(softmax.takesTinySteps)
    }

    /// Bad arguments get the general path's errors and change nothing.
    func testTinyStepsRefuseBadSamplesLikeTheGeneralPath() throws {
        let network = try Network(layerSizes: [2, 8, 1], activations: [.sigmoid, .sigmoid], loss: .meanSquaredError, seed: 2)
        let before = network.parameterArray()
        let cases: [([Float], [Float], BackpropError.Kind)] = [
            ([0.5], [1], .sizeMismatch), ([0.5, 0.5], [1, 0], .sizeMismatch),
            ([.nan, 0.5], [1], .nonFinite), ([0.5, 0.5], [.infinity], .nonFinite),
            ([.nan, 0.5], [1, 0], .nonFinite),  // inputs are checked before the targets' count
        ]
        for (x, y, code) in cases {
            XCTAssertThrowsError(try network.trainStep(inputs: x, targets: y, batch: 1, learningRate: 0.5)) { error in
                XCTAssertEqual((error as? BackpropError)?.kind, code, "\(x) \(y)")
            }
        }
        XCTAssertEqual(network.parameterArray(), before)
    }

    /// A plain-SGD tiny step writes ∂C/∂θ out only when it is read. Until then it must
    /// survive refused steps, reach a saved model, and give way to a later backward pass.
    func testTheGradientsOfATinyStepAreReadableUntilAnotherPassReplacesThem() throws {
        let sizes = [2, 8, 1], activations: [Activation] = [.sigmoid, .sigmoid]
        let fast = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 21)
        let general = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 21)
        func generalStep(_ x: [Float], _ y: [Float]) throws {
            _ = try general.forward(x, batch: 1)
            try general.backward(y, batch: 1)
            try general.update(learningRate: 0.4)
        }
        func expectSameGradients(_ network: Network, _ label: String) throws {
            XCTAssertEqual(try network.gradientArray().map(\.bitPattern), try general.gradientArray().map(\.bitPattern), label)
        }
        try fast.trainStep(inputs: [0.2, -0.7], targets: [0.9], batch: 1, learningRate: 0.4)
        try generalStep([0.2, -0.7], [0.9])
        for (x, y) in [([Float.nan, 0.5], [Float(1)]), ([0.5, 0.5], [.infinity]), ([0.5, 0.5], [1, 0])] {
            XCTAssertThrowsError(try fast.trainStep(inputs: x, targets: y, batch: 1, learningRate: 0.4))
        }
        let saved = fast.encoded()
        try expectSameGradients(fast, "after refused steps")
        try expectSameGradients(saved.withUnsafeBytes { (bytes) throws(BackpropError) in try Network.decode(bytes) },
                                "a model saved while the step held them")

        try fast.trainStep(inputs: [-0.3, 0.4], targets: [0.1], batch: 1, learningRate: 0.4)
        try generalStep([-0.3, 0.4], [0.1])
        for network in [fast, general] {
            _ = try network.forward([0.6, 0.6], batch: 1)
            try network.backward([0.5], batch: 1)
        }
        try expectSameGradients(fast, "after a later backward pass")
    }

    /// Steps both networks on the same samples; returns how many steps changed the parameters.
    @discardableResult
    private func checkSteps(
        sizes: [Int], activations: [Activation], loss: Loss, seed: UInt64, options: TrainingOptions = TrainingOptions()
    ) throws -> Int {
        let fast = try Network(layerSizes: sizes, activations: activations, loss: loss, seed: seed)
        let general = try Network(layerSizes: sizes, activations: activations, loss: loss, seed: seed)
        try fast.setTrainingOptions(options)
        try general.setTrainingOptions(options)
        XCTAssertTrue(fast.takesTinySteps, "\(sizes)")
        let label = "\(sizes) \(activations) \(loss)"
        var generator = SplitMix64(seed: seed)
        var changed = 0
        for _ in 0 ..< 12 {
            let x = (0 ..< sizes[0]).map { _ in Float(generator.nextSymmetric(limit: 2)) }
            let y = (0 ..< sizes[sizes.count - 1]).map { _ in Float(generator.nextSymmetric(limit: 0.5) + 0.5) }
            let before = fast.parameterArray()
            let fastResult = Result { () throws(BackpropError) in
                try fast.trainStep(inputs: x, targets: y, batch: 1, learningRate: 0.3)
            }
            let generalResult = Result { () throws(BackpropError) in
                _ = try general.forward(x, batch: 1)
                let cost = try general.backward(y, batch: 1)
                try general.update(learningRate: 0.3)
                return cost
            }
            XCTAssertEqual(fastResult.map(\.bitPattern), generalResult.map(\.bitPattern), label)
            XCTAssertEqual(try fast.gradientArray().map(\.bitPattern), try general.gradientArray().map(\.bitPattern), label)
            XCTAssertEqual(fast.parameterArray().map(\.bitPattern), general.parameterArray().map(\.bitPattern), label)
            if fast.parameterArray() != before { changed += 1 }
        }
        return changed
    }
}
