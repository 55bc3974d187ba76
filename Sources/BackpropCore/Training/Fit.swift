/// How `Network.fit` trains: mini-batch passes over a data set with seeded shuffling,
/// optional early stopping and a target loss. Each epoch's η is the network's schedule's
/// (`TrainingOptions.schedule`) from `learningRate`.
public struct FitOptions: Sendable, Equatable {
    /// Passes over the training set, ≥ 1.
    public var epochs = 10
    /// Samples per step, ≥ 1; the last batch of an epoch may be smaller.
    public var batchSize = 32
    /// η₀, finite and ≥ 0: the rate of every epoch with the constant schedule, the base
    /// of the others (unused by RPROP).
    public var learningRate: Float = 0.01
    /// Visit the samples in a new order every epoch (Fisher–Yates driven by `seed`).
    public var shuffle = true
    public var seed: UInt64 = 0
    /// Stop after this many epochs without the monitored loss improving by more than
    /// `minDelta`; 0 turns early stopping off. The monitored loss is the validation loss
    /// when there is a validation set, the training loss otherwise.
    public var patience = 0
    public var minDelta: Float = 0
    /// With early stopping on, end with the parameters of the best epoch.
    public var restoreBest = true
    /// Stop as soon as the monitored loss is at or below this; nil turns it off.
    public var targetLoss: Float?

    public init() {}
}

/// What happened in one epoch of `fit`.
public struct EpochReport: Sendable, Equatable {
    /// 1 for the first epoch.
    public let epoch: Int
    /// The mean loss over the epoch's training samples, measured during the steps.
    public let trainLoss: Float
    /// The loss on the validation set after the epoch, NaN without one.
    public let validationLoss: Float
    /// The validation accuracy (see `Network.evaluate`), NaN without a validation set or
    /// for networks that are not classifiers.
    public let validationAccuracy: Float
    /// η of the epoch's steps, by the network's learning-rate schedule.
    public let learningRate: Float
}

/// How a `fit` ended.
public struct FitSummary: Sendable, Equatable {
    public enum Stop: Sendable, Equatable {
        /// All the epochs asked for ran.
        case completed
        /// The progress callback returned false.
        case callback
        /// The monitored loss reached the target loss.
        case targetLoss
        /// The monitored loss stopped improving for `patience` epochs.
        case earlyStopping
    }

    public let epochs: Int
    public let stop: Stop
    /// The epoch with the lowest monitored loss (0 if none was finite).
    public let bestEpoch: Int
    /// Whether the parameters were set back to those of `bestEpoch`.
    public let restoredBest: Bool
}

/// A data set: `count` rows of inputs and of targets, row-major, and optionally a weight
/// per sample (see `SampleWeights`: finite, ≥ 0, not all 0).
public struct DataSet {
    public let inputs: UnsafeBufferPointer<Float>
    public let targets: UnsafeBufferPointer<Float>
    public let count: Int
    public let weights: UnsafeBufferPointer<Float>?

    public init(
        inputs: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>, count: Int,
        weights: UnsafeBufferPointer<Float>? = nil
    ) {
        self.inputs = inputs
        self.targets = targets
        self.count = count
        self.weights = weights
    }
}

