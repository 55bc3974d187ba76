import Foundation
import XCTest
@_spi(Testing) import BackpropCore

/// Each scheme's documented distribution, checked by the moments of many draws; its
/// determinism from the seed; and `initialize` as a fresh start.
final class InitializationTests: XCTestCase {
    /// 400-300 with a ReLU layer, then 300-200 with a sigmoid layer (scikit-learn's factor 2).
    private let sizes = [400, 300, 200]
    private let activations: [Activation] = [.relu, .sigmoid]

    private struct Expected {
        let uniform: Bool
        let scales: [Double]  // per layer: the uniform half-width or the normal's σ
        let drawsBiases: Bool
    }

    private func expected(_ scheme: Initialization) -> Expected {
        let fanIn = [400.0, 300.0], fanSum = [700.0, 500.0]
        switch scheme {
        case .heGlorotUniform: return Expected(uniform: true, scales: [(6 / 400.0).squareRoot(), (6 / 500.0).squareRoot()], drawsBiases: false)
        case .heUniform: return Expected(uniform: true, scales: fanIn.map { (6 / $0).squareRoot() }, drawsBiases: false)
        case .heNormal: return Expected(uniform: false, scales: fanIn.map { (2 / $0).squareRoot() }, drawsBiases: false)
        case .glorotUniform: return Expected(uniform: true, scales: fanSum.map { (6 / $0).squareRoot() }, drawsBiases: false)
        case .glorotNormal: return Expected(uniform: false, scales: fanSum.map { (2 / $0).squareRoot() }, drawsBiases: false)
        case .lecunNormal: return Expected(uniform: false, scales: fanIn.map { (1 / $0).squareRoot() }, drawsBiases: false)
        case .pytorch: return Expected(uniform: true, scales: fanIn.map { 1 / $0.squareRoot() }, drawsBiases: true)
        case .sklearn: return Expected(uniform: true, scales: [(6 / 700.0).squareRoot(), (2 / 500.0).squareRoot()], drawsBiases: true)
        }
    }

