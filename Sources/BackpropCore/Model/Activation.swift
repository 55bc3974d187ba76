/// The activation function σ of a layer: a^l = σ(z^l). Each case is one activation's
/// facts: its C code (the raw value, `BP_*` in include/backprop.h), its function, its
/// derivative and what that derivative reads, and the initialisation that suits it.
public enum Activation: Int32, PublicCode {
    /// σ(z) = 1 / (1 + e^-z)
    case sigmoid = 0
    /// σ(z) = tanh z
    case tanh = 1
    /// σ(z) = max(0, z)
    case relu = 2
    /// σ(z) = z for z > 0, else 0.01 z
    case leakyRelu = 3
    /// σ(z) = z
    case linear = 4
    /// σ(z)_j = e^z_j / Σ_k e^z_k, over each sample's row; output layer only.
    case softmax = 5
    /// σ(z) = z Φ(z) = ½ z (1 + erf(z/√2)), the exact form (PyTorch's default GELU).
    case gelu = 6
    /// σ(z) = z / (1 + e^-z), the sigmoid-weighted linear unit (also called swish).
    case silu = 7
    /// σ(z) = ln(1 + e^z), a smooth ReLU; σ'(z) = 1 / (1 + e^-z).
    case softplus = 8
    /// σ(z) = z for z > 0, else e^z − 1 (α = 1, PyTorch's and Keras's default);
    /// σ'(z) = 1 for z > 0, else a + 1.
    case elu = 9

    public static let kind = "activation"
    public static let constantPrefix = "BP_"

    public var name: String {
        switch self {
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .relu: return "relu"
        case .leakyRelu: return "leaky-relu"
        case .linear: return "linear"
        case .softmax: return "softmax"
        case .gelu: return "gelu"
        case .silu: return "silu"
        case .softplus: return "softplus"
        case .elu: return "elu"
        }
    }

    static let leakySlope: Float = 0.01

    /// What σ' is computed from. Layers keep z^l only when their σ' reads it, so the
    /// activations whose derivative follows from a = σ(z) cost no memory for z.
    public enum DerivativeOperand: Sendable {
        /// σ'(z) from a = σ(z).
        case output
        /// σ'(z) from z itself.
        case weightedInput
    }

    public var derivativeReads: DerivativeOperand {
        switch self {
        case .sigmoid, .tanh, .relu, .leakyRelu, .linear, .softmax, .elu: return .output
        case .gelu, .silu, .softplus: return .weightedInput
        }
    }

    /// Whether σ'(z) is a diagonal (elementwise) Jacobian. Only softmax couples units.
    var isElementwise: Bool { self != .softmax }

    /// The range `Initialization.heGlorotUniform` draws weights from: Glorot/Xavier
    /// for saturating and linear units, He for rectifiers and their smooth relatives.
    enum WeightScale { case glorot, he }

    var weightScale: WeightScale {
        switch self {
        case .relu, .leakyRelu, .gelu, .silu, .softplus, .elu: return .he
        case .sigmoid, .tanh, .linear, .softmax: return .glorot
        }
    }

    /// a = σ(z) for `rows` samples of `width` units. `z` and `a` may be the same buffer.
    func apply(z: UnsafePointer<Float>, a: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let count = rows * width
        switch self {
        case .sigmoid:
            VectorMath.map(z, into: a, count: count, VectorMath.sigmoid)
        case .tanh:
            VectorMath.map(z, into: a, count: count, VectorMath.tanh)
        case .relu, .leakyRelu, .gelu, .silu, .softplus, .elu:
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
        case .gelu: return Self.gelu(z)
        case .silu: return Self.silu(z)
        case .softplus: return Self.softplus(z)
        case .elu: return Self.elu(z)
        case .linear, .softmax: return z
        }
    }

    /// GELU's, SiLU's, softplus's and ELU's σ and σ' are called, not inlined: inlined, their length kept the
    /// switches that hold them from being inlined into the tiny network's step (D trained
    /// 8% slower).
    @inline(never)
    private static func gelu(_ z: VectorMath.V) -> VectorMath.V { z * VectorMath.normalCDF(z) }

    @inline(never)
    private static func silu(_ z: VectorMath.V) -> VectorMath.V { z * VectorMath.sigmoid(z) }

