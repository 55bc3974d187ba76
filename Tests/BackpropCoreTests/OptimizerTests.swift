import XCTest
import BackpropCore

/// Each optimizer against its published update rule, applied by the test to the
/// library's own gradients for a few steps. The rule is evaluated in float32 like the
/// library: Adam's m̂/√v̂ amplifies rounding where consecutive gradients nearly cancel,
/// so a float64 reference would measure float32's limits rather than the rule.
final class OptimizerTests: XCTestCase {
    /// `Optimizer.properties` indexes a table by raw value, built in declaration order.
    func testPropertiesAreEachOptimizersOwn() {
        XCTAssertEqual(Optimizer.allCases.map(\.rawValue), Array(0 ..< Int32(Optimizer.allCases.count)))
        XCTAssertEqual(Optimizer.allCases.map { $0.properties.stateSlots.count }, [0, 1, 1, 2, 2, 2])
        XCTAssertEqual(Optimizer.allCases.filter { $0.properties.countsSteps }, [.adam, .adamW])
        XCTAssertEqual(Optimizer.allCases.filter { $0.properties.stepsBySign }, [.rprop])
    }

    func testSGDMomentumNesterovAdamAdamWAndRPROPFollowTheirRules() throws {
        var options = TrainingOptions()
        options.weightDecay = 0.01
        for optimizer in Optimizer.allCases {
            options.optimizer = optimizer
            try checkAgainstRule(options)
        }
    }

    func testGradientClippingScalesTheWholeGradient() throws {
        var options = TrainingOptions()
        options.clipNorm = 0.05
        for optimizer in [Optimizer.sgd, .adam] {
            options.optimizer = optimizer
            try checkAgainstRule(options)
        }
    }

    func testOutOfRangeOptionsAreRefusedAndChangeNothing() throws {
        let network = try Network(layerSizes: [2, 2], activations: [.linear], loss: .meanSquaredError, seed: 0)
        for (hyperparameter, value) in [(TrainingOptions.Hyperparameter.momentum, 1.0), (.beta2, -0.1), (.epsilon, 0),
                                        (.weightDecay, -1), (.rpropDecrease, 1.5), (.clipNorm, .nan),
                                        // below 1 or above 0 as doubles, but not as the floats the update uses
                                        (.beta1, 0.99999999), (.epsilon, 1e-50), (.weightDecay, 1e39)] {
            var options = network.trainingOptions
            options[hyperparameter] = value
            XCTAssertThrowsError(try network.setTrainingOptions(options), "\(hyperparameter) = \(value)")
            XCTAssertEqual(network.trainingOptions, TrainingOptions())
        }
    }

    /// An update whose result overflows is refused whole: parameters and the optimizer's
    /// state (momentum's v) are as before, byte for byte in the model encoding.
    func testARefusedStepChangesNeitherParametersNorOptimizerState() throws {
        for optimizer in [Optimizer.sgd, .momentum, .nesterov] {
            let network = try Network(layerSizes: [2, 3, 1], activations: [.tanh, .linear], loss: .meanSquaredError, seed: 2)
            var options = TrainingOptions()
            options.optimizer = optimizer
            try network.setTrainingOptions(options)
            try network.trainStep(inputs: [0.5, -0.5], targets: [1000], batch: 1, learningRate: 0.1)
            try network.trainStep(inputs: [0.5, -0.5], targets: [1000], batch: 1, learningRate: 0.1)
            _ = try network.forward([0.5, -0.5], batch: 1)
            try network.backward([1000], batch: 1)
            let before = network.encoded()
            XCTAssertThrowsError(try network.update(learningRate: 3e38), "\(optimizer)") {
                XCTAssertEqual(($0 as? BackpropError)?.kind, .diverged)
            }
            XCTAssertEqual(network.encoded(), before, "\(optimizer)")
            XCTAssertNoThrow(try network.update(learningRate: 0.01), "a sane step still applies")
        }
    }

