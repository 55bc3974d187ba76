extension Network {
    /// Fails only before anything changed (when a larger batch cannot get memory). With
    /// `keepingInputs` (`forward`), a^0 is copied for `backward`, since the caller's buffer
    /// is not kept (unless the caller filled it in place: `fit`, which scales as it
    /// gathers); a training step reads the caller's inputs where they are and keeps no
    /// activations for `backward`, whether its update is adopted or refused. Inputs are
    /// scaled into a^0's buffer when the network has an input scaling. A `training` pass
    /// drops units of the hidden layers by the network's `dropout`. Returns a^0.
    @discardableResult
    func propagateForward(
        _ x: UnsafePointer<Float>, batch: Int, keepingInputs: Bool = true, training: Bool = false
    ) throws(BackpropError) -> UnsafePointer<Float> {
        let dropping = training ? try reserveDropoutBuffers(batch: batch) : nil
        let storage = try reserveStorage(batch: batch)
        let a0 = storage.activations[0]
        var inputs = x
        if x != UnsafePointer(a0) {
            if let inputScaling {
                inputScaling.apply(x, into: a0, rows: batch)
                inputs = UnsafePointer(a0)
            } else if keepingInputs {
                a0.update(from: x, count: batch * inputSize)
            }
        }
        // Hidden layers keep a^l = σ(z^l), and z^l too when σ' reads it; the output layer
        // keeps both for the loss.
        for (index, layer) in layers.enumerated() {
            let a = storage.activations[index + 1]
            let below = index == 0 ? inputs : input(of: index, storage: storage, dropped: dropping)
            let sparse = index > 0 && batch > 1 && isSparse(below, count: batch * layer.inputWidth, of: layers[index - 1])
                ? sparseWorkspace : nil
            let skippedZeros: Bool
            if index == layers.count - 1 {
                skippedZeros = weightedInput(layer, below: below, batch: batch, into: storage.outputZ, workspace: workspace,
                                             sparse: sparse, threads: threads)
                layer.activation.apply(z: storage.outputZ, a: a, rows: batch, width: layer.width)
            } else if let z = storage.hiddenZ[index] {
                skippedZeros = weightedInput(layer, below: below, batch: batch, into: z, activating: .beside(a),
                                             workspace: workspace, sparse: sparse, threads: threads)
            } else {
                skippedZeros = weightedInput(layer, below: below, batch: batch, into: a, activating: .inPlace,
                                             workspace: workspace, sparse: sparse, threads: threads)
            }
            if skippedZeros { productsSkippingZeros += 1 }
            if let dropout, let kept = dropping?.layers[index] {
                dropout.drop(a, into: kept.dropped, mask: kept.mask, count: batch * layer.width, layer: index + 1)
            }
        }
        if dropping != nil { dropout?.endPass() }
        forwardDropped = dropping != nil
        forwardBatch = keepingInputs ? batch : nil
        return inputs
    }

    /// What layers[index] reads (index > 0): a^index, or ã^index when a training pass
    /// dropped units of that layer.
    func input(of index: Int, storage: BatchStorage, dropped: DropoutBuffers?) -> UnsafePointer<Float> {
        UnsafePointer(dropped?.layers[index - 1]?.dropped ?? storage.activations[index])
    }

    /// Backpropagates through the activations of the last `propagateForward`, whose a^0 is
    /// `inputs`; returns the loss. With a rate η, also writes the plain-SGD step
    /// θ − η ∂C/∂θ into `nextParameters` and returns whether all of it is finite.
    func propagateBackward(
        _ targets: UnsafePointer<Float>, inputs: UnsafePointer<Float>?, batch: Int, weights: SampleWeights? = nil,
        descending eta: Float? = nil
    ) -> (cost: Float, stepFinite: Bool) {
        guard let storage, let inputs else { return (.nan, false) }
        tinyStepHoldsGradients = false  // every gradient is written below
        let top = layers.count - 1
        let output = layers[top]
        let cost = loss.outputDelta(
            z: storage.outputZ, a: storage.activations[layers.count], y: targets,
            rows: batch, width: output.width, activation: output.activation,
            huberDelta: Float(trainingOptions.huberDelta), weights: weights,
            delta: deltaBuffer(top, batch: batch, storage: storage))
        var stepFinite = true
        let dropped = forwardDropped ? dropoutBuffers : nil
        for index in layers.indices.reversed() {
            let below = index == 0 ? inputs : input(of: index, storage: storage, dropped: dropped)
            let delta = deltaBuffer(index, batch: batch, storage: storage)
            let sparse = batch > 1 && isSparse(delta, count: batch * layers[index].width, of: layers[index])
            let layerFinite = weightGradient(layers[index], delta: delta, sparse: sparse, below: below, batch: batch,
                                             descending: eta)
            stepFinite = stepFinite && layerFinite
            if index > 0 {
                let operand = storage.derivativeOperand(of: index - 1, activation: layers[index - 1].activation)
                let deltaBelow = deltaBuffer(index - 1, batch: batch, storage: storage)
                hiddenDelta(layers[index], delta: delta, sparse: sparse, below: layers[index - 1], operand: operand,
                            batch: batch, into: deltaBelow)
                if let mask = dropped?.layers[index - 1]?.mask {  // δ^l ⊙= m^l
                    Dropout.mask(deltaBelow, by: mask, count: batch * layers[index - 1].width)
                }
            }
        }
        gradientState = cost.isFinite ? .pending : .diverged
        return (cost, stepFinite)
    }

    /// Where δ^l of layers[index] is kept. For a single sample ∂C/∂b^l = δ^l, so δ^l is
    /// computed straight into its bias gradient; a batch alternates between two buffers.
    func deltaBuffer(_ index: Int, batch: Int, storage: BatchStorage) -> UnsafeMutablePointer<Float> {
        if batch == 1 { return gradients + layers[index].biasOffset }
        return index % 2 == 0 ? storage.deltas.0 : storage.deltas.1
    }

    /// Where `weightedInput` writes a^l = σ_l(z^l), if it does (elementwise σ only).
    enum ActivationOutput {
        /// z^l only.
        case none
        /// a^l over z^l.
        case inPlace
        /// a^l into this buffer, z^l kept.
        case beside(UnsafeMutablePointer<Float>)
    }

    /// z^l = W^l a^(l-1) + b^l for each sample of the batch, i.e. Z = 1 b^T + A (W^l)^T,
    /// and a^l = σ_l(z^l) as `activating` says. Given a `sparse` workspace (a^(l-1) is
    /// mostly zeros), from a^(l-1)'s nonzero entries alone where the shape suits; returns
    /// whether it did. Reads the network only, so inference calls it with workspaces of its own.
    @discardableResult
    func weightedInput(
        _ layer: Layer, below a: UnsafePointer<Float>, batch: Int, into z: UnsafeMutablePointer<Float>,
        activating: ActivationOutput = .none, workspace: GEMMWorkspace?, sparse: SparseGEMM.Workspace? = nil,
        threads: GEMMThreads?
    ) -> Bool {
        let bias = UnsafePointer(parameters + layer.biasOffset)
        let finish: Epilogue.Finish
        switch activating {
        case .none: finish = .none
        case .inPlace: finish = .activation(layer.activation)
        case .beside(let output): finish = .activationBeside(layer.activation, a: output)
        }
        guard batch > 1 else {
            MatrixVector.product(
                parameters + layer.weightOffset, rows: layer.width, columns: layer.inputWidth, rowStride: layer.inputWidth,
                x: a, adding: bias, into: z, pool: threads?.pool)
            Epilogue(bias: nil, finish: finish).apply(to: z, rows: 1, width: layer.width, ldc: layer.width)
            return false
        }
        let (inputs, weights) = (MatrixView.rowMajor(a, width: layer.inputWidth),
                                 MatrixView.transposed(parameters + layer.weightOffset, width: layer.inputWidth))
        let epilogue = Epilogue(bias: bias, finish: finish)
        guard let sparse, SparseGEMM.suits(m: batch, n: layer.width, k: layer.inputWidth) else {
            GEMM.multiply(
                m: batch, n: layer.width, k: layer.inputWidth, alpha: 1, inputs, weights,
                accumulate: false, into: z, ldc: layer.width, epilogue: epilogue, workspace: workspace, threads: threads)
            return false
        }
        SparseGEMM.multiply(m: batch, n: layer.width, k: layer.inputWidth, alpha: 1, inputs, weights, into: z,
                            ldc: layer.width, epilogue: epilogue, workspace: sparse, threads: threads)
        return true
    }

    /// Whether `count` values of a^l or δ^l of `layer` are worth multiplying by from their
    /// nonzero entries alone: the layer is a ReLU (zero wherever a unit was off), the
    /// network has the workspace, and `SparseGEMM` prefers them.
    func isSparse(_ operand: UnsafePointer<Float>, count: Int, of layer: Layer) -> Bool {
        sparseWorkspace != nil && Self.isMostlyZero(operand, count: count, of: layer)
    }

    /// Whether `count` values of a^l or δ^l of `layer` are zero often enough for
    /// `SparseGEMM`: the layer is a ReLU, and its sampled values are sparse enough.
    static func isMostlyZero(_ operand: UnsafePointer<Float>, count: Int, of layer: Layer) -> Bool {
        guard layer.activation == .relu else { return false }
        // The first 16K values tell well enough, and a wrong guess costs only time.
        let sample = min(count, 1 << 14)
        return SparseGEMM.prefers(nonzero: VectorKernels.nonzeroCount(operand, count: sample), of: sample)
    }

    /// C (m × n, leading dimension n) = α A B, then the epilogue: from A's nonzero entries
    /// alone (`SparseGEMM`) when A is `sparse` and the product suits it, else packed.
    func multiply(
        m: Int, n: Int, k: Int, alpha: Float, _ a: MatrixView, _ b: MatrixView, into c: UnsafeMutablePointer<Float>,
        epilogue: Epilogue, sparse: Bool
    ) {
        if sparse, let sparseWorkspace, SparseGEMM.suits(m: m, n: n, k: k) {
            productsSkippingZeros += 1
            SparseGEMM.multiply(m: m, n: n, k: k, alpha: alpha, a, b, into: c, ldc: n, epilogue: epilogue,
                                workspace: sparseWorkspace, threads: threads)
        } else {
            GEMM.multiply(m: m, n: n, k: k, alpha: alpha, a, b, accumulate: false, into: c, ldc: n, epilogue: epilogue,
                          workspace: workspace, threads: threads)
        }
    }

    /// δ^(l-1) = ((W^l)^T δ^l) ⊙ σ'(z^(l-1)) for each sample, i.e. Δ^(l-1) = (Δ^l W^l) ⊙ σ';
    /// from δ^l's nonzero entries alone when it is `sparse`.
    /// σ' of the layer below reads `operand`, a^(l-1) or z^(l-1) (`Activation.derivativeReads`).
    func hiddenDelta(
        _ layer: Layer, delta: UnsafePointer<Float>, sparse: Bool, below: Layer, operand: UnsafePointer<Float>,
        batch: Int, into result: UnsafeMutablePointer<Float>
    ) {
        guard batch > 1 else {
            MatrixVector.transposedProduct(
                parameters + layer.weightOffset, rows: layer.width, columns: layer.inputWidth, rowStride: layer.inputWidth,
                v: delta, vStride: 1, alpha: 1, accumulate: false, into: result)
            below.activation.multiplyByDerivative(result, operand: operand, count: layer.inputWidth)
            return
        }
        let (deltas, weights) = (MatrixView.rowMajor(delta, width: layer.width),
                                 MatrixView.rowMajor(parameters + layer.weightOffset, width: layer.inputWidth))
        multiply(m: batch, n: layer.inputWidth, k: layer.width, alpha: 1, deltas, weights, into: result,
                 epilogue: Epilogue(bias: nil, finish: .derivative(below.activation, operand: operand)), sparse: sparse)
    }

    /// ∂C/∂W^l = (1/m) Σ_x δ^l (a^(l-1))^T = (1/m) (Δ^l)^T A^(l-1) and ∂C/∂b^l = (1/m) Σ_x δ^l,
    /// the first from δ^l's nonzero entries alone when it is `sparse`.
    /// With a rate η, also the layer's plain-SGD step W^l − η ∂C/∂W^l, b^l − η ∂C/∂b^l into
    /// `nextParameters`; returns whether every value of that step is finite.
    func weightGradient(
        _ layer: Layer, delta: UnsafePointer<Float>, sparse: Bool, below a: UnsafePointer<Float>,
        batch: Int, descending eta: Float?
    ) -> Bool {
        guard batch > 1 else {  // ∂C/∂b^l = δ^l is already in place (see deltaBuffer)
            MatrixVector.outerProduct(delta, rows: layer.width, a, columns: layer.inputWidth, alpha: 1,
                                      into: gradients + layer.weightOffset)
            return descend(eta, range: layer.weightOffset ..< layer.parameterEnd)
        }
        let scale = 1 / Float(batch)
        let (deltas, inputs) = (MatrixView.transposed(delta, width: layer.width), MatrixView.rowMajor(a, width: layer.inputWidth))
        multiply(m: layer.width, n: layer.inputWidth, k: batch, alpha: scale, deltas, inputs,
                 into: gradients + layer.weightOffset, epilogue: .none, sparse: sparse)
        VectorKernels.columnSums(delta, rows: batch, width: layer.width, scale: scale, into: gradients + layer.biasOffset)
        return descend(eta, range: layer.weightOffset ..< layer.parameterEnd)
    }

    /// θ − η ∂C/∂θ into `nextParameters` for the parameters in `range` when there is a
    /// rate; whether the values written are finite.
    func descend(_ eta: Float?, range: Range<Int>) -> Bool {
        guard let eta else { return true }
        return optimizerState.apply(trainingOptions, learningRate: eta, parameters: parameters, gradients: gradients,
                                    into: nextParameters, range: range, pool: threads?.pool)
    }
}
