#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The cost C of one sample; a batch's loss is the mean of its samples' costs. The raw
/// value is the loss's C code (`BP_LOSS_*` in include/backprop.h).
public enum Loss: Int32, PublicCode {
    /// C = ½ ‖a^L − y‖², so C'(a^L) = a^L − y.
    case meanSquaredError = 0
    /// With a softmax output C = −Σ_j y_j ln a_j; with a sigmoid output (binary, per unit)
    /// C = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]. Either way δ^L = a^L − y.
    case crossEntropy = 1

    public static let kind = "loss"
    public static let constantPrefix = "BP_LOSS_"

    public var name: String {
        switch self {
        case .meanSquaredError: return "mse"
        case .crossEntropy: return "cross-entropy"
        }
    }

    /// Whether this loss can follow an output layer with `activation`. Cross-entropy is
    /// defined on probabilities, and its fused δ^L = a^L − y holds only for softmax and
    /// sigmoid.
    func supports(output activation: Activation) -> Bool {
        self == .meanSquaredError || activation == .softmax || activation == .sigmoid
    }

    /// δ^L = C'(a^L) ⊙ σ'(z^L) for `rows` samples of `width` outputs; returns the mean
    /// cost. Cross-entropy is evaluated from z^L in log-sum-exp / softplus form, so no
    /// logarithm ever sees 0.
    func outputDelta(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>,
        rows: Int, width: Int, activation: Activation, delta: UnsafeMutablePointer<Float>
    ) -> Float {
        var total: Double = 0
        for row in 0 ..< rows {
            let offset = row * width
            total += sampleDelta(
                z: z + offset, a: a + offset, y: y + offset, width: width,
                activation: activation, delta: delta + offset)
        }
        return Float(total / Double(rows))
    }

    /// The mean cost of `rows` samples, without gradients (for evaluation).
    func meanCost(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>,
        rows: Int, width: Int, activation: Activation
    ) -> Double {
        var total: Double = 0
        for row in 0 ..< rows {
            let offset = row * width
            total += sampleCost(z: z + offset, a: a + offset, y: y + offset, width: width, activation: activation)
        }
        return total / Double(rows)
    }

    private func sampleDelta(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>,
        width: Int, activation: Activation, delta: UnsafeMutablePointer<Float>
    ) -> Double {
        if self == .meanSquaredError && !activation.isElementwise {
            for j in 0 ..< width { delta[j] = a[j] - y[j] }
            Self.softmaxJacobianProduct(delta, a: a, width: width)
        } else {
            let operand = activation.derivativeReads == .output ? a : z
            VectorMath.map(a, y, operand, into: delta, count: width) {
                outputError(a: $0, y: $1, operand: $2, activation: activation)
            }
        }
        return sampleCost(z: z, a: a, y: y, width: width, activation: activation)
    }

    /// δ^L = C'(a^L) ⊙ σ'(z^L) for sixteen outputs of an elementwise output layer, from
    /// a^L, y and what σ' reads (`Activation.derivativeReads`): for the mean squared error
    /// (a^L − y) ⊙ σ'(z^L); for cross-entropy the fused a^L − y. The batch path and the tiny
    /// network's step both compute δ^L here.
    @inline(__always)
    func outputError(a: VectorMath.V, y: VectorMath.V, operand: VectorMath.V, activation: Activation) -> VectorMath.V {
        let error = a - y
        return self == .meanSquaredError ? activation.derivativeProduct(error, operand: operand) : error
    }

    /// The cost C of one sample.
    func sampleCost(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>, width: Int, activation: Activation
    ) -> Double {
        switch self {
        case .crossEntropy:
            return activation == .softmax
                ? Self.softmaxCrossEntropy(z: z, y: y, width: width)
                : Self.sigmoidCrossEntropy(z: z, y: y, width: width)
        case .meanSquaredError:
            var cost: Double = 0
            for j in 0 ..< width {
                let g = Double(a[j]) - Double(y[j])
                cost += g * g
            }
            return cost / 2
        }
    }

    /// −Σ y_j ln softmax(z)_j with ln softmax(z)_j = z_j − max − ln Σ_k e^(z_k − max).
    private static func softmaxCrossEntropy(z: UnsafePointer<Float>, y: UnsafePointer<Float>, width: Int) -> Double {
        var maximum = z[0]
        for j in 1 ..< max(width, 1) { maximum = max(maximum, z[j]) }
        var sum: Double = 0
        for j in 0 ..< width { sum += Double(expf(z[j] - maximum)) }
        let logSum = Double(maximum) + log(sum)
        var cost: Double = 0
        for j in 0 ..< width where y[j] != 0 { cost -= Double(y[j]) * (Double(z[j]) - logSum) }
        return cost
    }

    /// Binary cross-entropy from the logits: max(z, 0) − z·y + ln(1 + e^−|z|) per unit.
    private static func sigmoidCrossEntropy(z: UnsafePointer<Float>, y: UnsafePointer<Float>, width: Int) -> Double {
        var cost: Double = 0
        for j in 0 ..< width {
            let zj = Double(z[j])
            cost += max(zj, 0) - zj * Double(y[j]) + log1p(exp(-abs(zj)))
        }
        return cost
    }

    /// g ← J^T g for softmax's Jacobian J = diag(a) − a a^T: g_j ← a_j (g_j − Σ_k a_k g_k).
    private static func softmaxJacobianProduct(_ g: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, width: Int) {
        var dot: Float = 0
        for k in 0 ..< width { dot += a[k] * g[k] }
        for j in 0 ..< width { g[j] = a[j] * (g[j] - dot) }
    }
}
