/// The optimizer, the learning-rate schedule, the loss's δ and their hyperparameters. Every field starts
/// at its hyperparameter's `defaultValue` and is checked by `Network.setTrainingOptions`.
public struct TrainingOptions: Sendable, Equatable {
    public var optimizer = Optimizer.sgd
    /// μ for momentum and Nesterov.
    public var momentum = Hyperparameter.momentum.defaultValue
    /// Adam's β₁ and β₂.
    public var beta1 = Hyperparameter.beta1.defaultValue
    public var beta2 = Hyperparameter.beta2.defaultValue
    /// Adam's ε.
    public var epsilon = Hyperparameter.epsilon.defaultValue
    /// λ: L2 regularisation (g ← g + λ θ) for every optimizer but AdamW, where the decay
    /// is decoupled. Applies to all parameters, biases included, as PyTorch's weight_decay.
    public var weightDecay = Hyperparameter.weightDecay.defaultValue
    /// The largest L2 norm of the whole gradient; larger gradients are scaled down to it
    /// before weight decay is added. 0 turns clipping off.
    public var clipNorm = Hyperparameter.clipNorm.defaultValue
    /// RPROP's η⁺, η⁻, and Δ bounds Δmin ≤ Δ₀ ≤ Δmax.
    public var rpropIncrease = Hyperparameter.rpropIncrease.defaultValue
    public var rpropDecrease = Hyperparameter.rpropDecrease.defaultValue
    public var rpropMinStep = Hyperparameter.rpropMinStep.defaultValue
    public var rpropMaxStep = Hyperparameter.rpropMaxStep.defaultValue
    public var rpropInitialStep = Hyperparameter.rpropInitialStep.defaultValue

    /// How η changes from epoch to epoch, and what each schedule reads (see `LearningRateSchedule`).
    public var schedule = LearningRateSchedule.constant
    /// γ of the step and exponential schedules; s, the step schedule's epochs per step.
    public var gamma = Hyperparameter.gamma.defaultValue
    public var stepEpochs = Hyperparameter.stepEpochs.defaultValue
    /// The cosine schedule's warm-up W and cycle T, in epochs (T = 0: fit's epochs).
    public var warmupEpochs = Hyperparameter.warmupEpochs.defaultValue
    public var cycleEpochs = Hyperparameter.cycleEpochs.defaultValue
    /// η_min of the cosine and plateau schedules.
    public var minLearningRate = Hyperparameter.minLearningRate.defaultValue
    /// The invscaling schedule's p.
    public var powerT = Hyperparameter.powerT.defaultValue
    /// The plateau schedule's factor, patience and threshold.
    public var plateauFactor = Hyperparameter.plateauFactor.defaultValue
    public var plateauPatience = Hyperparameter.plateauPatience.defaultValue
    public var plateauThreshold = Hyperparameter.plateauThreshold.defaultValue
    /// δ of the Huber loss.
    public var huberDelta = Hyperparameter.huberDelta.defaultValue

    public init() {}

    /// The option keys that choose the optimizer and the schedule, BP_OPTION_OPTIMIZER and
    /// BP_OPTION_SCHEDULE; the other keys are the hyperparameters' raw values.
    public static let optimizerKey: Int32 = 1
    public static let scheduleKey: Int32 = 13


    /// Whether every step is the seed's θ ← θ − η g: SGD with neither clipping nor weight decay.
    var isPlainSGD: Bool { clipNorm == 0 && isPlainSGD(clipScale: 1) }

    /// Whether a step whose gradient is scaled by `clipScale` (1 when it is not clipped) is
    /// θ ← θ − η g: SGD without weight decay (none at float precision, as the step uses it).
    func isPlainSGD(clipScale: Float) -> Bool { optimizer == .sgd && Float(weightDecay) == 0 && clipScale == 1 }

    /// Checks every hyperparameter, in `Hyperparameter.allCases` order.
    func validate() throws(BackpropError) {
        for hyperparameter in Hyperparameter.allCases { try hyperparameter.validate(self[hyperparameter], in: self) }
    }

