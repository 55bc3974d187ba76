import XCTest
import BackpropCore

/// The Swift API's contract: validation, state rules, numerical stability.
final class NetworkTests: XCTestCase {
    func testArchitectureErrors() {
        func kind(_ sizes: [Int], _ activations: [Activation], _ loss: Loss = .meanSquaredError) -> BackpropError.Kind? {
            do {
                _ = try Network(layerSizes: sizes, activations: activations, loss: loss, seed: 0)
                return nil
            } catch {
                XCTAssertFalse(error.message.isEmpty)
                return error.kind
            }
        }
        XCTAssertEqual(kind([3], []), .invalidArgument)
        XCTAssertEqual(kind([3, 0, 2], [.relu, .linear]), .invalidArgument)
        XCTAssertEqual(kind([3, 2], [.relu, .linear]), .sizeMismatch)
        XCTAssertEqual(kind([3, 4, 2], [.softmax, .softmax]), .invalidArchitecture)
        XCTAssertEqual(kind([3, 2], [.tanh], .crossEntropy), .invalidArchitecture)
        XCTAssertEqual(kind([3, 1 << 25], [.relu]), .sizeOverflow)
        XCTAssertEqual(kind([1 << 24, 1 << 24, 1 << 24], [.relu, .relu]), .outOfMemory)
        XCTAssertNil(kind([3, 2], [.sigmoid], .crossEntropy))
    }

    func testStateRules() throws {
        let network = try Network(layerSizes: [2, 3, 1], activations: [.tanh, .linear], loss: .meanSquaredError, seed: 1)
        XCTAssertThrowsError(try network.backward([1], batch: 1)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        XCTAssertThrowsError(try network.update(learningRate: 0.1)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        XCTAssertThrowsError(try network.gradientArray()) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        _ = try network.forward([1, 2, 3, 4], batch: 2)
        XCTAssertThrowsError(try network.backward([1], batch: 1)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        try network.backward([1, 2], batch: 2)
        let before = network.parameterArray()
        try network.update(learningRate: 0.1)
        XCTAssertNotEqual(before, network.parameterArray())
        XCTAssertThrowsError(try network.update(learningRate: 0.1)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        XCTAssertThrowsError(try network.backward([1, 2], batch: 2)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
        XCTAssertNoThrow(try network.gradientArray())
        // A training step keeps no activations for backward, even when its update is refused.
        XCTAssertThrowsError(try network.trainStep(inputs: [1, 2, 3, 4], targets: [1e30, 1e30], batch: 2, learningRate: 1e30)) {
            XCTAssertEqual(($0 as? BackpropError)?.kind, .diverged)
        }
        XCTAssertThrowsError(try network.backward([1, 2], batch: 2)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .state) }
    }

    func testInvalidValuesChangeNothing() throws {
        let network = try Network(layerSizes: [2, 3, 1], activations: [.tanh, .linear], loss: .meanSquaredError, seed: 1)
        let before = network.parameterArray()
        for eta: Float in [.nan, .infinity, -1] {
            XCTAssertThrowsError(try network.trainStep(inputs: [1, 2], targets: [1], batch: 1, learningRate: eta))
        }
        XCTAssertThrowsError(try network.trainStep(inputs: [.nan, 2], targets: [1], batch: 1, learningRate: 0.1)) {
            XCTAssertEqual(($0 as? BackpropError)?.kind, .nonFinite)
        }
        XCTAssertThrowsError(try network.trainStep(inputs: [1, 2], targets: [.infinity], batch: 1, learningRate: 0.1))
        XCTAssertThrowsError(try network.setParameters([Float](repeating: .nan, count: network.parameterCount)))
        XCTAssertThrowsError(try network.setParameters([1, 2]))  { XCTAssertEqual(($0 as? BackpropError)?.kind, .sizeMismatch) }
        XCTAssertThrowsError(try network.forward([1, 2, 3], batch: 1)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .sizeMismatch) }
        XCTAssertThrowsError(try network.forward([], batch: 0)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .invalidArgument) }
        XCTAssertThrowsError(try network.forward([1, 2], batch: Int.max)) { XCTAssertEqual(($0 as? BackpropError)?.kind, .sizeOverflow) }
        XCTAssertEqual(before, network.parameterArray())
    }

    /// Saturated inputs: sigmoid of ±1e4 and softmax/cross-entropy on huge logits stay finite.
    func testExtremeInputsStayFinite() throws {
        let sigmoid = try Network(layerSizes: [1, 1], activations: [.sigmoid], loss: .crossEntropy, seed: 0)
        try sigmoid.setParameters([1, 0])
        XCTAssertEqual(try sigmoid.forward([1e4, -1e4], batch: 2), [1, 0])
        let loss = try sigmoid.backward([0, 1], batch: 2)
        XCTAssertTrue(loss.isFinite)
        XCTAssertEqual(loss, 1e4, accuracy: 1)

        let softmax = try Network(layerSizes: [1, 3], activations: [.softmax], loss: .crossEntropy, seed: 0)
        try softmax.setParameters([1e4, -1e4, 0, 0, 0, 0])
        let a = try softmax.forward([1], batch: 1)
        XCTAssertEqual(a, [1, 0, 0])
        let cost = try softmax.backward([0, 1, 0], batch: 1)
        XCTAssertEqual(cost, 2e4, accuracy: 1)
        XCTAssertTrue(try softmax.gradientArray().allSatisfy(\.isFinite))
    }

    /// The vectorised sigmoid and tanh against libm in float64, across the range where
    /// they are not saturated, and both tails where they are.
    func testActivationsMatchLibmClosely() throws {
        let z: [Float] = stride(from: -30, through: 30, by: 0.01).map { Float($0) } + [1e-7, -1e-7, 0, 1e4, -1e4]
        for (activation, expected) in [(Activation.sigmoid, { 1 / (1 + Foundation.exp(-$0)) }),
                                       (.tanh, { Foundation.tanh($0) })] as [(Activation, (Double) -> Double)] {
            let network = try Network(layerSizes: [1, 1], activations: [activation], loss: .meanSquaredError, seed: 0)
            try network.setParameters([1, 0])
            let a = try network.forward(z, batch: z.count)
            for (input, output) in zip(z, a) {
                let want = expected(Double(input))
                XCTAssertEqual(Double(output), want, accuracy: 4e-7 * max(abs(want), 1e-30) + 1e-37, "\(activation)(\(input))")
            }
        }
    }

    func testBatchesOfDifferentSizesReuseAndGrowStorage() throws {
        let network = try Network(layerSizes: [2, 5, 2], activations: [.relu, .softmax], loss: .crossEntropy, seed: 4)
        let single = try network.forward([0.3, -0.7], batch: 1)
        let many = try network.forward([Float](repeating: 0, count: 2 * 99) + [0.3, -0.7], batch: 100)
        XCTAssertEqual(Array(many[198 ..< 200]), single)
        XCTAssertEqual(try network.forward([0.3, -0.7], batch: 1), single)
    }
}
