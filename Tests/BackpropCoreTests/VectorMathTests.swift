import Foundation
import XCTest
@_spi(Testing) import BackpropCore

/// The vectorised activations and their derivatives against libm in double precision,
/// over a fine grid of their useful range and out to where float32 saturates. Each test
/// prints the largest errors it found; the bounds are those figures rounded up.
///
/// Error measure: |f − ref| / max(|ref|, floor): relative error, turning absolute near the
/// zeros of f. The floor is 1e-6 for σ, and 1 for σ', which is O(1) wherever it matters to a
/// gradient, has zeros inside the range (GELU's near −0.75, SiLU's near −1.28), and for
/// sigmoid and tanh is computed from a = σ(z), whose rounding near 1 it inherits.
final class VectorMathTests: XCTestCase {
    /// z from −lower to upper in steps of 1/1024, plus far values.
    static func grid(_ limit: Float) -> [Float] {
        stride(from: -limit, through: limit, by: 1.0 / 1024).map { $0 } + [-1e30, -200, -90, 90, 200, 1e30]
    }

    private func maximumError(_ activation: Activation, _ z: [Float], reference: (Double) -> Double,
                              derivative: Bool) -> Double {
        let values = derivative ? activation.derivative(z) ?? [] : activation(z)
        XCTAssertEqual(values.count, z.count)
        var worst = 0.0
        for (value, x) in zip(values, z) {
            let expected = reference(Double(x))
            let error = abs(Double(value) - expected) / max(abs(expected), derivative ? 1 : 1e-6)
            worst = max(worst, error.isNaN ? .infinity : error)
        }
        print("\(activation.name)\(derivative ? "'" : "") over [\(z.first ?? 0), \(z.last ?? 0)]: max error \(worst)")
        return worst
    }

    private static func normalCDF(_ z: Double) -> Double { erfc(-z / 2.0.squareRoot()) / 2 }
    private static func normalDensity(_ z: Double) -> Double { exp(-z * z / 2) / (2 * Double.pi).squareRoot() }
    private static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    func testExpAgainstLibm() {
        let x = stride(from: Float(-87), through: 88, by: 1.0 / 256).map { $0 }
        let y = LinearAlgebraForTesting.exp(x)
        var worst = 0.0
        for (value, argument) in zip(y, x) {
            let expected = Foundation.exp(Double(argument))
            worst = max(worst, abs(Double(value) - expected) / expected)
        }
        print("exp over [-87, 88]: max relative error \(worst)")
        XCTAssertLessThan(worst, 4e-7)
        XCTAssertEqual(LinearAlgebraForTesting.exp([-200, 0]), [0, 1])
    }

    func testSigmoidAndTanhAgainstLibm() {
        let z = Self.grid(20)
        XCTAssertLessThan(maximumError(.sigmoid, z, reference: Self.sigmoid, derivative: false), 1e-6)
        XCTAssertLessThan(maximumError(.tanh, z, reference: { Foundation.tanh($0) }, derivative: false), 1e-6)
        XCTAssertLessThan(maximumError(.sigmoid, Self.grid(8), reference: { Self.sigmoid($0) * (1 - Self.sigmoid($0)) },
                                       derivative: true), 2e-7)
    }

    func testGELUAgainstLibm() {
        let z = Self.grid(10)
        XCTAssertLessThan(maximumError(.gelu, z, reference: { $0 * Self.normalCDF($0) }, derivative: false), 2e-6)
        XCTAssertLessThan(maximumError(.gelu, z, reference: { Self.normalCDF($0) + $0 * Self.normalDensity($0) },
                                       derivative: true), 5e-7)
    }

    func testSiLUAgainstLibm() {
        let z = Self.grid(20)
        XCTAssertLessThan(maximumError(.silu, z, reference: { $0 * Self.sigmoid($0) }, derivative: false), 1e-6)
        XCTAssertLessThan(maximumError(.silu, z, reference: { let s = Self.sigmoid($0); return s * (1 + $0 * (1 - s)) },
                                       derivative: true), 2e-6)
    }

    func testSoftplusAgainstLibm() {
        let z = Self.grid(20)
        let softplus: (Double) -> Double = { max($0, 0) + log1p(Foundation.exp(-abs($0))) }
        XCTAssertLessThan(maximumError(.softplus, z, reference: softplus, derivative: false), 1e-6)
        XCTAssertLessThan(maximumError(.softplus, z, reference: Self.sigmoid, derivative: true), 2e-7)
        // The left tail, ln(1 + e^z) ≈ e^z, keeps its relative precision down to e^-80.
        let tail = stride(from: Float(-80), through: -5, by: 0.125).map { $0 }
        let worst = zip(Activation.softplus(tail), tail).map { abs(Double($0) - softplus(Double($1))) / softplus(Double($1)) }.max()!
        print("softplus over [-80, -5]: max relative error \(worst)")
        XCTAssertLessThan(worst, 1e-6)
    }

    func testELUAgainstLibm() {
        let elu: (Double) -> Double = { $0 > 0 ? $0 : expm1($0) }
        XCTAssertLessThan(maximumError(.elu, Self.grid(20), reference: elu, derivative: false), 1e-6)
        XCTAssertLessThan(maximumError(.elu, Self.grid(20), reference: { $0 > 0 ? 1 : Foundation.exp($0) }, derivative: true),
                          2e-7)
        // Near 0, e^z − 1 keeps its relative precision (no cancellation).
        let small = stride(from: Float(-1e-3), to: 0, by: 1e-6).map { $0 }
        let worst = zip(Activation.elu(small), small).map { abs(Double($0) - expm1(Double($1))) / abs(expm1(Double($1))) }.max()!
        print("elu over [-1e-3, 0): max relative error \(worst)")
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(Activation.elu([-200, -1e30]), [-1, -1])
    }

    /// GELU's far tails are exact: z Φ(z) is 0 below −14 (Φ < 1e-44) and z above 14.
    func testGELUSaturatesExactly() {
        XCTAssertEqual(Activation.gelu([-30, -15, 15, 30]), [0, 0, 15, 30])
        XCTAssertEqual(Activation.gelu.derivative([-30, 30]), [0, 1])
    }

    func testSoftmaxRowAgainstLibm() {
        let z: [Float] = (0 ..< 37).map { Float($0 % 11) * 1.7 - 9 }
        let a = Activation.softmax(z)
        let total = z.map { exp(Double($0)) }.reduce(0, +)
        for (value, x) in zip(a, z) {
            XCTAssertEqual(Double(value), exp(Double(x)) / total, accuracy: 2e-7 * max(1, Double(value) * 10))
        }
        XCTAssertNil(Activation.softmax.derivative(z))
    }
}