    /// The numeric hyperparameters, each described once: its C option key (the raw value,
    /// `BP_OPTION_*` in include/backprop.h), its name, default and range. The C API's
    /// option keys, the model format, the command-line flags and messages derive from it.
    public enum Hyperparameter: Int32, PublicCode {
        case momentum = 2, beta1 = 3, beta2 = 4, epsilon = 5, weightDecay = 6, clipNorm = 7
        case rpropIncrease = 8, rpropDecrease = 9, rpropMinStep = 10, rpropMaxStep = 11, rpropInitialStep = 12
        case gamma = 14, stepEpochs = 15, warmupEpochs = 16, cycleEpochs = 17, minLearningRate = 18, powerT = 19
        case plateauFactor = 20, plateauPatience = 21, plateauThreshold = 22, huberDelta = 23

        public static let kind = "option"
        public static let constantPrefix = "BP_OPTION_"

        /// The command-line flag without its dashes, and the option's name in the bindings.
        public var name: String {
            switch self {
            case .momentum: return "momentum"
            case .beta1: return "beta1"
            case .beta2: return "beta2"
            case .epsilon: return "epsilon"
            case .weightDecay: return "weight-decay"
            case .clipNorm: return "clip-norm"
            case .rpropIncrease: return "rprop-increase"
            case .rpropDecrease: return "rprop-decrease"
            case .rpropMinStep: return "rprop-min-step"
            case .rpropMaxStep: return "rprop-max-step"
            case .rpropInitialStep: return "rprop-initial-step"
            case .gamma: return "gamma"
            case .stepEpochs: return "step-epochs"
            case .warmupEpochs: return "warmup-epochs"
            case .cycleEpochs: return "cycle-epochs"
            case .minLearningRate: return "min-lr"
            case .powerT: return "power-t"
            case .plateauFactor: return "plateau-factor"
            case .plateauPatience: return "plateau-patience"
            case .plateauThreshold: return "plateau-threshold"
            case .huberDelta: return "huber-delta"
            }
        }

        /// Whether a learning-rate schedule reads it.
        public var isScheduleParameter: Bool { LearningRateSchedule.allCases.contains { $0.hyperparameters.contains(self) } }

        /// The loss that reads it, if a loss does (the others are the optimizers' and the schedules').
        public var loss: Loss? { self == .huberDelta ? .huber : nil }

        /// Whether its values are whole numbers of epochs.
        var countsEpochs: Bool { [.stepEpochs, .warmupEpochs, .cycleEpochs, .plateauPatience].contains(self) }

        /// The largest number of epochs an epoch-count option takes: exact as a float.
        static let maxEpochCount = 1_000_000

        public var defaultValue: Double {
            switch self {
            case .momentum, .beta1: return 0.9
            case .beta2: return 0.999
            case .epsilon: return 1e-8
            case .weightDecay, .clipNorm: return 0
            case .rpropIncrease: return 1.2
            case .rpropDecrease: return 0.5
            case .rpropMinStep: return 1e-6
            case .rpropMaxStep: return 50
            case .rpropInitialStep: return 0.1
            case .gamma, .plateauFactor: return 0.1
            case .stepEpochs, .plateauPatience: return 10
            case .warmupEpochs, .cycleEpochs, .minLearningRate: return 0
            case .powerT: return 0.5
            case .plateauThreshold: return 1e-4
            case .huberDelta: return 1
            }
        }

        /// How messages name it ("weight decay is -1.0; it must be ≥ 0").
        var label: String {
            switch self {
            case .momentum, .beta1, .beta2, .epsilon: return name
            case .weightDecay: return "weight decay"
            case .clipNorm: return "clip norm"
            case .rpropIncrease: return "RPROP increase factor"
            case .rpropDecrease: return "RPROP decrease factor"
            case .rpropMinStep: return "RPROP minimum step"
            case .rpropMaxStep: return "RPROP maximum step"
            case .rpropInitialStep: return "RPROP initial step"
            case .gamma: return "the schedule's gamma"
            case .stepEpochs: return "step epochs"
            case .warmupEpochs: return "warm-up epochs"
            case .cycleEpochs: return "cycle epochs"
            case .minLearningRate: return "minimum learning rate"
            case .powerT: return "power t"
            case .plateauFactor: return "plateau factor"
            case .plateauPatience: return "plateau patience"
            case .plateauThreshold: return "plateau threshold"
            case .huberDelta: return "Huber delta"
            }
        }