    /// The vectorised Adam and AdamW update (`bp_adam16`, 16 lanes and a padded tail) is
    /// the scalar rule to the bit: each operation in the same order, none fused.
    func testAdamIsItsScalarRuleToTheBit() throws {
        for optimizer in [Optimizer.adam, .adamW] {
            let network = try Network(layerSizes: [5, 7, 3], activations: [.tanh, .linear], loss: .meanSquaredError,
                                      seed: 8)  // 66 parameters: four vectors and a tail of two
            var options = TrainingOptions()
            (options.optimizer, options.weightDecay, options.clipNorm) = (optimizer, 0.01, 0.5)
            try network.setTrainingOptions(options)
            var theta = network.parameterArray()
            var m = [Float](repeating: 0, count: theta.count), v = m
            let (beta1, beta2, epsilon, lambda) = (Float(options.beta1), Float(options.beta2), Float(options.epsilon),
                                                   Float(options.weightDecay))
            let eta: Float = 0.05
            let x = (0 ..< 15).map { Float($0 % 4) / 3 - 0.5 }, y = (0 ..< 9).map { Float($0 % 3) }
            for step in 1 ... 5 {
                _ = try network.forward(x, batch: 3)
                try network.backward(y, batch: 3)
                let g = try network.gradientArray()
                try network.update(learningRate: eta)
                let norm = g.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
                let clip = Float(norm > options.clipNorm ? options.clipNorm / norm : 1)
                let l2 = optimizer == .adamW ? 0 : lambda, decay = optimizer == .adamW ? 1 - eta * lambda : 1
                let c1 = Float(1 - pow(Double(beta1), Double(step))), c2 = Float(1 - pow(Double(beta2), Double(step)))
                for i in theta.indices {
                    let gi = clip * g[i] + l2 * theta[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * gi
                    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                    theta[i] = decay * theta[i] - eta * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
                }
                XCTAssertEqual(network.parameterArray().map(\.bitPattern), theta.map(\.bitPattern), "\(optimizer), step \(step)")
            }
        }
    }

    private func checkAgainstRule(_ options: TrainingOptions, file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try Network(layerSizes: [3, 4, 2], activations: [.tanh, .sigmoid], loss: .meanSquaredError, seed: 21)
        try network.setTrainingOptions(options)
        typealias R = Float
        var theta = network.parameterArray()
        var first = [R](repeating: 0, count: theta.count)
        var second = [R](repeating: options.optimizer == .rprop ? R(options.rpropInitialStep) : 0, count: theta.count)
        let eta: R = 0.1
        let (mu, beta1, beta2, epsilon) = (R(options.momentum), R(options.beta1), R(options.beta2), R(options.epsilon))
        let (lambda, increase, decrease) = (R(options.weightDecay), R(options.rpropIncrease), R(options.rpropDecrease))
        let (minStep, maxStep) = (R(options.rpropMinStep), R(options.rpropMaxStep))
        let x: [Float] = [0.5, -0.2, 0.9, -0.7, 0.3, 0.1]
        let y: [Float] = [0.2, 0.8, 0.9, 0.1]
        for step in 1 ... 4 {
            _ = try network.forward(x, batch: 2)
            try network.backward(y, batch: 2)
            let g = try network.gradientArray()
            try network.update(learningRate: eta)
            let norm = g.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            let clip = R(options.clipNorm > 0 && norm > options.clipNorm ? options.clipNorm / norm : 1)
            for i in theta.indices {
                var gi = clip * g[i] + (options.optimizer == .adamW ? 0 : lambda * theta[i])
                switch options.optimizer {
                case .sgd:
                    theta[i] -= eta * gi
                case .momentum:
                    first[i] = mu * first[i] + gi
                    theta[i] -= eta * first[i]
                case .nesterov:
                    first[i] = mu * first[i] + gi
                    theta[i] -= eta * (gi + mu * first[i])
                case .adam, .adamW:
                    first[i] = beta1 * first[i] + (1 - beta1) * gi
                    second[i] = beta2 * second[i] + (1 - beta2) * gi * gi
                    // The bias corrections 1 − β^t in float64, then rounded once.
                    let mHat = first[i] / R(1 - pow(Double(beta1), Double(step)))
                    let vHat = second[i] / R(1 - pow(Double(beta2), Double(step)))
                    if options.optimizer == .adamW { theta[i] -= eta * lambda * theta[i] }
                    theta[i] -= eta * mHat / (vHat.squareRoot() + epsilon)
                case .rprop:
                    if gi * first[i] > 0 {
                        second[i] = min(second[i] * increase, maxStep)
                    } else if gi * first[i] < 0 {
                        second[i] = max(second[i] * decrease, minStep)
                        gi = 0
                    }
                    theta[i] -= gi > 0 ? second[i] : gi < 0 ? -second[i] : 0
                    first[i] = gi
                }
            }
            for (got, want) in zip(network.parameterArray(), theta) {
                XCTAssertEqual(got, want, accuracy: 1e-5 * max(abs(want), 1e-2),
                               "\(options.optimizer), step \(step)", file: file, line: line)
            }
        }
    }

    /// A gradient that overflows while the loss stays finite (δ = 2 times an input of
    /// 3e38) must be refused by every optimizer, with or without clipping, at any η, and
    /// leave the parameters as they were: the update relies on each optimizer turning it
    /// into a non-finite parameter (and checks iRprop−'s gradients first).
    func testOverflowingGradientIsRefusedByEveryOptimizer() throws {
        for optimizer in Optimizer.allCases {
            for clipNorm in [0.0, 1.0] {
                for eta: Float in [0.1, 0] {
                    let network = try Network(layerSizes: [1, 1], activations: [.linear], loss: .meanSquaredError, seed: 0)
                    var options = TrainingOptions()
                    options.optimizer = optimizer
                    options.clipNorm = clipNorm
                    try network.setTrainingOptions(options)
                    try network.setParameters([0, 2])
                    let label = "\(optimizer), clip \(clipNorm), η \(eta)"
                    XCTAssertThrowsError(try network.trainStep(inputs: [3e38], targets: [0], batch: 1, learningRate: eta),
                                         label) { error in
                        XCTAssertEqual((error as? BackpropError)?.kind, .diverged, label)
                        XCTAssertTrue((error as? BackpropError)?.message.contains("gradient") ?? false, label)
                    }
                    XCTAssertEqual(network.parameterArray(), [0, 2], label)
                }
            }
        }
    }
}
