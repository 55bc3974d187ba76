import XCTest
import BackpropCore

final class ThreadTests: XCTestCase {
    /// Products big enough to be split across threads give bit-identical training for
    /// 1, 2 and 3 threads (each element of C is computed by one thread in one order).
    /// With negative hidden biases, most units are off and the products with the hidden
    /// a^l and δ^l skip their zeros (`SparseGEMM`), split the same way.
    func testTrainingIsBitIdenticalForAnyThreadCount() throws {
        try checkTrainingIsBitIdenticalForAnyThreadCount(batch: 64, hiddenBiases: (0, 0))
        try checkTrainingIsBitIdenticalForAnyThreadCount(batch: 256, hiddenBiases: (-1, -0.2))
    }

    /// predict and evaluate skip a ReLU layer's zeros where training's forward pass does,
    /// and give its outputs bit for bit, on a network whose hidden units are mostly off.
    func testInferenceSkipsZerosWhereTrainingDoes() throws {
        var generator = SplitMix64(seed: 5)
        let batch = 256
        let x = (0 ..< batch * 256).map { _ in Float(generator.nextUnit()) }
        let y = (0 ..< batch).flatMap { row in (0 ..< 10).map { Float($0 == row % 10 ? 1 : 0) } }
        for (bias, skipsSome) in [(Float(-1), true), (0, false)] {
            let network = try Network(layerSizes: [256, 512, 256, 10], activations: [.relu, .relu, .softmax],
                                      loss: .crossEntropy, seed: 12)
            var parameters = network.parameterArray()
            let b1 = 256 * 512, b2 = b1 + 512 + 512 * 256
            parameters.replaceSubrange(b1 ..< b1 + 512, with: repeatElement(bias, count: 512))
            parameters.replaceSubrange(b2 ..< b2 + 256, with: repeatElement(bias / 5, count: 256))
            try network.setParameters(parameters)
            let forward = try network.forward(x, batch: batch)
            let trainingSkips = network.productsSkippingZeros
            XCTAssertEqual(trainingSkips > 0, skipsSome, "training's forward pass, bias \(bias)")
            var predicted = [Float](repeating: .nan, count: batch * 10)
            try x.withUnsafeBufferPointer { x in
                try predicted.withUnsafeMutableBufferPointer { try network.predict(x, batch: batch, outputs: $0) }
            }
            XCTAssertEqual(predicted.map(\.bitPattern), forward.map(\.bitPattern), "bias \(bias)")
            XCTAssertEqual(network.inferenceProductsSkippingZeros, trainingSkips, "predict, bias \(bias)")
            _ = try network.evaluate(inputs: x, targets: y)
            XCTAssertEqual(network.inferenceProductsSkippingZeros, 2 * trainingSkips, "evaluate, bias \(bias)")
        }
    }

    private func checkTrainingIsBitIdenticalForAnyThreadCount(batch: Int, hiddenBiases: (Float, Float)) throws {
        var generator = SplitMix64(seed: 4)
        let x = (0 ..< batch * 256).map { _ in Float(generator.nextUnit()) }
        let y = (0 ..< batch).flatMap { row in (0 ..< 10).map { Float($0 == row % 10 ? 1 : 0) } }
        func train(threads: Int) throws -> [UInt32] {
            let network = try Network(layerSizes: [256, 512, 256, 10], activations: [.relu, .relu, .softmax],
                                      loss: .crossEntropy, seed: 12)
            var parameters = network.parameterArray()
            let b1 = 256 * 512, b2 = b1 + 512 + 512 * 256
            parameters.replaceSubrange(b1 ..< b1 + 512, with: repeatElement(hiddenBiases.0, count: 512))
            parameters.replaceSubrange(b2 ..< b2 + 256, with: repeatElement(hiddenBiases.1, count: 256))
            try network.setParameters(parameters)
            try network.setThreadCount(threads)
            XCTAssertEqual(network.threadCount, threads)
            for _ in 0 ..< 3 { try network.trainStep(inputs: x, targets: y, batch: batch, learningRate: 0.05) }
            // z^2, ∂C/∂W^2, δ^1 and ∂C/∂W^1 of each of the three steps.
            XCTAssertEqual(network.productsSkippingZeros, hiddenBiases.0 < 0 ? 12 : 0)
            return network.parameterArray().map(\.bitPattern)
        }
        let single = try train(threads: 1)
        XCTAssertEqual(try train(threads: 2), single)
        XCTAssertEqual(try train(threads: 3), single)
    }

    /// A single sample's forward product is split by rows once it has 64k multiply-adds;
    /// outputs and training stay bit-identical for 1, 2 and 3 threads.
    func testSingleSamplesAreBitIdenticalForAnyThreadCount() throws {
        var generator = SplitMix64(seed: 5)
        let samples = (0 ..< 4).map { _ in (0 ..< 512).map { _ in Float(generator.nextUnit()) } }
        func run(threads: Int) throws -> [UInt32] {
            let network = try Network(layerSizes: [512, 300, 10], activations: [.tanh, .softmax], loss: .crossEntropy, seed: 3)
            try network.setThreadCount(threads)
            var bits: [UInt32] = []
            for (index, x) in samples.enumerated() {
                bits += try network.forward(x, batch: 1).map(\.bitPattern)
                let y = (0 ..< 10).map { Float($0 == index ? 1 : 0) }
                try network.trainStep(inputs: x, targets: y, batch: 1, learningRate: 0.1)
            }
            return bits + network.parameterArray().map(\.bitPattern)
        }
        let single = try run(threads: 1)
        XCTAssertEqual(try run(threads: 2), single)
        XCTAssertEqual(try run(threads: 3), single)
    }

    /// The update of a network with 64k+ parameters is split into ranges across threads,
    /// for every optimizer, with clipping and weight decay: still bit-identical.
    func testSplitUpdatesAreBitIdenticalForEveryOptimizer() throws {
        var generator = SplitMix64(seed: 6)
        let batch = 4
        let x = (0 ..< batch * 256).map { _ in Float(generator.nextUnit()) }
        let y = (0 ..< batch).flatMap { row in (0 ..< 10).map { Float($0 == row ? 1 : 0) } }
        for optimizer in Optimizer.allCases {
            var options = TrainingOptions()
            options.optimizer = optimizer
            options.clipNorm = 0.5
            options.weightDecay = 1e-3
            func train(threads: Int) throws -> [UInt32] {
                let network = try Network(layerSizes: [256, 256, 10], activations: [.relu, .softmax], loss: .crossEntropy,
                                          seed: 8)
                XCTAssertGreaterThanOrEqual(network.parameterCount, 1 << 16)  // the split threshold
                try network.setThreadCount(threads)
                try network.setTrainingOptions(options)
                for _ in 0 ..< 3 { try network.trainStep(inputs: x, targets: y, batch: batch, learningRate: 0.01) }
                return network.parameterArray().map(\.bitPattern)
            }
            let single = try train(threads: 1)
            XCTAssertEqual(try train(threads: 2), single, "\(optimizer)")
            XCTAssertEqual(try train(threads: 3), single, "\(optimizer)")
        }
    }

    func testThreadCountIsValidated() throws {
        let network = try Network(layerSizes: [2, 2], activations: [.linear], loss: .meanSquaredError, seed: 0)
        XCTAssertThrowsError(try network.setThreadCount(-1))
        XCTAssertThrowsError(try network.setThreadCount(Network.maxThreadCount + 1))
        try network.setThreadCount(0)
        XCTAssertGreaterThanOrEqual(network.threadCount, 1)
    }
}
