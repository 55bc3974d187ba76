import XCTest
import BackpropCore

/// A 2-2-1 sigmoid network with MSE, worked through by hand with the seed's equations:
///
///   x = (0.05, 0.10), y = 0.01
///   W^1 = [[0.15, 0.20], [0.25, 0.30]], b^1 = (0.35, 0.35), W^2 = [[0.40, 0.45]], b^2 = 0.60
///   z^1 = W^1 x + b^1 = (0.3775, 0.3925)            a^1 = σ(z^1) = (0.5932699921, 0.5968843783)
///   z^2 = W^2 a^1 + b^2 = 1.1059059671              a^2 = σ(z^2) = 0.7513650696
///   C   = ½ (a^2 − y)² = 0.2748110832
///   δ^2 = (a^2 − y) σ'(z^2) = 0.7413650696 · a^2 (1 − a^2) = 0.7413650696 · 0.1868156018 = 0.1384985616
///   δ^1 = (W^2)^T δ^2 ⊙ σ'(z^1) = (0.0553994247 · 0.2413007086, 0.0623243527 · 0.2406134172)
///       = (0.0133679204, 0.0149960755)
///   ∂C/∂W^2 = δ^2 (a^1)^T = (0.0821670406, 0.0826676278),  ∂C/∂b^2 = 0.1384985616
///   ∂C/∂W^1 = δ^1 x^T = [[0.0006683960, 0.0013367920], [0.0007498038, 0.0014996075]]
///   with η = 0.5: W^2 ← (0.3589164797, 0.4086661861), b^2 ← 0.5307507192
final class HandWorkedExampleTests: XCTestCase {
    func testTwoTwoOneSigmoidNetworkMatchesTheHandComputation() throws {
        let network = try Network(layerSizes: [2, 2, 1], activations: [.sigmoid, .sigmoid], loss: .meanSquaredError, seed: 0)
        try network.setParameters([0.15, 0.20, 0.25, 0.30, 0.35, 0.35, 0.40, 0.45, 0.60])

        let output = try network.forward([0.05, 0.10], batch: 1)
        XCTAssertEqual(output[0], 0.7513650696, accuracy: 1e-6)

        let cost = try network.backward([0.01], batch: 1)
        XCTAssertEqual(cost, 0.2748110832, accuracy: 1e-6)

        let expectedGradients: [Float] = [
            0.0006683960, 0.0013367920, 0.0007498038, 0.0014996075,  // ∂C/∂W^1
            0.0133679204, 0.0149960755,                              // ∂C/∂b^1
            0.0821670406, 0.0826676278,                              // ∂C/∂W^2
            0.1384985616,                                            // ∂C/∂b^2
        ]
        for (got, want) in zip(try network.gradientArray(), expectedGradients) {
            XCTAssertEqual(got, want, accuracy: 1e-6)
        }

        try network.update(learningRate: 0.5)
        let updated = network.parameterArray()
        XCTAssertEqual(updated[6], 0.3589164797, accuracy: 1e-6)
        XCTAssertEqual(updated[7], 0.4086661861, accuracy: 1e-6)
        XCTAssertEqual(updated[8], 0.5307507192, accuracy: 1e-6)
        XCTAssertEqual(updated[0], 0.15 - 0.5 * 0.0006683960, accuracy: 1e-6)
    }
}
