import Foundation
import BackpropCore

/// An independent float64 implementation of the seed's equations, one sample at a time
/// and without any of the library's kernels, to check the library against. Its own
/// gradients are checked by central finite differences in GradientTests.
struct ReferenceNetwork {
    let sizes: [Int]
    let activations: [Activation]
    let loss: Loss
    let huberDelta: Double
    var parameters: [Double]
    /// Dropout masks m^l (0 or 1/(1 − p)) by sample, then hidden layer, then unit; empty
    /// without dropout. Each sample's hidden outputs are multiplied by its masks.
    var masks: [[[Double]]] = []

    init(_ network: Network) {
        sizes = network.layerSizes
        activations = network.activations
        loss = network.loss
        huberDelta = network.trainingOptions.huberDelta
        parameters = network.parameterArray().map(Double.init)
    }

    /// (offset of W^l, offset of b^l) in the flat layout, l = 1…L.
    var offsets: [(weights: Int, biases: Int)] {
        var result: [(Int, Int)] = []
        var offset = 0
        for l in 1 ..< sizes.count {
            result.append((offset, offset + sizes[l] * sizes[l - 1]))
            offset += sizes[l] * sizes[l - 1] + sizes[l]
        }
        return result
    }

    func sigma(_ activation: Activation, _ z: [Double]) -> [Double] {
        switch activation {
        case .sigmoid: return z.map { 1 / (1 + exp(-$0)) }
        case .tanh: return z.map { Foundation.tanh($0) }
        case .relu: return z.map { max($0, 0) }
        case .leakyRelu: return z.map { $0 > 0 ? $0 : 0.01 * $0 }
        case .linear: return z
        case .gelu: return z.map { $0 * Self.normalCDF($0) }
        case .silu: return z.map { $0 / (1 + exp(-$0)) }
        case .softplus: return z.map { max($0, 0) + log1p(exp(-abs($0))) }
        case .elu: return z.map { $0 > 0 ? $0 : expm1($0) }
        case .softmax:
            let m = z.max()!
            let e = z.map { exp($0 - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
    }

    /// σ'(z) for elementwise activations.
    func sigmaPrime(_ activation: Activation, _ z: [Double]) -> [Double] {
        switch activation {
        case .sigmoid: return sigma(.sigmoid, z).map { $0 * (1 - $0) }
        case .tanh: return z.map { 1 - Foundation.tanh($0) * Foundation.tanh($0) }
        case .relu: return z.map { $0 > 0 ? 1 : 0 }
        case .leakyRelu: return z.map { $0 > 0 ? 1 : 0.01 }
        case .linear: return z.map { _ in 1 }
        case .gelu: return z.map { Self.normalCDF($0) + $0 * exp(-$0 * $0 / 2) / (2 * Double.pi).squareRoot() }
        case .silu: return z.map { let s = 1 / (1 + exp(-$0)); return s * (1 + $0 * (1 - s)) }
        case .softplus: return z.map { 1 / (1 + exp(-$0)) }
        case .elu: return z.map { $0 > 0 ? 1 : exp($0) }
        case .softmax: fatalError("softmax has no elementwise derivative")
        }
    }

    /// z^l and a^l for l = 0…L (z^0 unused, a^0 = x).
    /// Φ(z) = ½ erfc(−z/√2), from libm.
    static func normalCDF(_ z: Double) -> Double { erfc(-z / 2.0.squareRoot()) / 2 }

    func forward(_ x: [Double], sample: Int = 0) -> (z: [[Double]], a: [[Double]]) {
        var zs: [[Double]] = [[]]
        var activationsOut: [[Double]] = [x]
        for (index, offset) in offsets.enumerated() {
            let l = index + 1
            let below = activationsOut[l - 1]
            var z = [Double](repeating: 0, count: sizes[l])
            for j in 0 ..< sizes[l] {
                var sum = parameters[offset.biases + j]
                for k in 0 ..< sizes[l - 1] { sum += parameters[offset.weights + j * sizes[l - 1] + k] * below[k] }
                z[j] = sum
            }
            zs.append(z)
            let a = sigma(activations[index], z)
            activationsOut.append(masks.isEmpty || l == sizes.count - 1 ? a : zip(a, masks[sample][index]).map { $0 * $1 })
        }
        return (zs, activationsOut)
    }

    func cost(_ x: [Double], _ y: [Double], sample: Int = 0) -> Double {
        let a = forward(x, sample: sample).a.last!
        switch loss {
        case .meanSquaredError:
            return zip(a, y).map { 0.5 * ($0 - $1) * ($0 - $1) }.reduce(0, +)
        case .crossEntropy where activations.last == .softmax:
            return -zip(a, y).map { $1 * log($0) }.reduce(0, +)
        case .crossEntropy:
            return -zip(a, y).map { $1 * log($0) + (1 - $1) * log(1 - $0) }.reduce(0, +)
        case .huber:
            let d = huberDelta
            return zip(a, y).map { let r = abs($0 - $1); return r <= d ? r * r / 2 : d * (r - d / 2) }.reduce(0, +)
        case .l1:
            return zip(a, y).map { abs($0 - $1) }.reduce(0, +)
        }
    }

    func meanCost(_ xs: [[Double]], _ ys: [[Double]]) -> Double {
        xs.indices.map { cost(xs[$0], ys[$0], sample: $0) }.reduce(0, +) / Double(xs.count)
    }

    /// ∂C/∂parameters averaged over the batch, by backpropagation, one sample at a time.
    func gradients(_ xs: [[Double]], _ ys: [[Double]]) -> [Double] {
        var total = [Double](repeating: 0, count: parameters.count)
        let layout = offsets
        let L = sizes.count - 1
        for (sample, (x, y)) in zip(xs, ys).enumerated() {
            let (z, a) = forward(x, sample: sample)
            // δ^L = C'(a^L) ⊙ σ'(z^L): derived from C and σ directly, not from the fused form.
            var delta = outputDelta(z: z[L], a: a[L], y: y)
            for l in stride(from: L, through: 1, by: -1) {
                let offset = layout[l - 1]
                for j in 0 ..< sizes[l] {
                    total[offset.biases + j] += delta[j]
                    for k in 0 ..< sizes[l - 1] { total[offset.weights + j * sizes[l - 1] + k] += delta[j] * a[l - 1][k] }
                }
                guard l > 1 else { break }
                // δ^(l-1) = ((W^l)^T δ^l) ⊙ σ'(z^(l-1))
                let derivative = sigmaPrime(activations[l - 2], z[l - 1])
                var below = [Double](repeating: 0, count: sizes[l - 1])
                for k in 0 ..< sizes[l - 1] {
                    var sum = 0.0
                    for j in 0 ..< sizes[l] { sum += parameters[offset.weights + j * sizes[l - 1] + k] * delta[j] }
                    below[k] = sum * derivative[k] * (masks.isEmpty ? 1 : masks[sample][l - 2][k])
                }
                delta = below
            }
        }
        return total.map { $0 / Double(xs.count) }
    }

    /// C'(a^L) through σ'(z^L), with the full softmax Jacobian where the output is softmax.
    private func outputDelta(z: [Double], a: [Double], y: [Double]) -> [Double] {
        let costDerivative: [Double]
        switch loss {
        case .meanSquaredError:
            costDerivative = zip(a, y).map { $0 - $1 }
        case .crossEntropy where activations.last == .softmax:
            costDerivative = zip(a, y).map { -$1 / $0 }
        case .crossEntropy:
            costDerivative = zip(a, y).map { -$1 / $0 + (1 - $1) / (1 - $0) }
        case .huber:
            costDerivative = zip(a, y).map { min(max($0 - $1, -huberDelta), huberDelta) }
        case .l1:
            costDerivative = zip(a, y).map { $0 > $1 ? 1 : $0 < $1 ? -1 : 0 }
        }
        guard activations.last == .softmax else {
            return zip(costDerivative, sigmaPrime(activations.last!, z)).map { $0 * $1 }
        }
        // (J^T g)_j = Σ_i (∂a_i/∂z_j) g_i with ∂a_i/∂z_j = a_i (1[i=j] − a_j)
        var delta = [Double](repeating: 0, count: a.count)
        for j in 0 ..< a.count {
            for i in 0 ..< a.count {
                let kronecker: Double = i == j ? 1 : 0
                delta[j] += a[i] * (kronecker - a[j]) * costDerivative[i]
            }
        }
        return delta
    }

    /// Central differences of the mean cost, for checking `gradients`.
    func numericalGradients(_ xs: [[Double]], _ ys: [[Double]], step h: Double = 1e-6) -> [Double] {
        var probe = self
        return (0 ..< parameters.count).map { i in
            let saved = probe.parameters[i]
            probe.parameters[i] = saved + h
            let plus = probe.meanCost(xs, ys)
            probe.parameters[i] = saved - h
            let minus = probe.meanCost(xs, ys)
            probe.parameters[i] = saved
            return (plus - minus) / (2 * h)
        }
    }
}

/// max_i |a_i − b_i| / max(‖b‖∞, 1e-12): an error relative to the gradient's scale, so
/// that entries that are (nearly) zero do not dominate.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    let scale = max(b.map(abs).max() ?? 0, 1e-12)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}