    /// max(z, 0) + ln(1 + e^−|z|): no exponent overflows, and a tiny e^−|z| keeps its digits.
    @inline(never)
    private static func softplus(_ z: VectorMath.V) -> VectorMath.V {
        let rectified = z.replacing(with: 0, where: z .< 0)
        return rectified + VectorMath.log1pOfUnit(VectorMath.exp(-VectorMath.magnitude(z)))
    }

    @inline(never)
    private static func elu(_ z: VectorMath.V) -> VectorMath.V { z.replacing(with: VectorMath.expm1(z), where: z .< 0) }

    /// δ ⊙ σ'(z), σ'(z) = s (1 + z (1 − s)), s = 1 / (1 + e^-z).
    @inline(never)
    private static func siluDerivativeProduct(_ delta: VectorMath.V, z: VectorMath.V) -> VectorMath.V {
        let s = VectorMath.sigmoid(z)
        return delta * s.addingProduct(s * z, 1 - s)
    }

    /// δ ⊙ σ'(z), σ'(z) = 1 / (1 + e^-z).
    @inline(never)
    private static func softplusDerivativeProduct(_ delta: VectorMath.V, z: VectorMath.V) -> VectorMath.V {
        delta * VectorMath.sigmoid(z)
    }

    /// δ ⊙ σ'(z), σ'(z) = Φ(z) + z φ(z).
    @inline(never)
    private static func geluDerivativeProduct(_ delta: VectorMath.V, z: VectorMath.V) -> VectorMath.V {
        let (cdf, density) = VectorMath.normalDistribution(z)
        return delta * cdf.addingProduct(z, density)
    }

    /// δ ⊙= σ'(z), where `operand` holds what σ' reads (`derivativeReads`): a = σ(z) or z,
    /// laid out like δ. Elementwise activations only (softmax's Jacobian is applied by `Loss`).
    func multiplyByDerivative(_ delta: UnsafeMutablePointer<Float>, operand: UnsafePointer<Float>, count: Int) {
        guard self != .linear && self != .softmax else { return }
        VectorMath.map(UnsafePointer(delta), operand, into: delta, count: count) { self.derivativeProduct($0, operand: $1) }
    }

    /// δ ⊙ σ'(z) for sixteen units, from `operand`: a = σ(z) or z (`derivativeReads`).
    @inline(__always)
    func derivativeProduct(_ delta: VectorMath.V, operand: VectorMath.V) -> VectorMath.V {
        switch self {
        case .sigmoid: return delta * (operand * (1 - operand))
        case .tanh: return delta * (1 - operand * operand)
        case .relu: return delta.replacing(with: 0, where: operand .<= 0)
        case .leakyRelu:
            return delta.replacing(with: delta * VectorMath.V(repeating: Self.leakySlope), where: operand .<= 0)
        case .gelu: return Self.geluDerivativeProduct(delta, z: operand)
        case .silu: return Self.siluDerivativeProduct(delta, z: operand)
        case .softplus: return Self.softplusDerivativeProduct(delta, z: operand)
        case .elu: return delta.replacing(with: delta * (operand + 1), where: operand .<= 0)
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

extension Activation {
    /// σ(z) for each value, computed as a layer computes it (softmax: over all of `z` as
    /// one sample's row).
    public func callAsFunction(_ z: [Float]) -> [Float] {
        var a = z
        z.withUnsafeBufferPointer { input in
            a.withUnsafeMutableBufferPointer { output in
                guard let source = input.baseAddress, let target = output.baseAddress else { return }
                apply(z: source, a: target, rows: 1, width: z.count)
            }
        }
        return a
    }

    /// σ'(z) for each value, computed as the backward pass computes it (from σ(z) or from z,
    /// as `derivativeReads` says); nil for softmax, whose derivative is a Jacobian.
    public func derivative(_ z: [Float]) -> [Float]? {
        guard isElementwise else { return nil }
        let operand = derivativeReads == .output ? self(z) : z
        var delta = [Float](repeating: 1, count: z.count)
        operand.withUnsafeBufferPointer { input in
            delta.withUnsafeMutableBufferPointer { output in
                guard let source = input.baseAddress, let target = output.baseAddress else { return }
                multiplyByDerivative(target, operand: source, count: z.count)
            }
        }
        return delta
    }
}
