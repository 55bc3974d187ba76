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
        case .relu, .leakyRelu:
            VectorMath.map(z, into: a, count: count) { self.elementwise($0) }
        case .linear:
            if UnsafePointer(a) != z { a.update(from: z, count: count) }
        case .softmax:
            for row in 0 ..< rows { Self.softmax(z: z + row * width, a: a + row * width, width: width) }
        }
    }

    /// σ(z) for sixteen units of an elementwise activation (softmax: z unchanged).
    @inline(__always)
    func elementwise(_ z: VectorMath.V) -> VectorMath.V {
        switch self {
        case .sigmoid: return VectorMath.sigmoid(z)
        case .tanh: return VectorMath.tanh(z)
        case .relu: return z.replacing(with: 0, where: z .< 0)
        case .leakyRelu: return z.replacing(with: z * VectorMath.V(repeating: Self.leakySlope), where: z .< 0)
        case .linear, .softmax: return z
        }
    }

    /// δ ⊙= σ'(z), with σ' written through a = σ(z) so that hidden layers need not keep z.
    /// Elementwise activations only (softmax's Jacobian is applied by `Loss`).
    func multiplyByDerivative(_ delta: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, count: Int) {
        guard self != .linear && self != .softmax else { return }
        VectorMath.map(UnsafePointer(delta), a, into: delta, count: count) { self.derivativeProduct($0, a: $1) }
    }

    /// δ ⊙ σ'(z) for sixteen units, from a = σ(z).
    @inline(__always)
    func derivativeProduct(_ delta: VectorMath.V, a: VectorMath.V) -> VectorMath.V {
        switch self {
        case .sigmoid: return delta * (a * (1 - a))
        case .tanh: return delta * (1 - a * a)
        case .relu: return delta.replacing(with: 0, where: a .<= 0)
        case .leakyRelu: return delta.replacing(with: delta * VectorMath.V(repeating: Self.leakySlope), where: a .<= 0)
        case .linear, .softmax: return delta
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
