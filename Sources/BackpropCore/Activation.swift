/// The activation function σ of a layer: a^l = σ(z^l).
public enum Activation: Sendable, CaseIterable, Equatable {
    /// σ(z) = 1 / (1 + e^-z)
    case sigmoid
    /// σ(z) = tanh z
    case tanh
    /// σ(z) = max(0, z)
    case relu
    /// σ(z) = z for z > 0, else 0.01 z
    case leakyRelu
    /// σ(z) = z
    case linear
    /// σ(z)_j = e^z_j / Σ_k e^z_k, over each sample's row; output layer only.
    case softmax

    static let leakySlope: Float = 0.01

    /// Whether σ'(z) is a diagonal (elementwise) Jacobian. Only softmax couples units.
    var isElementwise: Bool { self != .softmax }

    /// a = σ(z) for `rows` samples of `width` units. `z` and `a` may be the same buffer.
    func apply(z: UnsafePointer<Float>, a: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let count = rows * width
        switch self {
        case .sigmoid:
            VectorMath.map(z, into: a, count: count, VectorMath.sigmoid)
        case .tanh:
            VectorMath.map(z, into: a, count: count, VectorMath.tanh)
        case .relu:
            for i in 0 ..< count { a[i] = max(z[i], 0) }
        case .leakyRelu:
            for i in 0 ..< count { a[i] = z[i] > 0 ? z[i] : Self.leakySlope * z[i] }
        case .linear:
            if UnsafePointer(a) != z { a.update(from: z, count: count) }
        case .softmax:
            for row in 0 ..< rows { Self.softmax(z: z + row * width, a: a + row * width, width: width) }
        }
    }

    /// δ ⊙= σ'(z), with σ' written through a = σ(z) so that hidden layers need not keep z.
    /// Elementwise activations only (softmax's Jacobian is applied by `Loss`).
    func multiplyByDerivative(_ delta: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, count: Int) {
        switch self {
        case .sigmoid:
            for i in 0 ..< count { delta[i] *= a[i] * (1 - a[i]) }
        case .tanh:
            for i in 0 ..< count { delta[i] *= 1 - a[i] * a[i] }
        case .relu:
            for i in 0 ..< count { delta[i] = a[i] > 0 ? delta[i] : 0 }
        case .leakyRelu:
            for i in 0 ..< count { delta[i] *= a[i] > 0 ? 1 : Self.leakySlope }
        case .linear, .softmax:
            break
        }
    }

    /// Softmax of one row, shifted by the row's maximum so no exponent exceeds 0.
    private static func softmax(z: UnsafePointer<Float>, a: UnsafeMutablePointer<Float>, width: Int) {
        var maximum = z[0]
        for j in 1 ..< max(width, 1) { maximum = max(maximum, z[j]) }
        let shift = VectorMath.V(repeating: maximum)
        VectorMath.map(z, into: a, count: width) { VectorMath.exp($0 - shift) }
        var sum: Float = 0
        for j in 0 ..< width { sum += a[j] }
        let scale = 1 / sum
        for j in 0 ..< width { a[j] *= scale }
    }
}
