#if canImport(Glibc)
import Glibc  // cos, pow
#elseif canImport(Musl)
import Musl
#endif

/// How the learning rate changes from epoch to epoch: η_e = f(η₀, e), with η₀ the rate
/// given to `fit` (or to `scheduledLearningRate` by callers who step by hand) and e the
/// epochs ended since the schedule was chosen. The raw value is the C code
/// (`BP_SCHEDULE_*`); the hyperparameters each schedule reads are in `hyperparameters`.
public enum LearningRateSchedule: Int32, PublicCode {
    /// η_e = η₀
    case constant = 0
    /// η_e = η₀ γ^⌊e / s⌋, s = step-epochs (PyTorch's StepLR)
    case step = 1
    /// η_e = η₀ γ^e (PyTorch's ExponentialLR)
    case exponential = 2
    /// A linear warm-up over W epochs, η_e = η₀ (e + 1) / W, then cosine annealing to
    /// η_min over the rest of the T-epoch cycle, η_min + (η₀ − η_min)(1 + cos(π (e − W) / (T − W))) / 2,
    /// and η_min after it (PyTorch's CosineAnnealingLR after a LinearLR warm-up).
    case cosine = 3
    /// η_e = η₀ / (t + 1)^p, t = the samples trained on in the epochs before (scikit-learn's invscaling)
    case invscaling = 4
    /// η_e = max(η₀ m, min(η₀, η_min)), m multiplied by the factor whenever the monitored
    /// loss has not improved by the threshold for more than `patience` epochs
    /// (PyTorch's ReduceLROnPlateau; scikit-learn's adaptive is factor 0.2, patience 10).
    case plateau = 5

    public static let kind = "learning-rate schedule"
    public static let constantPrefix = "BP_SCHEDULE_"

    public var name: String {
        switch self {
        case .constant: return "constant"
        case .step: return "step"
        case .exponential: return "exponential"
        case .cosine: return "cosine"
        case .invscaling: return "invscaling"
        case .plateau: return "plateau"
        }
    }

    /// The hyperparameters the schedule reads; the others do nothing for it.
    public var hyperparameters: [TrainingOptions.Hyperparameter] {
        switch self {
        case .constant: return []
        case .step: return [.gamma, .stepEpochs]
        case .exponential: return [.gamma]
        case .cosine: return [.warmupEpochs, .cycleEpochs, .minLearningRate]
        case .invscaling: return [.powerT]
        case .plateau: return [.plateauFactor, .plateauPatience, .plateauThreshold, .minLearningRate]
        }
    }

    /// η for the epoch after `state.epochs` ended ones. `cycle` is the cosine schedule's T.
    func rate(base: Float, options: TrainingOptions, state: ScheduleState, cycle: Int) -> Float {
        let eta0 = Double(base), epochs = Double(state.epochs)
        switch self {
        case .constant:
            return base
        case .step:
            return Float(eta0 * pow(options.gamma, Double(state.epochs / Int(options.stepEpochs))))
        case .exponential:
            return Float(eta0 * pow(options.gamma, epochs))
        case .cosine:
            let warmup = Double(options.warmupEpochs), minimum = options.minLearningRate
            if epochs < warmup { return Float(eta0 * (epochs + 1) / warmup) }
            guard epochs < Double(cycle) else { return Float(minimum) }
            let progress = (epochs - warmup) / (Double(cycle) - warmup)
            return Float(minimum + (eta0 - minimum) * (1 + cos(Double.pi * progress)) / 2)
        case .invscaling:
            return Float(eta0 / pow(Double(state.samples) + 1, options.powerT))
        case .plateau:
            return Float(max(eta0 * state.multiplier, min(eta0, options.minLearningRate)))
        }
    }
}

