extension Network {
    /// Runs `batch` samples (`inputs`: batch × inputSize) through the network, writes a^L
    /// to `outputs` (batch × outputSize) when given, and keeps the activations for
    /// `backward`. A `training` pass drops units by the network's `dropout` (and `backward`
    /// follows its masks); any other pass drops nothing.
    public func forward(
        _ inputs: UnsafeBufferPointer<Float>, batch: Int, outputs: UnsafeMutableBufferPointer<Float>? = nil,
        training: Bool = false
    ) throws(BackpropError) {
        let source = try validated(inputs, count: inputCount(batch: batch), name: "inputs")
        if let outputs {
            try expect(outputs.count, equals: outputCount(batch: batch), name: "outputs")
        }
        try propagateForward(source, batch: batch, training: training)
        if let outputs, let target = outputs.baseAddress, let storage {
            target.update(from: storage.activations[layers.count], count: outputs.count)
            targetScaling?.invert(target, rows: batch)
        }
    }

    /// Backpropagates `targets` (batch × outputSize) through the activations of the last
    /// `forward`, which must have had the same batch; stores the batch-averaged gradients
    /// and returns the mean loss, both weighted by `weights` when given (one per sample,
    /// see `SampleWeights`). Parameters are not changed.
    @discardableResult
    public func backward(
        _ targets: UnsafeBufferPointer<Float>, batch: Int, weights: UnsafeBufferPointer<Float>? = nil
    ) throws(BackpropError) -> Float {
        guard let forwardBatch else {
            throw BackpropError(.state,
                "backward needs the activations of a forward pass with the current parameters; call forward first")
        }
        guard forwardBatch == batch else {
            throw BackpropError(.state, "batch is \(batch) but the last forward pass had \(forwardBatch) samples")
        }
        let y = try validated(targets, count: outputCount(batch: batch), name: "targets")
        let w = try weights.map { (buffer) throws(BackpropError) in
            try SampleWeights.validated(buffer, count: batch, name: "weights")
        }
        guard let storage else { return .nan }
        let scaled = scaledTargets(y, rows: batch, buffer: storage.scaledTargets)
        return propagateBackward(scaled, inputs: storage.activations[0], batch: batch, weights: w).cost
    }

    /// W ← W − η ∂C/∂W and b ← b − η ∂C/∂b with the gradients of the last `backward`,
    /// each of which is applied once.
    public func update(learningRate eta: Float) throws(BackpropError) {
        try validate(learningRate: eta)
        switch gradientState {
        case .none:
            throw BackpropError(.state, "there are no gradients to apply; call forward and backward first")
        case .applied:
            throw BackpropError(.state,
                "the gradients of the last backward pass were already applied; call forward and backward again")
        case .pending, .diverged:
            try applyUpdate(learningRate: eta)
        }
    }

    /// One step of mini-batch gradient descent (forward, backward, update) on `batch`
    /// samples; returns the batch's mean loss before the update, both weighted by `weights`
    /// when given (see `backward`). Every argument is validated before anything changes.
    @discardableResult
    public func trainStep(
        inputs: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>, batch: Int, learningRate eta: Float,
        weights: UnsafeBufferPointer<Float>? = nil
    ) throws(BackpropError) -> Float {
        try validate(learningRate: eta)
        let w = try weights.map { (buffer) throws(BackpropError) in
            try SampleWeights.validated(buffer, count: batch, name: "weights")
        }
        // One sample's positive weight cancels: its weighted mean is its own loss and gradient.
        if batch == 1, dropout == nil, let tinyStep {
            return try tinyStep._withUnsafeGuaranteedRef { tiny in
                Result { () throws(BackpropError) in try step(tiny, inputs: inputs, targets: targets, learningRate: eta) }
            }.get()
        }
        let x = try validated(inputs, count: inputCount(batch: batch), name: "inputs")
        let y = try validated(targets, count: outputCount(batch: batch), name: "targets")
        return try step(x, y, batch: batch, learningRate: eta, weights: batch == 1 ? nil : w)
    }

    /// `trainStep` for one sample of a tiny network. Its activations stay in the step's
    /// own slots, so none are kept for `backward`.
    func step(
        _ tiny: TinyNetworkStep, inputs: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>,
        learningRate eta: Float
    ) throws(BackpropError) -> Float {
        // In the general path's order: inputs (count, then values), then targets. The
        // inputs are copied last, once nothing can fail: a^0 may hold the last step's ∂C/∂θ.
        let x = try validated(inputs, count: inputSize, name: "inputs")
        try expect(targets.count, equals: outputSize, name: "targets")
        guard let y = targets.baseAddress else { throw Self.emptyBuffer("targets", expected: outputSize) }
        guard tiny.gather(targets: y, scaling: targetScaling) else { throw nonFiniteError(targets, name: "targets") }
        forwardBatch = nil
        tinyStepHoldsGradients = false
        tiny.gather(inputs: x, scaling: inputScaling)
        guard trainingOptions.isPlainSGD else {
            let cost = tiny.run(parameters: parameters, gradients: gradientBuffer)
            gradientState = cost.isFinite ? .pending : .diverged
            try applyUpdate(learningRate: eta)
            return cost
        }
        let (cost, finite) = tiny.trainWithPlainSGD(parameters: parameters, into: nextParameters, learningRate: eta)
        tinyStepHoldsGradients = true
        gradientState = cost.isFinite ? .pending : .diverged
        try refuseDivergedLoss()
        try adoptNextParameters(finite: finite)
        tiny.adoptNextColumns()
        return cost
    }

