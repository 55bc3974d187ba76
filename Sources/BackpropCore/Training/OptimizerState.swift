#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CFloatingPoint

/// The per-parameter memory an optimizer keeps between steps, in the flat parameter
/// layout: one array per slot of `Optimizer.properties` (momentum's v; Adam's m and v;
/// RPROP's previous gradient and step sizes Δ).
/// A step writes its new state into a second set of arrays, adopted by `commit` only
/// when the step is accepted, so a refused step leaves the optimizer as it was.
final class OptimizerState {
    let count: Int
    /// The slots, in `Optimizer.properties` order, and their current arrays (none for SGD).
    let slots: [Optimizer.StateSlot]
    private(set) var arrays: [UnsafeMutablePointer<Float>]
    private var nextArrays: [UnsafeMutablePointer<Float>]
    /// The number of steps taken, for optimizers that count them (Adam's t).
    var step = 0
    /// `Optimizer.properties` facts read on every step, kept here so that no step copies
    /// the properties (and retains their arrays).
    let countsSteps: Bool, stepsBySign: Bool

    /// The state of `options.optimizer` before its first step (each slot at its initial value).
    init(for options: TrainingOptions, count: Int) throws(BackpropError) {
        self.count = count
        let properties = options.optimizer.properties
        slots = properties.stateSlots
        countsSteps = properties.countsSteps
        stepsBySign = properties.stepsBySign
        let arrayCount = slots.count
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
        for (slot, array) in zip(slots, arrays) { array.initialize(repeating: slot.initialValue(options), count: count) }
    }