    func testEverySchemeDrawsItsDocumentedDistribution() throws {
        for scheme in Initialization.allCases {
            let network = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 9,
                                      initialization: scheme)
            let p = network.parameterArray().map(Double.init)
            let want = expected(scheme)
            let layers = [(w: 0 ..< 120_000, b: 120_000 ..< 120_300), (w: 120_300 ..< 180_300, b: 180_300 ..< 180_500)]
            for (index, layer) in layers.enumerated() {
                let scale = want.scales[index], label = "\(scheme.name), layer \(index + 1)"
                checkMoments(Array(p[layer.w]), uniform: want.uniform, scale: scale, label: label + " weights")
                if want.drawsBiases {
                    XCTAssertLessThanOrEqual(p[layer.b].map(abs).max()!, scale, label + " biases")
                    XCTAssertGreaterThan(p[layer.b].map(abs).max()!, 0.9 * scale, label + " biases")
                } else {
                    XCTAssertTrue(p[layer.b].allSatisfy { $0 == 0 }, label + " biases are 0")
                }
            }
        }
    }

    /// Mean ≈ 0, variance ≈ r²/3 (uniform) or σ², and for uniforms every |w| < r with the
    /// largest near r; for normals a kurtosis near 3 (a uniform's is 1.8).
    private func checkMoments(_ w: [Double], uniform: Bool, scale: Double, label: String) {
        let n = Double(w.count)
        let mean = w.reduce(0, +) / n
        let variance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let kurtosis = w.reduce(0) { $0 + pow($1 - mean, 4) } / n / (variance * variance)
        let wantVariance = uniform ? scale * scale / 3 : scale * scale
        XCTAssertLessThan(abs(mean), 5 * (wantVariance / n).squareRoot(), label + " mean")
        XCTAssertEqual(variance / wantVariance, 1, accuracy: 0.03, label + " variance")
        XCTAssertEqual(kurtosis, uniform ? 1.8 : 3, accuracy: 0.1, label + " kurtosis")
        if uniform {
            XCTAssertLessThanOrEqual(w.map(abs).max()!, Double(Float(scale)), label + " bound")
            XCTAssertGreaterThan(w.map(abs).max()!, 0.999 * scale, label + " bound")
        }
    }

    /// The default scheme is the one networks have always been created with: the golden
    /// digests pin it, and this pins that naming it changes nothing.
    func testTheDefaultIsWhatTheInitialiserAlwaysDrew() throws {
        let implicit = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 4)
        let named = try Network(layerSizes: sizes, activations: activations, loss: .meanSquaredError, seed: 4,
                                initialization: .heGlorotUniform)
        XCTAssertEqual(implicit.parameterArray().map(\.bitPattern), named.parameterArray().map(\.bitPattern))
    }

    func testSchemesAreDeterministicAndDistinct() throws {
        var seen = Set<[UInt32]>()
        for scheme in Initialization.allCases {
            let make = { (seed: UInt64) throws(BackpropError) in
                try Network(layerSizes: [5, 7, 3], activations: [.relu, .softmax], loss: .crossEntropy, seed: seed,
                            initialization: scheme).parameterArray().map(\.bitPattern)
            }
            XCTAssertEqual(try make(11), try make(11), scheme.name)
            XCTAssertNotEqual(try make(11), try make(12), scheme.name)
            seen.insert(try make(11))
        }
        XCTAssertEqual(seen.count, Initialization.allCases.count, "every scheme draws different parameters")
    }

    /// Pinned draws: the normal generator is part of what "the same seed gives the same
    /// network on every platform" means, so any change to it must show up here.
    func testTheNormalGeneratorIsPinned() {
        var generator = SplitMix64(seed: 1)
        let bits = (0 ..< 4).map { _ in generator.nextGaussian().bitPattern }
        XCTAssertEqual(bits, Self.pinnedGaussians, bits.map { String($0, radix: 16) }.joined(separator: ", "))
    }

    /// The same four values as the polar method with libm's log in Python's float64.
    static let pinnedGaussians: [UInt64] = [0x3FDB_7C25_1A54_70CC, 0x3FDD_368F_E72B_B620, 0xBFD4_EAEC_1CB1_1224,
                                            0x3FF0_E36D_0885_401C]

    func testTheLogarithmMatchesLibm() {
        var generator = SplitMix64(seed: 3)
        var worst = 0.0
        for i in 0 ..< 200_000 {
            // (0, 1) as the polar method uses it, and a spread of magnitudes besides.
            let x = i % 2 == 0 ? generator.nextUnit() + 0x1p-60 : exp2(Double(i % 2000) / 10 - 100) * (1 + generator.nextUnit())
            let ours = SplitMix64.naturalLogarithm(x), libm = Foundation.log(x)
            worst = max(worst, abs(ours - libm) / libm.ulp)
        }
        XCTAssertLessThanOrEqual(worst, 1, "the portable logarithm is within \(worst) ulp of libm's")
    }

    /// A re-initialised network is the freshly created one: same parameters, and after
    /// Adam steps on both, the same parameters again (its moments and step count started over).
    func testInitializeStartsTrainingOver() throws {
        let x: [Float] = [0.1, -0.4, 0.7, 0.3, 0.9, -0.2], y: [Float] = [1, 0, 0, 1]
        var options = TrainingOptions()
        options.optimizer = .adam
        func trained(_ network: Network) throws -> [UInt32] {
            for _ in 0 ..< 5 { _ = try network.trainStep(inputs: x, targets: y, batch: 2, learningRate: 0.01) }
            return network.parameterArray().map(\.bitPattern)
        }
        let reused = try Network(layerSizes: [3, 4, 2], activations: [.relu, .softmax], loss: .crossEntropy, seed: 1)
        try reused.setTrainingOptions(options)
        _ = try trained(reused)
        try reused.initialize(.pytorch, seed: 8)
        XCTAssertThrowsError(try reused.gradientArray(), "pending gradients are discarded")

        let fresh = try Network(layerSizes: [3, 4, 2], activations: [.relu, .softmax], loss: .crossEntropy, seed: 8,
                                initialization: .pytorch)
        try fresh.setTrainingOptions(options)
        XCTAssertEqual(reused.parameterArray().map(\.bitPattern), fresh.parameterArray().map(\.bitPattern))
        XCTAssertEqual(try trained(reused), try trained(fresh))
    }
}