extension Network {
    /// Trains on `data` for `options.epochs` epochs of mini-batch steps, evaluating on
    /// `validation` after each epoch and calling `progress` with the epoch's report;
    /// `progress` returning false stops training after that epoch. Deterministic for a
    /// given seed. Every input is validated before the first step; a step that diverges
    /// ends training with `.diverged`, its parameters untouched. The reports go to
    /// `progress` only, so a run of any length needs no memory per epoch. With weights,
    /// each step takes its batch's weighted mean, a batch whose weights are all 0 is
    /// skipped, and the losses reported are weighted means.
    @discardableResult
    public func fit(
        _ data: DataSet, validation: DataSet? = nil, options: FitOptions,
        progress: (EpochReport) -> Bool = { _ in true }
    ) throws(BackpropError) -> FitSummary {
        try validate(options)
        let cycle = try scheduleCycle(epochs: options.epochs)
        let (x, y, w) = try validated(data)
        let held = try validation.map { (set) throws(BackpropError) in (try validated(set), set.count) }
        let batch = min(options.batchSize, data.count)
        let yBatch = try Memory.allocateFloats(batch * outputSize + (w == nil ? 0 : batch), for: "a training batch")
        defer { Memory.free(yBatch) }
        let wBatch = yBatch + batch * outputSize
        let keepsBest = options.patience > 0 && options.restoreBest
        let best = keepsBest ? try Memory.allocateFloats(parameterCount, for: "the best parameters") : nil
        defer { best.map(Memory.free) }

        let order = try Memory.allocate(Int.self, count: data.count, for: "the sample order")
        defer { Memory.free(order) }
        for index in 0 ..< data.count { order[index] = index }
        // Samples are gathered straight into the network's a^0 buffer, which the step reads
        // in place, so each is copied once.
        // Reserved last: once it may have replaced the kept activations, nothing throws
        // before the first forward pass.
        let xBatch = try inputBuffer(batch: batch)

        var generator = SplitMix64(seed: options.seed)
        var bestLoss = Float.infinity
        var bestEpoch = 0
        var epochs = 0
        var stop = FitSummary.Stop.completed
        for epoch in 1 ... options.epochs {
            let learningRate = trainingOptions.schedule.rate(
                base: options.learningRate, options: trainingOptions, state: scheduleState, cycle: cycle)
            if options.shuffle { shuffle(order, count: data.count, with: &generator) }
            var total: Double = 0
            for start in stride(from: 0, to: data.count, by: batch) {
                let rows = min(batch, data.count - start)
                for slot in 0 ..< rows {
                    let row = order[start + slot]
                    if let inputScaling {
                        inputScaling.apply(x + row * inputSize, into: xBatch + slot * inputSize, rows: 1)
                    } else {
                        (xBatch + slot * inputSize).update(from: x + row * inputSize, count: inputSize)
                    }
                    (yBatch + slot * outputSize).update(from: y + row * outputSize, count: outputSize)
                    if let w { wBatch[slot] = w.values[row] }
                }
                total += try trainBatch(rows: rows, x: xBatch, y: yBatch, weights: w == nil ? nil : wBatch, rate: learningRate)
            }
            epochs = epoch
            let evaluation = try held.map { (set) throws(BackpropError) in
                try evaluate(set.0.0, set.0.1, count: set.1, weights: set.0.2)
            }
            let report = EpochReport(
                epoch: epoch, trainLoss: Float(total / (w?.sum ?? Double(data.count))),
                validationLoss: evaluation?.loss ?? .nan, validationAccuracy: evaluation?.accuracy ?? .nan,
                learningRate: learningRate)
            let monitored = held == nil ? report.trainLoss : report.validationLoss
            scheduleState.endEpoch(samples: data.count, monitoredLoss: monitored, options: trainingOptions)
            if monitored < bestLoss - options.minDelta {
                bestLoss = monitored
                bestEpoch = epoch
                best?.update(from: parameters, count: parameterCount)
            }
            if !progress(report) {
                stop = .callback
            } else if let target = options.targetLoss, monitored <= target {
                stop = .targetLoss
            } else if options.patience > 0 && epoch - bestEpoch >= options.patience {
                stop = .earlyStopping
            }
            if stop != .completed { break }
        }
        let restoresBest = best != nil && bestEpoch > 0 && bestEpoch != epochs
        if let best, restoresBest {
            try setParameters(UnsafeBufferPointer(start: best, count: parameterCount))
        }
        return FitSummary(epochs: epochs, stop: stop, bestEpoch: bestEpoch, restoredBest: restoresBest)
    }

    /// One step of `fit` on a gathered batch; returns its loss times its weight (its rows,
    /// unweighted), for the epoch's mean. A batch of weight 0 is skipped.
    private func trainBatch(
        rows: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>, weights: UnsafePointer<Float>?, rate: Float
    ) throws(BackpropError) -> Double {
        guard let weights else { return Double(try step(x, y, batch: rows, learningRate: rate)) * Double(rows) }
        guard let batch = SampleWeights.batch(weights, count: rows) else { return 0 }
        return Double(try step(x, y, batch: rows, learningRate: rate, weights: rows == 1 ? nil : batch)) * batch.sum
    }

    private func validate(_ options: FitOptions) throws(BackpropError) {
        guard options.epochs >= 1 else {
            throw BackpropError(.invalidArgument, "epochs is \(options.epochs); train for at least one epoch")
        }
        guard options.batchSize >= 1 else {
            throw BackpropError(.invalidArgument, "batch size is \(options.batchSize); it must be at least 1")
        }
        guard options.patience >= 0 else {
            throw BackpropError(.invalidArgument, "patience is \(options.patience); it must be ≥ 0 (0 turns early stopping off)")
        }
        guard options.minDelta.isFinite, options.minDelta >= 0 else {
            throw BackpropError(.invalidArgument, "minimum improvement is \(options.minDelta); it must be finite and ≥ 0")
        }
        if let target = options.targetLoss, target.isNaN {
            throw BackpropError(.nonFinite, "target loss is NaN")
        }
        try validate(learningRate: options.learningRate)
    }

    /// The cosine schedule's cycle T: its cycle-epochs option, or when that is 0 the epochs
    /// the schedule has ended so far plus this fit's, which must end after the warm-up.
    private func scheduleCycle(epochs: Int) throws(BackpropError) -> Int {
        let options = trainingOptions
        guard options.cycleEpochs == 0 else { return Int(options.cycleEpochs) }
        let cycle = ScheduleState.saturatingSum(scheduleState.epochs, epochs)
        guard options.schedule != .cosine || Double(cycle) > options.warmupEpochs else {
            throw BackpropError(.invalidArgument,
                "the cosine schedule's cycle would be \(cycle) epochs (\(scheduleState.epochs) ended and this fit's \(epochs)), not longer than its \(Int(options.warmupEpochs)) warm-up epochs; train for more epochs or set cycle-epochs")
        }
        return cycle
    }

    /// Fisher–Yates.
    private func shuffle(_ order: UnsafeMutablePointer<Int>, count: Int, with generator: inout SplitMix64) {
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            (order[i], order[j]) = (order[j], order[i])
        }
    }
}
