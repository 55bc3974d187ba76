#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How `update` turns the gradients g = ∂C/∂θ of the last `backward` into a step. Plain
/// SGD is the seed's rule and the default; the others are the published rules, written
/// in PyTorch's conventions so results can be compared with it.
public enum Optimizer: Sendable, Equatable, CaseIterable {
    /// θ ← θ − η g
    case sgd
    /// v ← μ v + g, θ ← θ − η v
    case momentum
    /// v ← μ v + g, θ ← θ − η (g + μ v)
    case nesterov
    /// Kingma & Ba: m ← β₁ m + (1−β₁) g, v ← β₂ v + (1−β₂) g², θ ← θ − η m̂ / (√v̂ + ε)
    case adam
    /// Loshchilov & Hutter: Adam with decoupled weight decay θ ← θ − η λ θ
    case adamW
    /// iRprop⁻ (Igel & Hüsken), FANN's default: per-parameter step sizes Δ grow by η⁺ while
    /// the gradient keeps its sign and shrink by η⁻ when it flips; the learning rate is unused.
    case rprop
}

/// The optimizer and its hyperparameters. Every field has the default shown and is
/// checked by `Network.setTrainingOptions`.
public struct TrainingOptions: Sendable, Equatable {
    public var optimizer = Optimizer.sgd
    /// μ for momentum and Nesterov, in [0, 1).
    public var momentum = 0.9
    /// Adam's β₁ and β₂, in [0, 1).
    public var beta1 = 0.9
    public var beta2 = 0.999
    /// Adam's ε, > 0.
    public var epsilon = 1e-8
    /// λ ≥ 0: L2 regularisation (g ← g + λ θ) for every optimizer but AdamW, where the decay
    /// is decoupled. Applies to all parameters, biases included, as PyTorch's weight_decay.
    public var weightDecay = 0.0
    /// The largest L2 norm of the whole gradient; larger gradients are scaled down to it
    /// before weight decay is added. 0 turns clipping off.
    public var clipNorm = 0.0
    /// RPROP's η⁺ > 1, η⁻ in (0, 1), and Δ bounds 0 < Δmin ≤ Δ₀ ≤ Δmax.
    public var rpropIncrease = 1.2
    public var rpropDecrease = 0.5
    public var rpropMinStep = 1e-6
    public var rpropMaxStep = 50.0
    public var rpropInitialStep = 0.1

    public init() {}

    /// θ ← θ − η g as it stands: no momentum, clipping or weight decay.
    var isPlainSGD: Bool { optimizer == .sgd && clipNorm == 0 && weightDecay == 0 }

