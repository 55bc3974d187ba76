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
    ///
    /// With a `collective`, this is one process of a data-parallel fit (see `Collective`):
    /// each step's gradients pass through `reduceGradients` before the update, a batch of
    /// weight 0 becomes a step of zero gradients rather than none, and with
    /// `collective.reduce` every process takes the largest process's number of steps per
    /// epoch (a process out of data takes empty steps), reports the global epoch's losses
    /// and stops when any process's `progress` says so.
    @discardableResult
    public func fit(
        _ data: DataSet, validation: DataSet? = nil, options: FitOptions, collective: Collective? = nil,
        progress: (EpochReport) -> Bool = { _ in true }
    ) throws(BackpropError) -> FitSummary {
        let run: FitRun
        do {
            run = try FitRun(network: self, data: data, validation: validation, options: options,
                             allowsZeroWeight: collective?.reduce != nil)
        } catch {
            collective?.announceFailure()
            throw error
        }
        defer { run.release() }
        // Reserved last: once it may have replaced the kept activations, nothing throws
        // before the first forward pass but, in a data-parallel fit, the agreement, which
        // must come after every allocation so that a process out of memory takes part.
        let xBatch: UnsafeMutablePointer<Float>
        do {
            xBatch = try inputBuffer(batch: run.batch)
            if collective != nil { _ = try reserveDropoutBuffers(batch: run.batch) }
        } catch {
            collective?.announceFailure()
            throw error
        }
        let steps = try collective?.agreeOnStart(run: run, options: options) ?? run.localSteps

        var generator = SplitMix64(seed: options.seed)
        var bestLoss = Float.infinity
        var bestEpoch = 0
        var epochs = 0
        var stop = FitSummary.Stop.completed
        for epoch in 1 ... options.epochs {
            let learningRate = trainingOptions.schedule.rate(
                base: options.learningRate, options: trainingOptions, state: scheduleState, cycle: run.cycle)
            if options.shuffle { shuffle(run.order, count: data.count, with: &generator) }
            var total: Double = 0
            for step in 0 ..< steps {
                if collective == nil, run.batch == 1, dropout == nil, let tinyStep {
                    total += try tinyBatch(row: run.order[step], run: run, tiny: tinyStep, rate: learningRate)
                    continue
                }
                let rows = run.gather(step: step, into: xBatch, scaling: inputScaling, width: inputSize, outputs: outputSize)
                let wBatch = run.weights == nil ? nil : UnsafePointer(run.wBatch)
                if let collective {
                    total += try reducedBatch(rows: rows, x: xBatch, y: run.yBatch, weights: wBatch, rate: learningRate,
                                              collective: collective)
                } else {
                    total += try trainBatch(rows: rows, x: xBatch, y: run.yBatch, weights: wBatch, rate: learningRate)
                }
            }
            epochs = epoch
            let (report, totals) = try epochReport(epoch, run: run, trainLoss: total, learningRate: learningRate,
                                                   reduce: collective?.reduce)
            let monitored = totals.validationWeight > 0 ? report.validationLoss : report.trainLoss
            scheduleState.endEpoch(samples: Int(totals.samples), monitoredLoss: monitored, options: trainingOptions)
            if monitored < bestLoss - options.minDelta {
                bestLoss = monitored
                bestEpoch = epoch
                run.best?.update(from: parameters, count: parameterCount)
            }
            if !progress(report) {
                stop = .callback
            } else if let target = options.targetLoss, monitored <= target {
                stop = .targetLoss
            } else if options.patience > 0 && epoch - bestEpoch >= options.patience {
                stop = .earlyStopping
            }
            // Every process stops when one does, whatever stopped it there.
            if let collective { stop = try collective.agreeOnStop(stop) }
            if stop != .completed { break }
        }
        let restoresBest = run.best != nil && bestEpoch > 0 && bestEpoch != epochs
        if let best = run.best, restoresBest {
            try setParameters(UnsafeBufferPointer(start: best, count: parameterCount))
        }
        return FitSummary(epochs: epochs, stop: stop, bestEpoch: bestEpoch, restoredBest: restoresBest)
    }

    /// The epoch's report, from this process's sums or, with `reduce`, from every process's;
    /// and those sums, whose validation weight is 0 when there is no validation set. With
    /// `reduce`, a process that fails to evaluate still takes part in the reduction, and
    /// every process then throws (its own error, or `.peerFailed`).
    private func epochReport(
        _ epoch: Int, run: FitRun, trainLoss: Double, learningRate: Float, reduce: Collective.Reduction?
    ) throws(BackpropError) -> (EpochReport, EpochTotals) {
        var totals = EpochTotals(samples: Double(run.count), trainWeight: run.weights?.sum ?? Double(run.count),
                                 trainLoss: trainLoss)
        let evaluation: Result<(loss: Float, accuracy: Float), BackpropError>? = run.held.map { set in
            Result { () throws(BackpropError) in
                try evaluate(set.inputs, set.targets, count: set.count, weights: set.weights)
            }
        }
        guard let reduce else {
            // This process's own numbers, exactly as they were measured.
            let measured = try evaluation?.get()
            if measured != nil, let held = run.held { totals.validationWeight = held.weights?.sum ?? Double(held.count) }
            let report = EpochReport(
                epoch: epoch, trainLoss: totals.meanTrainLoss, validationLoss: measured?.loss ?? .nan,
                validationAccuracy: measured?.accuracy ?? .nan, learningRate: learningRate)
            return (report, totals)
        }
        switch evaluation {
        case .success(let measured)?:
            let weight = run.held.map { $0.weights?.sum ?? Double($0.count) } ?? 0
            totals.validationWeight = weight
            totals.validationLoss = Double(measured.loss) * weight
            totals.validationCorrect = Double(measured.accuracy) * weight
        case .failure?: totals.failed = 1
        case nil: break
        }
        let global = try totals.reduced(by: reduce)
        if case .failure(let error)? = evaluation { throw error }
        guard global.failed == 0 else {
            throw BackpropError(.peerFailed,
                "another process of this distributed fit failed to evaluate its validation set after epoch \(epoch) (its own error says why); this one stopped too")
        }
        let report = EpochReport(
            epoch: epoch, trainLoss: global.meanTrainLoss, validationLoss: global.meanValidationLoss,
            validationAccuracy: global.validationAccuracy, learningRate: learningRate)
        return (report, global)
    }

    /// One step of `fit` on the single sample `row` through the tiny network's own step
    /// (`TinyNetworkStep`, bit-identical to the general path), which scales the sample
    /// itself: D's 2-8-1 trains 3× faster than through a gathered batch. Returns its
    /// loss times its weight; a sample of weight 0 is skipped.
    private func tinyBatch(
        row: Int, run: FitRun, tiny: Unmanaged<TinyNetworkStep>, rate: Float
    ) throws(BackpropError) -> Double {
        let weight = run.weights.map { Double($0.values[row]) } ?? 1
        guard weight > 0 else { return 0 }
        let x = UnsafeBufferPointer(start: run.training.inputs + row * inputSize, count: inputSize)
        let y = UnsafeBufferPointer(start: run.training.targets + row * outputSize, count: outputSize)
        let loss = try tiny._withUnsafeGuaranteedRef { tiny in
            Result { () throws(BackpropError) in try step(tiny, inputs: x, targets: y, learningRate: rate) }
        }.get()
        return Double(loss) * weight
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

    func validate(_ options: FitOptions) throws(BackpropError) {
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
    func scheduleCycle(epochs: Int) throws(BackpropError) -> Int {
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
