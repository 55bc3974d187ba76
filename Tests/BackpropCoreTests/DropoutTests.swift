import XCTest
import BackpropCore

/// Dropout: gradients through the masks against the float64 reference, the masks' rate
/// and determinism (by seed and pass, at any thread count), inference untouched, and
/// training that resumes from a model file with the masks it would have drawn.
final class DropoutTests: XCTestCase {
    static let rates: [Float] = [0.3, 0.5]

    func network(seed: UInt64 = 4, sizes: [Int] = [5, 9, 7, 3]) throws -> Network {
        let network = try Network(layerSizes: sizes, activations: [.sigmoid, .relu, .softmax], loss: .crossEntropy,
                                  seed: seed, initialization: .pytorch)
        try network.setDropout(rates: Self.rates, seed: 77)
        return network
    }

    /// m^l of every sample of pass `pass`, by sample, hidden layer and unit.
    static func masks(_ network: Network, batch: Int, pass: UInt64) -> [[[Double]]] {
        let dropout = network.dropout!
        return (0 ..< batch).map { row in
            dropout.rates.enumerated().map { index, rate in
                let width = network.layerSizes[index + 1]
                return (0 ..< width).map { unit in
                    Dropout.keeps(rate: rate, seed: dropout.seed, pass: pass, layer: index + 1, element: row * width + unit)
                        ? Double(1 / (1 - rate)) : 0
                }
            }
        }
    }

    func testGradientsThroughTheMasksMatchTheReference() throws {
        for batch in [1, 6] {
            let network = try network()
            let (xs, ys) = GradientTests.batch(network, count: batch, seed: 9)
            // A pass before, so that the masks checked are the second pass's.
            _ = try network.forward(xs.flatMap { $0.map(Float.init) }, batch: batch, training: true)
            var reference = ReferenceNetwork(network)
            reference.masks = Self.masks(network, batch: batch, pass: 1)
            XCTAssertTrue(reference.masks.joined().joined().contains(0), "some unit is dropped")
            _ = try network.forward(xs.flatMap { $0.map(Float.init) }, batch: batch, training: true)
            let cost = try network.backward(ys.flatMap { $0.map(Float.init) }, batch: batch)
            XCTAssertEqual(Double(cost), reference.meanCost(xs, ys), accuracy: 1e-5, "batch \(batch)")
            let expected = reference.gradients(xs, ys)
            XCTAssertLessThanOrEqual(relativeError(try network.gradientArray().map(Double.init), expected), 1e-4,
                                     "library vs reference, batch \(batch)")
            XCTAssertLessThan(relativeError(expected, reference.numericalGradients(xs, ys)), 1e-6,
                              "reference vs finite differences, batch \(batch)")
        }
    }

    func testMasksKeepEachUnitWithProbabilityOneMinusTheRate() {
        for rate: Float in [0.1, 0.5, 0.8] {
            let count = 100_000
            let kept = (0 ..< count).filter { Dropout.keeps(rate: rate, seed: 3, pass: 2, layer: 1, element: $0) }.count
            let sigma = (Double(count) * Double(rate) * Double(1 - rate)).squareRoot()
            XCTAssertEqual(Double(kept), Double(count) * Double(1 - rate), accuracy: 4 * sigma, "rate \(rate)")
        }
        func pattern(seed: UInt64, pass: UInt64, layer: Int) -> [Bool] {
            (0 ..< 256).map { Dropout.keeps(rate: 0.5, seed: seed, pass: pass, layer: layer, element: $0) }
        }
        let base = pattern(seed: 1, pass: 0, layer: 1)
        XCTAssertEqual(pattern(seed: 1, pass: 0, layer: 1), base, "a mask is a function of its coordinates")
        for other in [pattern(seed: 2, pass: 0, layer: 1), pattern(seed: 1, pass: 1, layer: 1), pattern(seed: 1, pass: 0, layer: 2)] {
            let agreeing = zip(other, base).filter { $0 == $1 }.count
            XCTAssertLessThan(abs(agreeing - 128), 40, "another seed, pass or layer draws independent masks")
        }
    }

    func testInferenceAndPlainForwardPassesDropNothing() throws {
        let network = try network()
        let plain = try Network(layerSizes: network.layerSizes, activations: network.activations, loss: network.loss,
                                seed: 4, initialization: .pytorch)
        let x = (0 ..< 4 * 5).map { Float($0 % 7) / 7 - 0.3 }
        XCTAssertEqual(try network.forward(x, batch: 4), try plain.forward(x, batch: 4))
        var predicted = [Float](repeating: 0, count: 12)
        try x.withUnsafeBufferPointer { x in
            try predicted.withUnsafeMutableBufferPointer { try network.predict(x, batch: 4, outputs: $0) }
        }
        XCTAssertEqual(predicted, try plain.forward(x, batch: 4))
        XCTAssertEqual(network.dropout?.passes, 0, "only training passes draw masks")
        XCTAssertFalse(network.takesTinySteps, "a single sample's step goes through the masks too")
    }

    func testTrainingIsBitIdenticalForAnyThreadCountAndResumesFromAModelFile() throws {
        let sizes = [64, 256, 128, 3], batch = 128
        var generator = SplitMix64(seed: 8)
        let x = (0 ..< batch * 64).map { _ in Float(generator.nextSymmetric(limit: 1)) }
        let y = (0 ..< batch).flatMap { row in (0 ..< 3).map { Float($0 == row % 3 ? 1 : 0) } }
        func trained(threads: Int, steps: Int, from start: Network? = nil) throws -> Network {
            let network = try start ?? self.network(sizes: sizes)
            try network.setThreadCount(threads)
            for _ in 0 ..< steps { try network.trainStep(inputs: x, targets: y, batch: batch, learningRate: 0.05) }
            return network
        }
        let one = try trained(threads: 1, steps: 6)
        for threads in [2, 3] {
            XCTAssertEqual(try trained(threads: threads, steps: 6).parameterArray(), one.parameterArray(), "\(threads) threads")
        }
        let half = try trained(threads: 1, steps: 3)
        let loaded = try half.encoded().withUnsafeBytes { (raw) throws(BackpropError) in try Network.decode(raw) }
        XCTAssertEqual(loaded.dropout, half.dropout, "rates, seed and pass count are saved")
        XCTAssertEqual(try trained(threads: 1, steps: 3, from: loaded).parameterArray(), one.parameterArray())
        let undropped = try Network(layerSizes: sizes, activations: one.activations, loss: one.loss, seed: 4,
                                    initialization: .pytorch)
        XCTAssertNotEqual(try trained(threads: 1, steps: 6, from: undropped).parameterArray(), one.parameterArray(),
                          "the masks change training")
    }

    func testRatesAreChecked() throws {
        let network = try network()
        for rates: [Float] in [[0.5], [0.5, 1], [-0.1, 0], [.nan, 0]] {
            XCTAssertThrowsError(try network.setDropout(rates: rates, seed: 0), "\(rates)")
            XCTAssertEqual(network.dropoutRates, Self.rates, "a refused call changes nothing")
        }
        try network.setDropout(rates: [0, 0], seed: 0)
        XCTAssertNil(network.dropout, "all rates 0 is no dropout")
        XCTAssertEqual(network.dropoutRates, [0, 0])
        XCTAssertEqual(network.encoded()[8], 1, "a network without dropout is still written as version 1")
    }
}