    /// Forward, backward and update on validated data; returns the batch's loss. Plain SGD
    /// steps each layer as soon as its gradient is made, while much of the gradient is
    /// still in cache, instead of in a pass over all parameters at the end (C's 12.6 MB of
    /// parameters trains 1.5% faster).
    func step(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, batch: Int, learningRate eta: Float,
        weights: SampleWeights? = nil
    ) throws(BackpropError) -> Float {
        guard trainingOptions.isPlainSGD else {
            let cost = try storeGradients(x, y, batch: batch, weights: weights)
            try applyUpdate(learningRate: eta)
            return cost
        }
        let a0 = try propagateForward(x, batch: batch, keepingInputs: false, training: true)
        let y = storage.map { scaledTargets(y, rows: batch, buffer: $0.scaledTargets) } ?? y
        let (cost, finite) = propagateBackward(y, inputs: a0, batch: batch, weights: weights, descending: eta)
        try refuseDivergedLoss()
        try adoptNextParameters(finite: finite)
        tinyStep?._withUnsafeGuaranteedRef { $0.parametersChanged() }
        return cost
    }

    /// A training pass over validated data and the backward pass after it: stores the
    /// gradients (see `backward`) and returns the batch's loss, changing no parameter.
    func storeGradients(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, batch: Int, weights: SampleWeights?
    ) throws(BackpropError) -> Float {
        let a0 = try propagateForward(x, batch: batch, keepingInputs: false, training: true)
        let y = storage.map { scaledTargets(y, rows: batch, buffer: $0.scaledTargets) } ?? y
        return propagateBackward(y, inputs: a0, batch: batch, weights: weights).cost
    }

    /// W ← W − η ∂C/∂W, b ← b − η ∂C/∂b: the seed's w − (η/m) Σ_x ∂C_x/∂w, with the 1/m
    /// already folded into the stored gradients; or the step of the optimizer chosen in
    /// `trainingOptions`. The step is written beside θ and adopted only if every new value
    /// is finite, so a step from a divergent backward pass, or one that overflows, leaves
    /// the parameters as they were.
    func applyUpdate(learningRate eta: Float) throws(BackpropError) {
        try refuseDivergedLoss()
        // A NaN or infinite gradient makes its new parameter NaN or infinite under every
        // optimizer but iRprop−, which steps by the gradient's sign and would hide it.
        if optimizerState.stepsBySign { try refuseNonFiniteGradients() }
        let finite = optimizerState.apply(trainingOptions, learningRate: eta, parameters: parameters, gradients: gradients,
                                          into: nextParameters, pool: threads?.pool)
        try adoptNextParameters(finite: finite)
        tinyStep?._withUnsafeGuaranteedRef { $0.parametersChanged() }
    }

    func refuseDivergedLoss() throws(BackpropError) {
        guard gradientState != .diverged else {
            throw BackpropError(.diverged,
                "training diverged: the loss of the last backward pass is not finite; the parameters were left unchanged (try a smaller learning rate)")
        }
    }

    /// Adopts the step written beside θ when every new value is finite; otherwise refuses
    /// it, naming the cause.
    func adoptNextParameters(finite: Bool) throws(BackpropError) {
        guard finite else {
            try refuseNonFiniteGradients()
            throw BackpropError(.diverged,
                "training diverged: the update overflowed the parameters; they were left unchanged (try a smaller learning rate)")
        }
        swap(&parameters, &nextParameters)
        optimizerState.commit()
        gradientState = .applied
        forwardBatch = nil
    }

    /// Validates and adopts new training options. Choosing a different optimizer starts
    /// its state afresh (zero moments, RPROP steps at Δ₀); hyperparameter changes keep it.
    public func setTrainingOptions(_ options: TrainingOptions) throws(BackpropError) {
        try options.validate()
        if options.optimizer != trainingOptions.optimizer {
            optimizerState = try OptimizerState(for: options, count: parameterCount)
        }
        if options.schedule != trainingOptions.schedule { scheduleState = ScheduleState() }
        trainingOptions = options
    }

    /// Adopts decoded options, optimizer and schedule state (the model format).
    func restore(options: TrainingOptions, state: OptimizerState, schedule: ScheduleState) {
        trainingOptions = options
        optimizerState = state
        scheduleState = schedule
    }

    /// Refuses gradients that are NaN or infinite, which would destroy every parameter
    /// they touch.
    func refuseNonFiniteGradients() throws(BackpropError) {
        guard VectorKernels.allFinite(gradients, count: parameterCount) else {
            throw BackpropError(.diverged,
                "training diverged: a gradient is NaN or infinite; the parameters were left unchanged (try a smaller learning rate)")
        }
    }

    /// Sets the gradient state of a network decoded from a model file.
    func restore(gradientState state: GradientState) {
        gradientState = state
    }
}
