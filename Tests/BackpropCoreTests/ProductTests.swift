import XCTest
@_spi(Testing) import BackpropCore

/// The matrix products against a naive float64 reference, over odd shapes and the edges of
/// every block: the register tile (6 × 16 portable, 8 × 32 AVX-512), the packing blocks
/// (mc = 144 rows, kc = 256 of depth, nc = 2048 columns), the direct path's thresholds, the
/// sparse path's 64-column panels, and the bands of a product split across threads. Each
/// element may differ from the reference by float32 rounding of its chain of multiply-adds:
/// at most 2k·ε·Σ|terms| (ε = 2^−24), with ε·Σ|terms| as the unit.
final class ProductTests: XCTestCase {
    typealias Products = LinearAlgebraForTesting

    /// (m, n, k): tiles and blocks exactly full, one past, one short; rank-few and thin
    /// shapes that go to the direct product; shapes large enough to split across threads.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (3, 5, 7), (4, 100, 90), (6, 16, 256), (8, 32, 256), (7, 17, 257), (5, 33, 255),
        (145, 33, 9), (144, 64, 12), (13, 2049, 5), (37, 65, 513), (150, 70, 260), (64, 130, 300), (9, 4, 700),
    ]

    func testDenseProductsMatchTheReferenceForEveryLayout() throws {
        var random = TestRandom(seed: 1)
        for (m, n, k) in Self.shapes {
            for aLayout in Products.Layout.allCases {
                for bLayout in Products.Layout.allCases {
                    let a = random.floats(m * k), b = random.floats(k * n), start = random.floats(m * n)
                    for accumulate in [false, true] {
                        var c = start
                        try Products.multiply(.dense, m: m, n: n, k: k, alpha: 0.75, a: a, aLayout, b: b, bLayout, c: &c,
                                              accumulate: accumulate)
                        let expected = Self.reference(m: m, n: n, k: k, alpha: 0.75, a: a, aLayout, b: b, bLayout,
                                                      start: accumulate ? start : nil)
                        assertClose(c, expected, depth: k, "dense \(m)×\(n)×\(k) \(aLayout)·\(bLayout) accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    /// A layer of few inputs reads W^T in place with strided columns; with a workspace the
    /// direct product copies it into rows and runs sixteen columns at a time. Its elements
    /// must be the bits of the element-by-element form that runs without one.
    func testFewInputsGiveTheElementwiseBits() throws {
        var random = TestRandom(seed: 5)
        for (m, n, k) in [(112, 100, 4), (37, 15, 3), (5, 33, 15), (64, 17, 1), (2, 48, 9), (150, 70, 4)] {
            let a = random.floats(m * k), b = random.floats(k * n), start = random.floats(m * n), bias = random.floats(n)
            for accumulate in [false, true] {
                for withBias in [false, true] {
                    func product(packing: Bool) throws -> [Float] {
                        var c = start
                        try Products.multiply(.dense, m: m, n: n, k: k, alpha: 0.75, a: a, .rowMajor, b: b, .transposed,
                                              c: &c, accumulate: accumulate, bias: withBias ? bias : nil,
                                              activation: .relu, packing: packing)
                        return c
                    }
                    let (packed, unpacked) = (try product(packing: true), try product(packing: false))
                    let differing = zip(packed, unpacked).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(differing, 0, "\(m)×\(n)×\(k) accumulate \(accumulate) bias \(withBias)")
                }
            }
        }
    }

    /// The forward product's fused epilogue: C starts from the bias row, then σ is applied.
    func testBiasAndActivationEpilogue() throws {
        var random = TestRandom(seed: 2)
        for (m, n, k) in Self.shapes {
            let a = random.floats(m * k), b = random.floats(k * n), bias = random.floats(n)
            var c = random.floats(m * n)  // replaced, not accumulated, when there is a bias
            try Products.multiply(.dense, m: m, n: n, k: k, alpha: 1, a: a, .rowMajor, b: b, .transposed, c: &c,
                                  accumulate: false, bias: bias, activation: .relu)
            let z = Self.reference(m: m, n: n, k: k, alpha: 1, a: a, .rowMajor, b: b, .transposed, start: nil, bias: bias)
            let expected = z.map { max($0.value, 0) }.enumerated().map { (value: $0.element, scale: z[$0.offset].scale) }
            assertClose(c, expected, depth: k, "bias+relu \(m)×\(n)×\(k)")
        }
    }

    /// A split product computes every element as one thread does, in the same order.
    func testThreadsGiveIdenticalResults() throws {
        var random = TestRandom(seed: 3)
        for (m, n, k) in [(64, 130, 300), (150, 70, 260), (300, 200, 40), (37, 2049, 30)] {
            for path in Products.Path.allCases where path == .dense || Products.sparseSuits(m: m, n: n, k: k) {
                let a = random.sparseFloats(m * k, zeroFraction: path == .sparse ? 0.75 : 0), b = random.floats(k * n)
                var one = [Float](repeating: 0, count: m * n), two = one
                try Products.multiply(path, m: m, n: n, k: k, alpha: 1, a: a, .rowMajor, b: b, .rowMajor, c: &one,
                                      accumulate: false)
                try Products.multiply(path, m: m, n: n, k: k, alpha: 1, a: a, .rowMajor, b: b, .rowMajor, c: &two,
                                      accumulate: false, threads: 2)
                assertIdentical(two, one, "\(path) \(m)×\(n)×\(k), 2 threads against 1")
            }
        }
    }

    /// The sparse product of A's nonzero entries has the dense product's value exactly
    /// (finite operands), for every layout of A, with and without a bias.
    func testSparseProductEqualsTheDenseOne() throws {
        var random = TestRandom(seed: 4)
        var checked = 0
        for (m, n, k) in Self.shapes + [(300, 64, 257), (20, 129, 2100)] where Products.sparseSuits(m: m, n: n, k: k) {
            for aLayout in Products.Layout.allCases {
                for withBias in [false, true] {
                    let a = random.sparseFloats(m * k, zeroFraction: 0.7), b = random.floats(k * n)
                    let bias = withBias ? random.floats(n) : nil
                    var sparse = [Float](repeating: 0, count: m * n), dense = sparse
                    try Products.multiply(.sparse, m: m, n: n, k: k, alpha: 0.5, a: a, aLayout, b: b, .rowMajor, c: &sparse,
                                          accumulate: false, bias: bias)
                    try Products.multiply(.dense, m: m, n: n, k: k, alpha: 0.5, a: a, aLayout, b: b, .rowMajor, c: &dense,
                                          accumulate: false, bias: bias)
                    assertIdentical(sparse, dense, "sparse \(m)×\(n)×\(k) \(aLayout) bias \(withBias), against dense")
                    let expected = Self.reference(m: m, n: n, k: k, alpha: 0.5, a: a, aLayout, b: b, .rowMajor,
                                                  start: nil, bias: bias)
                    assertClose(sparse, expected, depth: k, "sparse \(m)×\(n)×\(k)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 24, "too few shapes suit the sparse path to test it")
    }

    /// A batch of one: z = W x + b, W^T δ and δ a^T.
    func testMatrixVectorProducts() {
        var random = TestRandom(seed: 5)
        for (rows, columns) in [(1, 1), (3, 15), (4, 16), (5, 17), (9, 63), (33, 64), (7, 65), (130, 700), (1025, 300)] {
            let w = random.floats(rows * columns), x = random.floats(columns), c = random.floats(rows)
            let v = random.floats(rows), y = random.floats(columns)
            let rowTerms = (0 ..< rows).map { r in (0 ..< columns).map { Double(w[r * columns + $0]) * Double(x[$0]) } }
            let expected = rowTerms.enumerated().map { r, terms in
                (value: Double(c[r]) + terms.reduce(0, +), scale: abs(Double(c[r])) + terms.map(abs).reduce(0, +))
            }
            for threads in [1, 2] {
                let z = Products.matrixVector(w: w, rows: rows, columns: columns, x: x, adding: c, threads: threads)
                assertClose(z, expected, depth: columns, "W x + c \(rows)×\(columns), \(threads) threads")
            }
            let transposed = Products.transposedMatrixVector(w: w, rows: rows, columns: columns, v: v, alpha: 2,
                                                            accumulating: y)
            let transposedTerms = (0 ..< columns).map { j in (0 ..< rows).map { 2 * Double(w[$0 * columns + j]) * Double(v[$0]) } }
            assertClose(transposed, transposedTerms.enumerated().map { j, terms in
                (value: Double(y[j]) + terms.reduce(0, +), scale: abs(Double(y[j])) + terms.map(abs).reduce(0, +))
            }, depth: rows, "W^T v + y \(rows)×\(columns)")
            let outer = Products.outerProduct(v: v, x: x, alpha: 0.25)
            let outerExpected = (0 ..< rows * columns).map { i -> (value: Double, scale: Double) in
                let value = 0.25 * Double(v[i / columns]) * Double(x[i % columns])
                return (value, abs(value))
            }
            assertClose(outer, outerExpected, depth: 1, "v x^T \(rows)×\(columns)")
        }
    }

    // MARK: - Reference and checks

    /// α op(A) op(B) (+ start) (+ bias) in float64, with each element's Σ|terms| as its scale.
    static func reference(
        m: Int, n: Int, k: Int, alpha: Float, a: [Float], _ aLayout: Products.Layout, b: [Float], _ bLayout: Products.Layout,
        start: [Float]?, bias: [Float]? = nil
    ) -> [(value: Double, scale: Double)] {
        func elementA(_ i: Int, _ p: Int) -> Double { Double(aLayout == .rowMajor ? a[i * k + p] : a[p * m + i]) }
        func elementB(_ p: Int, _ j: Int) -> Double { Double(bLayout == .rowMajor ? b[p * n + j] : b[j * k + p]) }
        return (0 ..< m * n).map { index in
            let (i, j) = (index / n, index % n)
            let initial = Double(bias?[j] ?? start?[index] ?? 0)
            var sum = initial, scale = abs(initial)
            for p in 0 ..< k {
                let term = Double(alpha) * elementA(i, p) * elementB(p, j)
                sum += term
                scale += abs(term)
            }
            return (sum, scale)
        }
    }

    private func assertIdentical(_ actual: [Float], _ expected: [Float], _ what: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        guard let index = (0 ..< min(actual.count, expected.count)).first(where: { actual[$0] != expected[$0] }) else {
            return XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        }
        XCTFail("\(what): element \(index) is \(actual[index]), expected \(expected[index])", file: file, line: line)
    }

    private func assertClose(_ actual: [Float], _ expected: [(value: Double, scale: Double)], depth: Int, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let epsilon = 0x1p-24
        var worst = 0.0
        for (value, reference) in zip(actual, expected) {
            let units = abs(Double(value) - reference.value) / max(epsilon * reference.scale, .leastNormalMagnitude)
            worst = max(worst, units.isNaN ? .infinity : units)
        }
        XCTAssertLessThanOrEqual(worst, Double(2 * depth + 2), "\(what): error \(worst) ε·Σ|terms|", file: file, line: line)
    }
}

/// SplitMix64 floats in [−1, 1), some of them exact zeros when asked.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func floats(_ count: Int) -> [Float] { sparseFloats(count, zeroFraction: 0) }

    mutating func sparseFloats(_ count: Int, zeroFraction: Double) -> [Float] {
        (0 ..< count).map { _ in
            let uniform = Double(next() >> 11) * 0x1p-53
            return uniform < zeroFraction ? 0 : Float(Double(next() >> 40) * 0x1p-23 - 1)
        }
    }
}
