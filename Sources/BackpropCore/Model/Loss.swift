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
    /// C = Σ_j h(a_j − y_j), h(r) = ½ r² for |r| ≤ δ and δ (|r| − ½ δ) beyond, so
    /// C'(a^L) = clamp(a^L − y, −δ, δ); δ is the huber-delta option (1 by default).
    case huber = 2
    /// C = Σ_j |a_j − y_j|, so C'(a^L) = sign(a^L − y) (0 where they are equal).
    case l1 = 3

    public static let kind = "loss"
    public static let constantPrefix = "BP_LOSS_"

    public var name: String {
        switch self {
        case .meanSquaredError: return "mse"
        case .crossEntropy: return "cross-entropy"
        case .huber: return "huber"
        case .l1: return "l1"
        }
    }

    /// Whether this loss can follow an output layer with `activation`. Cross-entropy is
    /// defined on probabilities, and its fused δ^L = a^L − y holds only for softmax and
    /// sigmoid.
    func supports(output activation: Activation) -> Bool {
        self != .crossEntropy || activation == .softmax || activation == .sigmoid
    }

    /// δ^L = C'(a^L) ⊙ σ'(z^L) for `rows` samples of `width` outputs; returns the mean
    /// cost. Cross-entropy is evaluated from z^L in log-sum-exp / softplus form, so no
    /// logarithm ever sees 0. `huberDelta` is the Huber loss's δ (the others ignore it).
    /// With `weights`, the cost is their weighted mean and each row of δ^L is scaled so
    /// that the batch-mean gradient becomes the weighted mean (see `SampleWeights`).
    func outputDelta(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>,
        rows: Int, width: Int, activation: Activation, huberDelta: Float, weights: SampleWeights? = nil,
        delta: UnsafeMutablePointer<Float>
    ) -> Float {
        var total: Double = 0
        for row in 0 ..< rows {
            let offset = row * width
            let cost = sampleDelta(
                z: z + offset, a: a + offset, y: y + offset, width: width,
                activation: activation, huberDelta: huberDelta, delta: delta + offset)
            guard let weights else {
                total += cost
                continue
            }
            let weight = weights.values[row]
            if weight == 0 {  // no part at all, whatever its cost
                (delta + offset).update(repeating: 0, count: width)
                continue
            }
            total += Double(weight) * cost
            let factor = weights.factor(row, rows: rows)
            for j in 0 ..< width { delta[offset + j] *= factor }
        }
        return Float(total / (weights?.sum ?? Double(rows)))
    }

    /// Σ_x w_x C_x over `rows` samples of weights `weights` (those of weight 0 skipped),
    /// without gradients (for a weighted evaluation).
    func weightedCost(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        rows: Int, width: Int, activation: Activation, huberDelta: Float
    ) -> Double {
        var total: Double = 0
        for row in 0 ..< rows where weights[row] != 0 {
            let offset = row * width
            total += Double(weights[row]) * sampleCost(z: z + offset, a: a + offset, y: y + offset, width: width,
                                                       activation: activation, huberDelta: huberDelta)
        }
        return total
    }

    /// The mean cost of `rows` samples, without gradients (for evaluation).
    func meanCost(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>,
        rows: Int, width: Int, activation: Activation, huberDelta: Float
    ) -> Double {
        var total: Double = 0
        for row in 0 ..< rows {
            let offset = row * width
            total += sampleCost(z: z + offset, a: a + offset, y: y + offset, width: width, activation: activation,
                                huberDelta: huberDelta)
        }
        return total / Double(rows)
    }

    private func sampleDelta(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>,
        width: Int, activation: Activation, huberDelta: Float, delta: UnsafeMutablePointer<Float>
    ) -> Double {
        let bound = VectorMath.V(repeating: huberDelta)
        if self != .crossEntropy && !activation.isElementwise {
            // C'(a^L) (a linear layer's δ^L), then through softmax's Jacobian.
            VectorMath.map(a, y, a, into: delta, count: width) {
                outputError(a: $0, y: $1, operand: $2, activation: .linear, huberDelta: bound)
            }
            Self.softmaxJacobianProduct(delta, a: a, width: width)
        } else {
            let operand = activation.derivativeReads == .output ? a : z
            VectorMath.map(a, y, operand, into: delta, count: width) {
                outputError(a: $0, y: $1, operand: $2, activation: activation, huberDelta: bound)
            }
        }
        return sampleCost(z: z, a: a, y: y, width: width, activation: activation, huberDelta: huberDelta)
    }

    /// δ^L = C'(a^L) ⊙ σ'(z^L) for sixteen outputs of an elementwise output layer, from
    /// a^L, y and what σ' reads (`Activation.derivativeReads`): C'(a^L) ⊙ σ'(z^L) with
    /// C'(a^L) = a^L − y for the mean squared error, its clamp to ±δ for Huber and its sign
    /// for L1; for cross-entropy the fused a^L − y. The batch path and the tiny network's
    /// step both compute δ^L here.
    @inline(__always)
    func outputError(
        a: VectorMath.V, y: VectorMath.V, operand: VectorMath.V, activation: Activation, huberDelta: VectorMath.V
    ) -> VectorMath.V {
        let error = a - y
        switch self {
        case .crossEntropy: return error
        case .meanSquaredError: return activation.derivativeProduct(error, operand: operand)
        case .huber, .l1: return activation.derivativeProduct(robustDerivative(error, huberDelta), operand: operand)
        }
    }

    /// C'(a^L) of Huber (clamp(r, −δ, δ)) and L1 (sign r) from r = a^L − y; not inlined,
    /// so that the tiny network's step keeps its inlined mean squared error short.
    @inline(never)
    private func robustDerivative(_ r: VectorMath.V, _ bound: VectorMath.V) -> VectorMath.V {
        if self == .huber {
            return r.replacing(with: bound, where: r .> bound).replacing(with: -bound, where: r .< -bound)
        }
        let one = VectorMath.V(repeating: 1)
        return VectorMath.V(repeating: 0).replacing(with: one, where: r .> 0).replacing(with: -one, where: r .< 0)
    }

    /// The cost C of one sample.
    func sampleCost(
        z: UnsafePointer<Float>, a: UnsafePointer<Float>, y: UnsafePointer<Float>, width: Int, activation: Activation,
        huberDelta: Float
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
        case .huber:
            let bound = Double(huberDelta)
            var cost: Double = 0
            for j in 0 ..< width {
                let r = abs(Double(a[j]) - Double(y[j]))
                cost += r <= bound ? r * r / 2 : bound * (r - bound / 2)
            }
            return cost
        case .l1:
            var cost: Double = 0
            for j in 0 ..< width { cost += abs(Double(a[j]) - Double(y[j])) }
            return cost
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
