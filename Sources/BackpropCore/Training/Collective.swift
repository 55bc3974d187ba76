/// What a data-parallel `fit` needs from the communication layer that links its processes
/// (MPI, torch.distributed, Horovod...): collectives that every process calls in the same
/// order, with the same sizes. Each process trains a replica on its own shard: after every
/// mini-batch's backward pass `reduceGradients` turns the process's ∂C/∂θ into the global
/// batch's, so that every replica takes the same update and the replicas stay identical.
/// With `reduce` as well, the processes also agree on how many steps an epoch takes, on
/// the epoch's losses (so early stopping, the target loss and the schedules decide the
/// same everywhere), on whether to stop, and on a failure before training.
public struct Collective {
    /// A value reduction across processes.
    public enum Operation: Int32, PublicCode {
        case sum = 0
        case max = 1

        public static var kind: String { "reduction" }
        public static var constantPrefix: String { "BP_REDUCE_" }
        public var name: String { self == .sum ? "sum" : "max" }
    }

    /// One process's mini-batch, as `reduceGradients` sees it.
    public struct Batch: Sendable, Equatable {
        /// The rows of this process's batch: 0 in a step that a process with a shorter
        /// shard takes to keep in step with the others.
        public let samples: Int
        /// Σ_x w_x over those rows (`samples` without weights, 0 for an empty step): the
        /// weight of this process's gradients in the global mean.
        public let weight: Double
        /// This process's mean loss over the batch (0 for an empty step).
        public let loss: Float
    }

    public typealias GradientReduction =
        (_ gradients: UnsafeMutableBufferPointer<Float>, _ batch: Batch) throws(BackpropError) -> Void
    public typealias Reduction =
        (_ values: UnsafeMutableBufferPointer<Double>, _ operation: Operation) throws(BackpropError) -> Void

    /// Replaces the process's gradients (flat layout, its batch's mean) with those the update
    /// is to use: the global batch's mean, Σ_r weight_r g_r / Σ_r weight_r, for data
    /// parallelism.
    public let reduceGradients: GradientReduction
    /// Replaces each value with its sum or maximum over the processes; nil when the fit
    /// need not agree on anything but the gradients (every shard has as many batches).
    public let reduce: Reduction?

    public init(reduceGradients: @escaping GradientReduction, reduce: Reduction? = nil) {
        self.reduceGradients = reduceGradients
        self.reduce = reduce
    }

    /// The first reduction of a fit: every process says whether it can train, how many
    /// batches its shard makes, whether its sample weights sum to more than 0, and the
    /// options that must match; each learns the largest step count, which all then take.
    /// Throws `.peerFailed` when another process could not train, and on every process
    /// `.invalidArgument` when the options differ or every shard weighs 0, so that no
    /// process goes on alone. A process that failed calls it with `failed` set (see
    /// `announceFailure`), so that none waits for it.
    func agreeOnStart(run: FitRun?, options: FitOptions?, failed: Bool = false) throws(BackpropError) -> Int {
        let steps = run?.localSteps ?? 0
        guard let reduce else { return steps }
        let weighs = run.map { $0.weights == nil || $0.weights!.sum > 0 } ?? false
        // Each option that must match as itself and negated: its maximum and minimum. A
        // failed process sends zeros, so that every process sends as many values.
        let matching = options.map(Self.matchingOptions) ?? Self.matchingOptions(FitOptions()).map { (name: $0.name, value: 0.0) }
        var values: [Double] = [failed ? 1 : 0, Double(steps), weighs ? 1 : 0]
        for option in matching { values += [option.value, -option.value] }
        try values.withUnsafeMutableBufferPointer { (buffer) throws(BackpropError) in try reduce(buffer, .max) }
        guard values[0] == 0 else {
            throw BackpropError(.peerFailed,
                "another process of this distributed fit could not start training (its own error says why); this one did not start either")
        }
        for (index, option) in matching.enumerated() {
            let largest = values[3 + 2 * index], smallest = -values[4 + 2 * index]
            guard largest == smallest else {
                throw BackpropError(.invalidArgument,
                    "the processes of this distributed fit have different \(option.name) (from \(smallest) to \(largest)); every process must pass the same")
            }
        }
        guard values[2] > 0 else {
            throw BackpropError(.invalidArgument,
                "the sample weights sum to 0 on every process of this distributed fit; at least one sample must have a positive weight")
        }
        return Int(values[1])
    }

    /// The options every process of a data-parallel fit must share, as numbers.
    private static func matchingOptions(_ options: FitOptions) -> [(name: String, value: Double)] {
        [("epochs", Double(options.epochs)), ("batch sizes", Double(options.batchSize)),
         ("learning rates", Double(options.learningRate)), ("patience", Double(options.patience)),
         ("minimum improvements", Double(options.minDelta)), ("restore-best settings", options.restoreBest ? 1 : 0),
         ("target losses", Double(options.targetLoss ?? 0))]
    }

    /// Tells the other processes that this one cannot train (its arguments were refused):
    /// `agreeOnStart` with the failure flag. What the reduction itself reports is dropped,
    /// because the process's own error is the one to return.
    public func announceFailure() {
        _ = try? agreeOnStart(run: nil, options: nil, failed: true)
    }

    /// The stop every process takes after this epoch: this one's, or when it would go
    /// on, the strongest any other process decided (a callback's stop, the target loss,
    /// early stopping), so that no process trains on alone.
    func agreeOnStop(_ stop: FitSummary.Stop) throws(BackpropError) -> FitSummary.Stop {
        guard let reduce else { return stop }
        var values = [Double(stop.code)]
        try values.withUnsafeMutableBufferPointer { (buffer) throws(BackpropError) in try reduce(buffer, .max) }
        return stop == .completed ? FitSummary.Stop(code: Int(values[0])) : stop
    }
}

extension FitSummary.Stop {
    /// The stop as the agreement's number: 0 for none, then by strength.
    var code: Int {
        switch self {
        case .completed: 0
        case .callback: 1
        case .targetLoss: 2
        case .earlyStopping: 3
        }
    }

    init(code: Int) {
        self = [.completed, .callback, .targetLoss, .earlyStopping][min(max(code, 0), 3)]
    }
}

/// An epoch's sums on one process, whose sums over the processes give the global epoch's
/// means: the same report, and so the same decisions, on every process.
struct EpochTotals {
    /// Processes that failed this epoch (evaluating their validation sets): the sum tells
    /// every process to stop rather than wait for them in the next step.
    var failed: Double = 0
    var samples: Double = 0
    var trainWeight: Double = 0
    var trainLoss: Double = 0  // Σ over batches of loss × weight
    var validationWeight: Double = 0
    var validationLoss: Double = 0  // mean loss × weight
    var validationCorrect: Double = 0  // accuracy × weight

    /// The sums over every process, by `reduce`.
    func reduced(by reduce: Collective.Reduction) throws(BackpropError) -> EpochTotals {
        var values = [failed, samples, trainWeight, trainLoss, validationWeight, validationLoss, validationCorrect]
        try values.withUnsafeMutableBufferPointer { (buffer) throws(BackpropError) in try reduce(buffer, .sum) }
        return EpochTotals(failed: values[0], samples: values[1], trainWeight: values[2], trainLoss: values[3],
                           validationWeight: values[4], validationLoss: values[5], validationCorrect: values[6])
    }

    var meanTrainLoss: Float { Float(trainLoss / trainWeight) }
    var meanValidationLoss: Float { validationWeight > 0 ? Float(validationLoss / validationWeight) : .nan }
    var validationAccuracy: Float { validationWeight > 0 ? Float(validationCorrect / validationWeight) : .nan }
}