        /// Its range, as messages state it.
        public var range: String {
            switch self {
            case .momentum, .beta1, .beta2: return "in [0, 1)"
            case .epsilon: return "at least 1.18e-38, the smallest normal float (the library flushes subnormals to 0)"
            case .weightDecay: return "≥ 0"
            case .clipNorm: return "≥ 0 (0 turns clipping off)"
            case .rpropIncrease: return "> 1"
            case .rpropDecrease: return "in (0, 1)"
            case .rpropMinStep: return "at least 1.18e-38, the smallest normal float (the library flushes subnormals to 0)"
            case .rpropMaxStep: return "≥ the minimum step"
            case .rpropInitialStep: return "between the minimum and maximum steps"
            case .gamma: return "in (0, 1]"
            case .stepEpochs: return "a whole number from 1 to \(Self.maxEpochCount)"
            case .warmupEpochs: return "a whole number from 0 to \(Self.maxEpochCount), below cycle-epochs when that is not 0"
            case .cycleEpochs: return "0 (fit's epochs) or a whole number above warmup-epochs, up to \(Self.maxEpochCount)"
            case .minLearningRate, .powerT, .plateauThreshold: return "≥ 0"
            case .plateauFactor: return "in (0, 1)"
            case .plateauPatience: return "a whole number from 0 to \(Self.maxEpochCount)"
            case .huberDelta: return "> 0"
            }
        }

        /// Whether `value` is in range, given the other options (RPROP's bounds depend on
        /// each other). Checked on the float32 value the update uses: β = 0.99999999 is
        /// below 1 as a double but rounds to 1 as a float, which would make Adam divide by zero.
        func admits(_ value: Float, in options: TrainingOptions) -> Bool {
            switch self {
            case .momentum, .beta1, .beta2: return value >= 0 && value < 1
            // Not `> 0`: a subnormal ε would be 0 under flush-to-zero (Adam would divide by
            // it) yet pass `> 0` when checked outside the library's floating-point mode.
            case .epsilon, .rpropMinStep: return value >= Float.leastNormalMagnitude
            case .weightDecay, .clipNorm: return value >= 0
            case .rpropIncrease: return value > 1
            case .rpropDecrease: return value > 0 && value < 1
            case .rpropMaxStep: return value >= Float(options.rpropMinStep)
            case .rpropInitialStep: return value >= Float(options.rpropMinStep) && value <= Float(options.rpropMaxStep)
            case .gamma: return value > 0 && value <= 1
            case .stepEpochs: return value >= 1
            case .warmupEpochs: return options.cycleEpochs == 0 || value < Float(options.cycleEpochs)
            case .cycleEpochs: return value == 0 || value > Float(options.warmupEpochs)
            case .minLearningRate, .powerT, .plateauThreshold: return value >= 0
            case .plateauFactor: return value > 0 && value < 1
            case .plateauPatience: return true
            case .huberDelta: return value > 0
            }
        }

        func validate(_ value: Double, in options: TrainingOptions) throws(BackpropError) {
            guard Float(value).isFinite else {
                throw BackpropError(.nonFinite, "\(label) is \(value); it must be finite as a float")
            }
            guard !countsEpochs || (value == value.rounded() && value >= 0 && value <= Double(Self.maxEpochCount)),
                  admits(Float(value), in: options)
            else {
                throw BackpropError(.invalidArgument, "\(label) is \(value); it must be \(range)")
            }
        }
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
            case .gamma: return gamma
            case .stepEpochs: return stepEpochs
            case .warmupEpochs: return warmupEpochs
            case .cycleEpochs: return cycleEpochs
            case .minLearningRate: return minLearningRate
            case .powerT: return powerT
            case .plateauFactor: return plateauFactor
            case .plateauPatience: return plateauPatience
            case .plateauThreshold: return plateauThreshold
            case .huberDelta: return huberDelta
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
            case .gamma: gamma = newValue
            case .stepEpochs: stepEpochs = newValue
            case .warmupEpochs: warmupEpochs = newValue
            case .cycleEpochs: cycleEpochs = newValue
            case .minLearningRate: minLearningRate = newValue
            case .powerT: powerT = newValue
            case .plateauFactor: plateauFactor = newValue
            case .plateauPatience: plateauPatience = newValue
            case .plateauThreshold: plateauThreshold = newValue
            case .huberDelta: huberDelta = newValue
            }
        }
    }
}
