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
        for (output, loss) in GradientTests.combinations where output != .softmax {
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
        ]
        for (x, y, code) in cases {
            XCTAssertThrowsError(try network.trainStep(inputs: x, targets: y, batch: 1, learningRate: 0.5)) { error in
                XCTAssertEqual((error as? BackpropError)?.kind, code, "\(x) \(y)")
            }
        }
        XCTAssertEqual(network.parameterArray(), before)
    }

    /// Steps both networks on the same samples; returns how many steps changed the parameters.
    @discardableResult
    private func checkSteps(sizes: [Int], activations: [Activation], loss: Loss, seed: UInt64) throws -> Int {
        let fast = try Network(layerSizes: sizes, activations: activations, loss: loss, seed: seed)
        let general = try Network(layerSizes: sizes, activations: activations, loss: loss, seed: seed)
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
