extension Network {
    /// Copies the flat parameters into `buffer`, which holds exactly `parameterCount` floats.
    public func copyParameters(into buffer: UnsafeMutableBufferPointer<Float>) throws(BackpropError) {
        try expect(buffer.count, equals: parameterCount, name: "the parameter buffer")
        buffer.baseAddress?.update(from: parameters, count: parameterCount)
    }

    /// Replaces every parameter. Kept activations and pending gradients belonged to the
    /// old parameters and are discarded.
    public func setParameters(_ values: UnsafeBufferPointer<Float>) throws(BackpropError) {
        let source = try validated(values, count: parameterCount, name: "parameters")
        parameters.update(from: source, count: parameterCount)
        parametersChanged()
    }

    /// Draws every parameter afresh by `scheme` from `seed`, and starts training over: the
    /// network is then the one `init(…, seed: seed, initialization: scheme)` creates, with
    /// the training options and thread count it had (the optimizer's and the schedule's
    /// states start again).
    public func initialize(_ scheme: Initialization, seed: UInt64) throws(BackpropError) {
        let freshState = try OptimizerState(for: trainingOptions, count: parameterCount)
        drawParameters(scheme, seed: seed)
        optimizerState = freshState
        scheduleState = ScheduleState()
        dropout?.passes = 0
        parametersChanged()
    }

    /// Kept activations and pending gradients belonged to the old parameters.
    private func parametersChanged() {
        tinyStep?._withUnsafeGuaranteedRef { $0.parametersChanged() }
        forwardBatch = nil
        gradientState = .none
        tinyStepHoldsGradients = false
    }

    /// Copies the gradients of the last `backward` into `buffer` (`parameterCount` floats).
    public func copyGradients(into buffer: UnsafeMutableBufferPointer<Float>) throws(BackpropError) {
        guard gradientState != .none else {
            throw BackpropError(.state, "there are no gradients yet; call forward and backward first")
        }
        try expect(buffer.count, equals: parameterCount, name: "the gradient buffer")
        buffer.baseAddress?.update(from: gradients, count: parameterCount)
    }

    /// Replaces the pending gradients of the last `backward` (`parameterCount` finite
    /// floats), for the next `update` to apply: the reduction step of a data-parallel loop.
    /// The update then depends on these gradients alone, so processes that set the same
    /// ones take the same step, whatever their own losses were.
    public func setGradients(_ values: UnsafeBufferPointer<Float>) throws(BackpropError) {
        guard gradientState == .pending || gradientState == .diverged else {
            throw BackpropError(.state, gradientState == .applied
                ? "the gradients of the last backward pass were already applied; set gradients between backward and update"
                : "there are no gradients to replace; call forward and backward first")
        }
        let source = try validated(values, count: parameterCount, name: "gradients")
        tinyStepHoldsGradients = false
        gradientBuffer.update(from: source, count: parameterCount)
        gradientState = .pending
    }
}