/// Where a schedule stands: what the epochs ended since it was chosen have taught it.
/// Saved in model files, so training resumes on schedule.
public struct ScheduleState: Sendable, Equatable {
    /// Epochs ended (e of the next epoch).
    public internal(set) var epochs = 0
    /// Samples those epochs trained on (invscaling's t).
    public internal(set) var samples = 0
    /// The plateau schedule's m: the product of its reductions so far.
    public internal(set) var multiplier = 1.0
    /// The plateau schedule's lowest monitored loss, and the epochs since it improved.
    public internal(set) var bestLoss = Float.infinity
    public internal(set) var epochsWithoutImprovement = 0

    /// Where the counts stop: 2^53, the largest count a Double (the schedules' arithmetic)
    /// holds exactly. A count saturates there rather than overflowing, whatever a caller
    /// or a model file passes.
    public static let countLimit = 1 << 53
    /// Where the plateau multiplier stops: the smallest normal Double, so that it stays
    /// positive (a model file holds m in (0, 1]) however many reductions a run makes; η₀ m
    /// is 0 as a Float long before it.
    public static let multiplierFloor = Double.leastNormalMagnitude

    public init() {}

    /// After an epoch of `samples` samples whose monitored loss was `loss` (NaN is no
    /// improvement). The constant schedule keeps nothing.
    mutating func endEpoch(samples count: Int, monitoredLoss loss: Float, options: TrainingOptions) {
        guard options.schedule != .constant else { return }
        epochs = Self.saturatingSum(epochs, 1)
        samples = Self.saturatingSum(samples, count)
        guard options.schedule == .plateau else { return }
        if loss < bestLoss - Float(options.plateauThreshold) {
            bestLoss = loss
            epochsWithoutImprovement = 0
        } else {
            epochsWithoutImprovement = Self.saturatingSum(epochsWithoutImprovement, 1)
            if epochsWithoutImprovement > Int(options.plateauPatience) {
                multiplier = max(multiplier * options.plateauFactor, Self.multiplierFloor)
                epochsWithoutImprovement = 0
            }
        }
    }

    /// Caps every count at `countLimit`, as the counts of this library's own runs are.
    mutating func saturateCounts() {
        (epochs, samples) = (min(epochs, Self.countLimit), min(samples, Self.countLimit))
        epochsWithoutImprovement = min(epochsWithoutImprovement, Self.countLimit)
    }

    /// a + b for counts in 0...countLimit, capped at the limit.
    static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        b >= countLimit - a ? countLimit : a + b
    }

    /// Whether a model file could hold it: counts in 0...countLimit, a multiplier in
    /// [multiplierFloor, 1].
    func isPlausible() -> Bool {
        epochs >= 0 && samples >= 0 && epochsWithoutImprovement >= 0 && epochsWithoutImprovement <= epochs
            && epochs <= Self.countLimit && samples <= Self.countLimit
            && multiplier >= Self.multiplierFloor && multiplier <= 1 && !bestLoss.isNaN
    }
}

extension Network {
    /// η for the next epoch by the network's schedule, from the base rate η₀ (see
    /// `LearningRateSchedule`). The cosine schedule needs its cycle (`cycleEpochs`) here;
    /// `fit` uses its own epochs when it is 0.
    public func scheduledLearningRate(base: Float) throws(BackpropError) -> Float {
        try validate(learningRate: base)
        let options = trainingOptions
        guard options.schedule != .cosine || options.cycleEpochs > 0 else {
            throw BackpropError(.invalidArgument,
                "the cosine schedule needs its cycle-epochs option outside fit (it is 0, which means fit's epochs)")
        }
        return options.schedule.rate(base: base, options: options, state: scheduleState, cycle: Int(options.cycleEpochs))
    }

    /// Ends an epoch for the schedule: `samples` samples trained on, `monitoredLoss` the
    /// loss the plateau schedule watches. `fit` calls it after every epoch.
    public func endEpoch(samples: Int, monitoredLoss: Float) throws(BackpropError) {
        guard samples >= 0 else {
            throw BackpropError(.invalidArgument, "samples is \(samples); it must be ≥ 0")
        }
        scheduleState.endEpoch(samples: samples, monitoredLoss: monitoredLoss, options: trainingOptions)
    }
}