    /// The current array of `slot`, and the one the next step writes it into.
    private func slotArrays(_ slot: Optimizer.StateSlot) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        let index = slots.firstIndex(of: slot) ?? 0
        return (arrays[index], nextArrays[index])
    }

    deinit {
        arrays.forEach(Memory.free)
        nextArrays.forEach(Memory.free)
    }

    /// Whether the state could have come from training: finite, and each value one its
    /// slot admits (`Optimizer.StateSlot.admits`). Checked on loading.
    func isPlausible() -> Bool {
        guard arrays.allSatisfy({ VectorKernels.allFinite($0, count: count) }) else { return false }
        return zip(slots, arrays).allSatisfy { slot, array in (0 ..< count).allSatisfy { slot.admits(array[$0]) } }
    }

    /// t + 1, staying at Int.max: a model file may carry any step count, and past 2^53
    /// steps the bias corrections are exactly 1 anyway.
    private static func saturatingSuccessor(of step: Int) -> Int {
        step == Int.max ? step : step + 1
    }

    /// Adopts the state written by the last `apply`.
    func commit() {
        swap(&arrays, &nextArrays)
        if countsSteps { step = Self.saturatingSuccessor(of: step) }
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
            pool.run(Ranges(state: self, step: step, start: range.lowerBound,
                            ranges: Bands(count: range.count, parts: parts, granularity: 16), finite: flags))
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

    /// One step on the parameters from `start` on, split into `ranges` (whole vectors of
    /// sixteen), one per part, each reporting into its own flag.
    private struct Ranges: ParallelJob {
        let state: OptimizerState
        let step: Step
        let start: Int
        let ranges: Bands
        let finite: UnsafeMutablePointer<Bool>

        func run(part: Int) {
            let range = ranges.range(part: part)
            finite[part] = state.apply(step, range: start + range.lowerBound ..< start + range.upperBound)
        }
    }

    /// The step on the parameters in `range`; whether their new values are finite.
    private func apply(_ step: Step, range: Range<Int>) -> Bool {
        let lambda = Float(step.options.weightDecay)
        let l2: Float = step.options.optimizer == .adamW ? 0 : lambda
        let (start, length) = (range.lowerBound, range.count)
        if step.options.isPlainSGD(clipScale: step.clip) {
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
            let (v, vNext) = slotArrays(.velocity)
            let mu = Float(options.momentum)
            let nesterov = options.optimizer == .nesterov
            for i in range {
                let gi = clip * g[i] + l2 * theta[i]
                vNext[i] = mu * v[i] + gi
                next[i] = theta[i] - eta * (nesterov ? gi + mu * vNext[i] : vNext[i])
            }
        case .adam, .adamW:
            let ((m, mNext), (v, vNext)) = (slotArrays(.firstMoment), slotArrays(.secondMoment))
            let step = Self.saturatingSuccessor(of: self.step)
            let beta1 = Float(options.beta1), beta2 = Float(options.beta2), epsilon = Float(options.epsilon)
            let correction1 = Float(1 - pow(Double(beta1), Double(step)))
            let correction2 = Float(1 - pow(Double(beta2), Double(step)))
            let decay = options.optimizer == .adamW ? 1 - eta * lambda : 1
            let adam = AdamStep(clip: clip, l2: l2, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                correction1: correction1, correction2: correction2, decay: decay, eta: eta)
            adam.apply(range, theta: theta, g: g, m: m, v: v, into: next, mNext: mNext, vNext: vNext)
        case .rprop:
            let ((previous, previousNext), (delta, deltaNext)) = (slotArrays(.previousGradient), slotArrays(.stepSize))
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

/// Adam's step on 16 parameters at a time by the C module's `bp_adam16` (the last ones
/// through a padded copy): the scalar rule's operations in its order, lane by lane, so the
/// result is the same to the bit. The compiler cannot vectorize the scalar loop (its
/// outputs may alias its inputs for all it knows), and Swift's SIMD square root goes lane
/// by lane; with three divisions and a square root per parameter, the scalar update was a
/// third of a 100-256-128-5 network's Adam step.
private struct AdamStep {
    static let lanes = 16
    /// clip, λ, β1, β2, c1, c2, decay, η and ε, as `bp_adam16` reads them: a tuple, laid
    /// out as the floats of a C array, so that a step allocates nothing.
    let constants: (Float, Float, Float, Float, Float, Float, Float, Float, Float)

    init(clip: Float, l2: Float, beta1: Float, beta2: Float, epsilon: Float, correction1: Float, correction2: Float,
         decay: Float, eta: Float) {
        constants = (clip, l2, beta1, beta2, correction1, correction2, decay, eta, epsilon)
    }

    func apply(
        _ range: Range<Int>, theta: UnsafePointer<Float>, g: UnsafePointer<Float>, m: UnsafePointer<Float>,
        v: UnsafePointer<Float>, into next: UnsafeMutablePointer<Float>, mNext: UnsafeMutablePointer<Float>,
        vNext: UnsafeMutablePointer<Float>
    ) {
        withUnsafePointer(to: constants) { tuple in
            let k = UnsafeRawPointer(tuple).assumingMemoryBound(to: Float.self)
            var i = range.lowerBound
            while i + Self.lanes <= range.upperBound {
                bp_adam16(k, theta + i, g + i, m + i, v + i, next + i, mNext + i, vNext + i)
                i += Self.lanes
            }
            let rest = range.upperBound - i
            guard rest > 0 else { return }
            // The last parameters through zero-padded copies, on the stack.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 7 * Self.lanes) { buffer in
                guard let pad = buffer.baseAddress else { return }
                buffer.initialize(repeating: 0)
                let slot = { (index: Int) in pad + index * Self.lanes }
                slot(0).update(from: theta + i, count: rest)
                slot(1).update(from: g + i, count: rest)
                slot(2).update(from: m + i, count: rest)
                slot(3).update(from: v + i, count: rest)
                bp_adam16(k, slot(0), slot(1), slot(2), slot(3), slot(4), slot(5), slot(6))
                (next + i).update(from: slot(4), count: rest)
                (mNext + i).update(from: slot(5), count: rest)
                (vNext + i).update(from: slot(6), count: rest)
            }
        }
    }
}