    /// Ranges are checked on the float32 values the update uses: β = 0.99999999 is below 1
    /// as a double but rounds to 1 as a float, which would make Adam divide by zero.
    func validate() throws(BackpropError) {
        try Self.check(momentum, "momentum", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try Self.check(beta1, "beta1", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try Self.check(beta2, "beta2", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try Self.check(epsilon, "epsilon", "> 0 as a float (at least 1.4e-45)") { $0 > 0 }
        try Self.check(weightDecay, "weight decay", "≥ 0") { $0 >= 0 }
        try Self.check(clipNorm, "clip norm", "≥ 0 (0 turns clipping off)") { $0 >= 0 }
        try Self.check(rpropIncrease, "RPROP increase factor", "> 1") { $0 > 1 }
        try Self.check(rpropDecrease, "RPROP decrease factor", "in (0, 1)") { $0 > 0 && $0 < 1 }
        try Self.check(rpropMinStep, "RPROP minimum step", "> 0") { $0 > 0 }
        try Self.check(rpropMaxStep, "RPROP maximum step", "≥ the minimum step") { $0 >= Float(rpropMinStep) }
        try Self.check(rpropInitialStep, "RPROP initial step", "between the minimum and maximum steps") {
            $0 >= Float(rpropMinStep) && $0 <= Float(rpropMaxStep)
        }
    }

    private static func check(
        _ value: Double, _ name: String, _ expected: String, _ isValid: (Float) -> Bool
    ) throws(BackpropError) {
        guard Float(value).isFinite else {
            throw BackpropError(.nonFinite, "\(name) is \(value); it must be finite as a float")
        }
        guard isValid(Float(value)) else { throw BackpropError(.invalidArgument, "\(name) is \(value); it must be \(expected)") }
    }
}

/// The per-parameter memory an optimizer keeps between steps, in the flat parameter
/// layout: momentum's v; Adam's m and v; RPROP's previous gradient and step sizes Δ.
/// A step writes its new state into a second set of arrays, adopted by `commit` only
/// when the step is accepted, so a refused step leaves the optimizer as it was.
final class OptimizerState {
    let count: Int
    /// The current state arrays (empty for SGD).
    private(set) var arrays: [UnsafeMutablePointer<Float>]
    private var nextArrays: [UnsafeMutablePointer<Float>]
    /// Adam's t, the number of steps taken.
    var step = 0

    /// Zeroed state for `optimizer` (RPROP's Δ start at Δ₀).
    init(for options: TrainingOptions, count: Int) throws(BackpropError) {
        self.count = count
        let arrayCount = Self.arrayCount(of: options.optimizer)
        try Memory.checkBudget(floats: 2 * arrayCount * count, for: "the optimizer's state")
        var buffers: [UnsafeMutablePointer<Float>] = []
        for _ in 0 ..< 2 * arrayCount {
            do throws(BackpropError) {
                buffers.append(try Memory.allocateFloats(count, for: "the optimizer's state"))
            } catch {
                buffers.forEach(Memory.free)
                throw error
            }
        }
        arrays = Array(buffers[0 ..< arrayCount])
        nextArrays = Array(buffers[arrayCount...])
        let initialStep = options.optimizer == .rprop ? Float(options.rpropInitialStep) : 0
        for (index, array) in arrays.enumerated() { array.initialize(repeating: index == 1 ? initialStep : 0, count: count) }
    }

    /// How many state arrays `optimizer` keeps (the model format records it).
    static func arrayCount(of optimizer: Optimizer) -> Int {
        switch optimizer {
        case .sgd: return 0
        case .momentum, .nesterov: return 1
        case .adam, .adamW, .rprop: return 2
        }
    }

    deinit {
        arrays.forEach(Memory.free)
        nextArrays.forEach(Memory.free)
    }

    /// Whether the state could have come from training with `options`: finite, Adam's
    /// second moments ≥ 0, RPROP's steps > 0 (not bounded by Δmax, which may have been
    /// lowered since). Checked on loading.
    func isPlausible(for options: TrainingOptions) -> Bool {
        guard arrays.allSatisfy({ VectorKernels.allFinite($0, count: count) }) else { return false }
        switch options.optimizer {
        case .adam, .adamW:
            return (0 ..< count).allSatisfy { arrays[1][$0] >= 0 }
        case .rprop:
            return (0 ..< count).allSatisfy { arrays[1][$0] > 0 }
        case .sgd, .momentum, .nesterov:
            return true
        }
    }

    /// t + 1, staying at Int.max: a model file may carry any step count, and past 2^53
    /// steps the bias corrections are exactly 1 anyway.
    private static func saturatingSuccessor(of step: Int) -> Int {
        step == Int.max ? step : step + 1
    }

    /// Adopts the state written by the last `apply`.
    func commit(_ options: TrainingOptions) {
        swap(&arrays, &nextArrays)
        if options.optimizer == .adam || options.optimizer == .adamW { step = Self.saturatingSuccessor(of: step) }
    }

    /// One step on `count` parameters θ with gradients g, written to `next` (and the new
    /// state to the spare arrays) so that the caller can refuse a result that overflowed
    /// and keep everything as it was; `commit` adopts the state. Returns whether every
    /// new parameter is finite (plain SGD finds out in the same pass). Large steps are
    /// split into contiguous ranges, one part per thread of `pool`: the step is
    /// elementwise, so the result does not depend on the split.
    ///
    /// `range` limits the step to some of the parameters (all when nil). It is meant for
    /// plain SGD, whose step on one parameter reads nothing else; clipping needs the norm
    /// of the whole gradient, and the other optimizers' state is committed as a whole.
    func apply(
        _ options: TrainingOptions, learningRate eta: Float,
        parameters theta: UnsafePointer<Float>, gradients g: UnsafePointer<Float>, into next: UnsafeMutablePointer<Float>,
        range: Range<Int>? = nil, pool: ThreadPool? = nil
    ) -> Bool {
        let range = range ?? 0 ..< count
        let parts = pool?.threadCount ?? 1
        let splits = parts > 1 && range.count >= Self.minimumParallelCount
        if options.isPlainSGD && !splits {  // the seed's rule and the default, without the general step's setup
            let start = range.lowerBound
            return VectorKernels.subtractScaled(g + start, scale: eta, from: theta + start, into: next + start,
                                                count: range.count)
        }
        let step = Step(options: options, eta: eta, clip: clipScale(options, gradients: g), theta: theta, g: g, next: next)
        guard let pool, splits else { return apply(step, range: range) }
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: parts) { finite in
            guard let flags = finite.baseAddress else { return apply(step, range: range) }
            var job = Ranges(state: self, step: step, range: range,
                             chunk: GEMM.roundUp((range.count + parts - 1) / parts, to: 16), finite: flags)
            withUnsafePointer(to: &job) { job in
                pool.run(context: job) { context, part in
                    context.assumingMemoryBound(to: Ranges.self).pointee.apply(part: part)
                }
            }
            return UnsafeBufferPointer(start: flags, count: parts).allSatisfy { $0 }
        }
    }

    /// Steps on fewer parameters than this stay on one thread.
    static let minimumParallelCount = 1 << 16

    /// What every element of one step needs.
    private struct Step {
        let options: TrainingOptions
        let eta: Float, clip: Float
        let theta: UnsafePointer<Float>, g: UnsafePointer<Float>, next: UnsafeMutablePointer<Float>
    }

    /// One step on `range` split into ranges of `chunk` parameters, one per part, each
    /// reporting into its own flag.
    private struct Ranges {
        let state: OptimizerState
        let step: Step
        let range: Range<Int>
        let chunk: Int
        let finite: UnsafeMutablePointer<Bool>

        func apply(part: Int) {
            let start = range.lowerBound + min(part * chunk, range.count)
            finite[part] = state.apply(step, range: start ..< min(start + chunk, range.upperBound))
        }
    }

    /// The step on the parameters in `range`; whether their new values are finite.
    private func apply(_ step: Step, range: Range<Int>) -> Bool {
        let lambda = Float(step.options.weightDecay)
        let l2: Float = step.options.optimizer == .adamW ? 0 : lambda
        let (start, length) = (range.lowerBound, range.count)
        if step.options.optimizer == .sgd && step.clip == 1 && l2 == 0 {
            return VectorKernels.subtractScaled(step.g + start, scale: step.eta, from: step.theta + start,
                                                into: step.next + start, count: length)
        }
        update(step.options, learningRate: step.eta, clip: step.clip, lambda: lambda, l2: l2, parameters: step.theta,
               gradients: step.g, into: step.next, range: range)
        return VectorKernels.allFinite(step.next + start, count: length)
    }

    /// Every optimizer but plain SGD, element by element.
    private func update(
        _ options: TrainingOptions, learningRate eta: Float, clip: Float, lambda: Float, l2: Float,
        parameters theta: UnsafePointer<Float>, gradients g: UnsafePointer<Float>, into next: UnsafeMutablePointer<Float>,
        range: Range<Int>
    ) {
        switch options.optimizer {
        case .sgd:
            for i in range { next[i] = theta[i] - eta * (clip * g[i] + l2 * theta[i]) }
        case .momentum, .nesterov:
            let (v, vNext) = (arrays[0], nextArrays[0])
            let mu = Float(options.momentum)
            let nesterov = options.optimizer == .nesterov
            for i in range {
                let gi = clip * g[i] + l2 * theta[i]
                vNext[i] = mu * v[i] + gi
                next[i] = theta[i] - eta * (nesterov ? gi + mu * vNext[i] : vNext[i])
            }
        case .adam, .adamW:
            let (m, v, mNext, vNext) = (arrays[0], arrays[1], nextArrays[0], nextArrays[1])
            let step = Self.saturatingSuccessor(of: self.step)
            let beta1 = Float(options.beta1), beta2 = Float(options.beta2), epsilon = Float(options.epsilon)
            let correction1 = Float(1 - pow(Double(beta1), Double(step)))
            let correction2 = Float(1 - pow(Double(beta2), Double(step)))
            let decay = options.optimizer == .adamW ? 1 - eta * lambda : 1
            for i in range {
                let gi = clip * g[i] + l2 * theta[i]
                mNext[i] = beta1 * m[i] + (1 - beta1) * gi
                vNext[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                let mHat = mNext[i] / correction1
                let vHat = vNext[i] / correction2
                next[i] = decay * theta[i] - eta * mHat / (vHat.squareRoot() + epsilon)
            }
        case .rprop:
            let (previous, delta) = (arrays[0], arrays[1])
            let (previousNext, deltaNext) = (nextArrays[0], nextArrays[1])
            let increase = Float(options.rpropIncrease), decrease = Float(options.rpropDecrease)
            let minStep = Float(options.rpropMinStep), maxStep = Float(options.rpropMaxStep)
            for i in range {
                var gi = clip * g[i] + l2 * theta[i]
                let agreement = gi * previous[i]
                var step = delta[i]
                if agreement > 0 {
                    step = min(step * increase, maxStep)
                } else if agreement < 0 {
                    step = max(step * decrease, minStep)
                    gi = 0
                }
                deltaNext[i] = step
                next[i] = theta[i] - (gi > 0 ? step : gi < 0 ? -step : 0)
                previousNext[i] = gi
            }
        }
    }

    /// min(1, c / ‖g‖₂) when clipping is on.
    private func clipScale(_ options: TrainingOptions, gradients g: UnsafePointer<Float>) -> Float {
        guard options.clipNorm > 0 else { return 1 }
        var sum: Double = 0
        for i in 0 ..< count { sum += Double(g[i]) * Double(g[i]) }
        let norm = sum.squareRoot()
        return norm > options.clipNorm ? Float(options.clipNorm / norm) : 1
    }
}

extension TrainingOptions {
    /// The numeric hyperparameters, addressable by name (the C API's option keys and the
    /// model format map onto these).
    public enum Hyperparameter: Sendable, CaseIterable {
        case momentum, beta1, beta2, epsilon, weightDecay, clipNorm
        case rpropIncrease, rpropDecrease, rpropMinStep, rpropMaxStep, rpropInitialStep
    }

    public subscript(_ hyperparameter: Hyperparameter) -> Double {
        get {
            switch hyperparameter {
            case .momentum: return momentum
            case .beta1: return beta1
            case .beta2: return beta2
            case .epsilon: return epsilon
            case .weightDecay: return weightDecay
            case .clipNorm: return clipNorm
            case .rpropIncrease: return rpropIncrease
            case .rpropDecrease: return rpropDecrease
            case .rpropMinStep: return rpropMinStep
            case .rpropMaxStep: return rpropMaxStep
            case .rpropInitialStep: return rpropInitialStep
            }
        }
        set {
            switch hyperparameter {
            case .momentum: momentum = newValue
            case .beta1: beta1 = newValue
            case .beta2: beta2 = newValue
            case .epsilon: epsilon = newValue
            case .weightDecay: weightDecay = newValue
            case .clipNorm: clipNorm = newValue
            case .rpropIncrease: rpropIncrease = newValue
            case .rpropDecrease: rpropDecrease = newValue
            case .rpropMinStep: rpropMinStep = newValue
            case .rpropMaxStep: rpropMaxStep = newValue
            case .rpropInitialStep: rpropInitialStep = newValue
            }
        }
    }
}
