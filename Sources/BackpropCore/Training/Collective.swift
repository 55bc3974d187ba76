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

    /// The first reduction of a fit: every process says whether it can train and how many
    /// batches its shard makes; each learns the largest count, which all then take, or
    /// throws `.peerFailed` when another process could not train. A process that failed
    /// calls it with `failed` set (see `announceFailure`), so that none waits for it.
    func agreeOnSteps(_ steps: Int, failed: Bool = false) throws(BackpropError) -> Int {
        guard let reduce else { return steps }
        var values = [failed ? 1 : 0, Double(steps)]
        try values.withUnsafeMutableBufferPointer { (buffer) throws(BackpropError) in try reduce(buffer, .max) }
        guard values[0] == 0 else {
            throw BackpropError(.peerFailed,
                "another process of this distributed fit could not start training (its own error says why); this one did not start either")
        }
        return Int(values[1])
    }

    /// Tells the other processes that this one cannot train (its arguments were refused):
    /// `agreeOnSteps` with the failure flag. What the reduction itself reports is dropped,
    /// because the process's own error is the one to return.
    public func announceFailure() {
        _ = try? agreeOnSteps(0, failed: true)
    }

    /// Whether any process wants to stop after this epoch (its progress callback said so).
    func anyStops(_ stops: Bool) throws(BackpropError) -> Bool {
        guard let reduce else { return stops }
        var values = [stops ? 1.0 : 0]
        try values.withUnsafeMutableBufferPointer { (buffer) throws(BackpropError) in try reduce(buffer, .max) }
        return values[0] != 0
    }
}

/// An epoch's sums on one process, whose sums over the processes give the global epoch's
/// means: the same report, and so the same decisions, on every process.
struct EpochTotals {
    var samples: Double = 0
    var trainWeight: Double = 0
    var trainLoss: Double = 0  // Σ over batches of loss × weight
    var validationWeight: Double = 0
    var validationLoss: Double = 0  // mean loss × weight
    var validationCorrect: Double = 0  // accuracy × weight

    /// The sums over every process, by `reduce`.
    func reduced(by reduce: Collective.Reduction) throws(BackpropError) -> EpochTotals {
        var values = [samples, trainWeight, trainLoss, validationWeight, validationLoss, validationCorrect]
        try values.withUnsafeMutableBufferPointer { (buffer) throws(BackpropError) in try reduce(buffer, .sum) }
        return EpochTotals(samples: values[0], trainWeight: values[1], trainLoss: values[2],
                           validationWeight: values[3], validationLoss: values[4], validationCorrect: values[5])
    }

    var meanTrainLoss: Float { Float(trainLoss / trainWeight) }
    var meanValidationLoss: Float { validationWeight > 0 ? Float(validationLoss / validationWeight) : .nan }
    var validationAccuracy: Float { validationWeight > 0 ? Float(validationCorrect / validationWeight) : .nan }
}
