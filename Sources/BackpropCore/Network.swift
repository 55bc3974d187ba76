/// A multilayer perceptron trained with the backpropagation algorithm:
///
///     z^l = W^l a^(l-1) + b^l,  a^l = σ_l(z^l)                        weightedInput
///     δ^L = C'(a^L) ⊙ σ'(z^L)                                          Loss.outputDelta
///     δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)                            hiddenDelta
///     ∂C/∂W^l = (1/m) Σ δ^l (a^(l-1))^T,  ∂C/∂b^l = (1/m) Σ δ^l        weightGradient
///     W ← W − η ∂C/∂W,  b ← b − η ∂C/∂b                               applyUpdate
///
/// Data is row-major, one sample per row. All parameters live in one flat buffer (for
/// l = 1…L: W^l row-major, then b^l); the gradients use the same layout.
///
/// Use a network from one thread at a time, except `predict` and `evaluate`, which only
/// read it and may run on many threads at once while nothing changes it.
public final class Network {
    public static let maxLayerCount = 1024
    public static let maxLayerSize = 1 << 24

    /// n_0 … n_L, the input layer first.
    public let layerSizes: [Int]
    /// σ_1 … σ_L.
    public let activations: [Activation]
    public let loss: Loss
    public let parameterCount: Int

    public var inputSize: Int { layerSizes[0] }
    public var outputSize: Int { layerSizes[layerSizes.count - 1] }

    let layers: [Layer]
    /// θ, and the buffer the next update is written into before the two are swapped.
    private(set) var parameters: UnsafeMutablePointer<Float>
    private var nextParameters: UnsafeMutablePointer<Float>
    /// ∂C/∂θ of the last backward pass. A tiny network's plain-SGD step leaves it in the
    /// step's slots (δ^l and a^(l-1)), and it is written out here on first access: every
    /// reader goes through this property, and whatever replaces the gradients first clears
    /// `tinyStepHoldsGradients`, so none can see a stale copy.
    var gradients: UnsafeMutablePointer<Float> {
        if tinyStepHoldsGradients, let tinyStep {
            tinyStep._withUnsafeGuaranteedRef { $0.writeGradients(into: gradientBuffer) }
            tinyStepHoldsGradients = false
        }
        return gradientBuffer
    }
    private let gradientBuffer: UnsafeMutablePointer<Float>
    private var tinyStepHoldsGradients = false
    private let workspace: GEMMWorkspace
    /// Where a ReLU layer's a^l or δ^l is gathered for `SparseGEMM`: created with the first
    /// batch that has a product to suit it (see `reserveStorage`).
    private var sparseWorkspace: SparseGEMM.Workspace?
    /// How many matrix products of this network's forward and backward passes skipped the
    /// zeros of a ReLU layer's a^l or δ^l (`SparseGEMM`) rather than multiply by them: a
    /// diagnostic, since the results are the same either way.
    public private(set) var productsSkippingZeros = 0
    private var storage: BatchStorage?
    /// The single-sample step of a network whose layers each fit one vector, if this is one.
    /// Held unmanaged (retained here, released in deinit) so that each step borrows it
    /// without the retain and release a stored reference costs, ~4% of a tiny step.
    private let tinyStep: Unmanaged<TinyNetworkStep>?
    /// Whether a single sample's `trainStep` takes the tiny-network path (same results, less overhead).
    public var takesTinySteps: Bool { tinyStep != nil }

    /// Threads a training step may use (the caller's included); see `setThreadCount`.
    public private(set) var threadCount = Network.onlineCores
    /// Created with the first batch large enough to gain from more than one thread.
    private var threads: GEMMThreads?

    /// The optimizer and its hyperparameters; change them with `setTrainingOptions`.
    public private(set) var trainingOptions = TrainingOptions()
    private(set) var optimizerState: OptimizerState

    /// The batch of the activations kept for `backward`, if they match the parameters.
    private var forwardBatch: Int?
    private(set) var gradientState = GradientState.none

    enum GradientState {
        case none, pending, applied
        /// From a backward pass whose loss was NaN or infinite: readable, never applied.
        case diverged
    }

    /// Creates a network with weights drawn from `seed` (see `Layer.initialWeightLimit`)
    /// and zero biases. The same seed gives bit-identical parameters on every platform.
    public init(layerSizes: [Int], activations: [Activation], loss: Loss, seed: UInt64) throws(BackpropError) {
        layers = try Self.layers(sizes: layerSizes, activations: activations, loss: loss)
        self.layerSizes = layerSizes
        self.activations = activations
        self.loss = loss
        parameterCount = layers[layers.count - 1].parameterEnd
        optimizerState = try OptimizerState(for: trainingOptions, count: parameterCount)
        // Parameters, their next values and the gradients, checked together.
        try Memory.checkBudget(floats: 3 * parameterCount, for: "a network of \(parameterCount) parameters")
        let padded = parameterCount + TinyNetworkStep.padding
        parameters = try Memory.allocateFloats(padded, for: "the parameters")
        do throws(BackpropError) {
            nextParameters = try Memory.allocateFloats(padded, for: "the parameters")
        } catch {
            Memory.free(parameters)
            throw error
        }
        do throws(BackpropError) {
            gradientBuffer = try Memory.allocateFloats(padded, for: "the gradients")
        } catch {
            Memory.free(parameters)
            Memory.free(nextParameters)
            throw error
        }
        do throws(BackpropError) {
            workspace = try GEMMWorkspace(maxColumns: layerSizes.max() ?? 1)
        } catch {
            Memory.free(parameters)
            Memory.free(nextParameters)
            Memory.free(gradientBuffer)
            throw error
        }
        tinyStep = TinyNetworkStep(layers: layers, loss: loss).map(Unmanaged.passRetained)
        gradientBuffer.initialize(repeating: 0, count: padded)
        (parameters + parameterCount).initialize(repeating: 0, count: TinyNetworkStep.padding)
        (nextParameters + parameterCount).initialize(repeating: 0, count: TinyNetworkStep.padding)
        initializeParameters(seed: seed)
    }

    deinit {
        Memory.free(parameters)
        Memory.free(nextParameters)
        Memory.free(gradientBuffer)
        workspace.free()
        sparseWorkspace?.free()
        storage?.free()
        tinyStep?.release()
        releaseThreads()
    }

    // MARK: Training

    /// Runs `batch` samples (`inputs`: batch × inputSize) through the network, writes a^L
    /// to `outputs` (batch × outputSize) when given, and keeps the activations for
    /// `backward`.
    public func forward(
        _ inputs: UnsafeBufferPointer<Float>, batch: Int, outputs: UnsafeMutableBufferPointer<Float>? = nil
    ) throws(BackpropError) {
        let source = try validated(inputs, count: inputCount(batch: batch), name: "inputs")
        if let outputs {
            try expect(outputs.count, equals: outputCount(batch: batch), name: "outputs")
        }
        try propagateForward(source, batch: batch)
        if let outputs, let target = outputs.baseAddress, let storage {
            target.update(from: storage.activations[layers.count], count: outputs.count)
        }
    }

    /// Backpropagates `targets` (batch × outputSize) through the activations of the last
    /// `forward`, which must have had the same batch; stores the batch-averaged gradients
    /// and returns the mean loss. Parameters are not changed.
    @discardableResult
    public func backward(_ targets: UnsafeBufferPointer<Float>, batch: Int) throws(BackpropError) -> Float {
        guard let forwardBatch else {
            throw BackpropError(.state,
                "backward needs the activations of a forward pass with the current parameters; call forward first")
        }
        guard forwardBatch == batch else {
            throw BackpropError(.state, "batch is \(batch) but the last forward pass had \(forwardBatch) samples")
        }
        let y = try validated(targets, count: outputCount(batch: batch), name: "targets")
        return propagateBackward(y, inputs: storage?.activations[0], batch: batch).cost
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
    /// samples; returns the batch's mean loss before the update. Every argument is
    /// validated before anything changes.
    @discardableResult
    public func trainStep(
        inputs: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>, batch: Int, learningRate eta: Float
    ) throws(BackpropError) -> Float {
        try validate(learningRate: eta)
        if batch == 1, let tinyStep {
            return try tinyStep._withUnsafeGuaranteedRef { tiny in
                Result { () throws(BackpropError) in try step(tiny, inputs: inputs, targets: targets, learningRate: eta) }
            }.get()
        }
        let x = try validated(inputs, count: inputCount(batch: batch), name: "inputs")
        let y = try validated(targets, count: outputCount(batch: batch), name: "targets")
        return try step(x, y, batch: batch, learningRate: eta)
    }

    /// `trainStep` for one sample of a tiny network. Its activations stay in the step's
    /// own slots, so none are kept for `backward`.
    private func step(
        _ tiny: TinyNetworkStep, inputs: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>,
        learningRate eta: Float
    ) throws(BackpropError) -> Float {
        // In the general path's order: inputs (count, then values), then targets. The
        // inputs are copied last, once nothing can fail: a^0 may hold the last step's ∂C/∂θ.
        let x = try validated(inputs, count: inputSize, name: "inputs")
        try expect(targets.count, equals: outputSize, name: "targets")
        guard let y = targets.baseAddress else { throw Self.emptyBuffer("targets", expected: outputSize) }
        guard tiny.gather(targets: y) else { throw nonFiniteError(targets, name: "targets") }
        forwardBatch = nil
        tinyStepHoldsGradients = false
        tiny.gather(inputs: x)
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
    func step(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, batch: Int, learningRate eta: Float) throws(BackpropError)
        -> Float
    {
        try propagateForward(x, batch: batch, keepingInputs: false)
        guard trainingOptions.isPlainSGD else {
            let cost = propagateBackward(y, inputs: x, batch: batch).cost
            try applyUpdate(learningRate: eta)
            return cost
        }
        let (cost, finite) = propagateBackward(y, inputs: x, batch: batch, descending: eta)
        try refuseDivergedLoss()
        try adoptNextParameters(finite: finite)
        tinyStep?._withUnsafeGuaranteedRef { $0.parametersChanged() }
        return cost
    }

    /// batch × inputSize, or an error when batch is not positive or the product overflows.
    public func inputCount(batch: Int) throws(BackpropError) -> Int {
        try Self.elementCount(batch: batch, width: inputSize, name: "inputs")
    }

    /// batch × outputSize, or an error when batch is not positive or the product overflows.
    public func outputCount(batch: Int) throws(BackpropError) -> Int {
        try Self.elementCount(batch: batch, width: outputSize, name: "outputs")
    }

    /// a^L for `batch` samples, like `forward`, but reading the network only: it keeps
    /// nothing for `backward` and uses scratch memory of its own, so any number of threads
    /// may predict with one network at once (as long as none is training it).
    public func predict(
        _ inputs: UnsafeBufferPointer<Float>, batch: Int, outputs: UnsafeMutableBufferPointer<Float>
    ) throws(BackpropError) {
        let x = try validated(inputs, count: inputCount(batch: batch), name: "inputs")
        try expect(outputs.count, equals: outputCount(batch: batch), name: "outputs")
        guard let target = outputs.baseAddress else { return }
        try InferenceScratch.with(network: self, batch: batch) { scratch in
            infer(x, batch: batch, into: target, z: target, scratch: scratch)
        }
    }

    /// Scratch memory for inference on up to `batch` samples: two hidden-layer buffers used
    /// in turn, and a GEMM workspace when some product of that batch is worth packing.
    struct InferenceScratch {
        let hidden: UnsafeMutablePointer<Float>
        let hiddenCount: Int
        let workspace: GEMMWorkspace?

        /// Scratch for a call that needs no packing workspace lives on the stack when it
        /// fits, so single samples and small networks predict without the heap (an
        /// allocation cost a 2-8-1 network's prediction 60%): up to 1 KiB uninitialised
        /// (withUnsafeTemporaryAllocation goes to the heap above that on Linux), up to
        /// 4 KiB in a zeroed local block.
        private typealias StackBlock = (SIMD64<Float>, SIMD64<Float>, SIMD64<Float>, SIMD64<Float>,
                                        SIMD64<Float>, SIMD64<Float>, SIMD64<Float>, SIMD64<Float>,
                                        SIMD64<Float>, SIMD64<Float>, SIMD64<Float>, SIMD64<Float>,
                                        SIMD64<Float>, SIMD64<Float>, SIMD64<Float>, SIMD64<Float>)
        private static let temporaryFloats = 256
        private static let blockFloats = MemoryLayout<StackBlock>.size / MemoryLayout<Float>.stride

        /// Runs `body` with scratch memory for inference on `batch` samples.
        static func with(network: Network, batch: Int, _ body: (InferenceScratch) -> Void) throws(BackpropError) {
            let count = try hiddenCount(network: network, batch: batch)
            let onStack = !network.needsPacking(batch: batch)
            func run(_ floats: UnsafeMutableBufferPointer<Float>) {
                guard let base = floats.baseAddress else { return }
                body(InferenceScratch(hidden: base, hiddenCount: count, workspace: nil))
            }
            if onStack && 2 * count <= temporaryFloats {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: temporaryFloats, run)
                return
            }
            if onStack && 2 * count <= blockFloats {
                var block: StackBlock = (.init(), .init(), .init(), .init(), .init(), .init(), .init(), .init(),
                                         .init(), .init(), .init(), .init(), .init(), .init(), .init(), .init())
                withUnsafeMutableBytes(of: &block) { run($0.bindMemory(to: Float.self)) }
                return
            }
            let scratch = try InferenceScratch(network: network, batch: batch)
            defer { scratch.free() }
            body(scratch)
        }

        private init(hidden: UnsafeMutablePointer<Float>, hiddenCount: Int, workspace: GEMMWorkspace?) {
            self.hidden = hidden
            self.hiddenCount = hiddenCount
            self.workspace = workspace
        }

        /// Heap memory, released by `free`.
        init(network: Network, batch: Int) throws(BackpropError) {
            let count = try Self.hiddenCount(network: network, batch: batch)
            hidden = try Memory.allocateFloats(2 * count, for: "inference on \(batch) samples")
            hiddenCount = count
            do throws(BackpropError) {
                workspace = network.needsPacking(batch: batch)
                    ? try GEMMWorkspace(maxColumns: network.layerSizes.max() ?? 1) : nil
            } catch {
                Memory.free(hidden)
                throw error
            }
        }

        /// Floats in each of the two hidden-layer buffers: batch × the widest hidden layer.
        private static func hiddenCount(network: Network, batch: Int) throws(BackpropError) -> Int {
            var width = 0
            for layer in network.layers.dropLast() { width = max(width, layer.width) }
            let (count, overflow) = batch.multipliedReportingOverflow(by: width)
            guard !overflow, count <= Int.max / 2 else {
                throw BackpropError(.sizeOverflow, "a batch of \(batch) samples of \(width) units overflows")
            }
            return count
        }

        func free() {
            Memory.free(hidden)
            workspace?.free()
        }
    }

    /// Whether some product of a `batch`-sample forward pass is worth packing.
    private func needsPacking(batch: Int) -> Bool {
        layers.contains { !DirectGEMM.isPreferred(m: batch, n: $0.width, k: $0.inputWidth) }
    }

    /// a^L into `a` (and z^L into `z`, which may be the same buffer) for `batch` samples,
    /// reading only the parameters.
    func infer(
        _ x: UnsafePointer<Float>, batch: Int, into a: UnsafeMutablePointer<Float>, z outputZ: UnsafeMutablePointer<Float>,
        scratch: InferenceScratch
    ) {
        var below = x
        for (index, layer) in layers.enumerated() {
            let isOutput = index == layers.count - 1
            if isOutput {
                weightedInput(layer, below: below, batch: batch, into: outputZ, workspace: scratch.workspace, threads: nil)
                layer.activation.apply(z: outputZ, a: a, rows: batch, width: layer.width)
            } else {
                let hidden = scratch.hidden + (index % 2) * scratch.hiddenCount
                weightedInput(layer, below: below, batch: batch, into: hidden, activating: true, workspace: scratch.workspace,
                              threads: nil)
                below = UnsafePointer(hidden)
            }
        }
    }

    // MARK: Parameters

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

    // MARK: The algorithm

    /// Fails only before anything changed (when a larger batch cannot get memory). With
    /// `keepingInputs` (`forward`), a^0 is copied for `backward`, since the caller's buffer
    /// is not kept (unless the caller filled it in place); a training step reads the
    /// caller's inputs where they are and keeps no activations for `backward`, whether its
    /// update is adopted or refused.
    func propagateForward(_ inputs: UnsafePointer<Float>, batch: Int, keepingInputs: Bool = true) throws(BackpropError) {
        let storage = try reserveStorage(batch: batch)
        if keepingInputs, inputs != UnsafePointer(storage.activations[0]) {
            storage.activations[0].update(from: inputs, count: batch * inputSize)
        }
        // Hidden layers keep only a^l = σ(z^l); the output layer also keeps z^L for the loss.
        for (index, layer) in layers.enumerated() {
            let a = storage.activations[index + 1]
            let below = index == 0 ? inputs : UnsafePointer(storage.activations[index])
            let sparse = index > 0 && batch > 1 && isSparse(below, count: batch * layer.inputWidth, of: layers[index - 1])
            if index == layers.count - 1 {
                weightedInput(layer, below: below, batch: batch, into: storage.outputZ, workspace: workspace, sparse: sparse,
                              threads: threads)
                layer.activation.apply(z: storage.outputZ, a: a, rows: batch, width: layer.width)
            } else {
                weightedInput(layer, below: below, batch: batch, into: a, activating: true, workspace: workspace,
                              sparse: sparse, threads: threads)
            }
        }
        forwardBatch = keepingInputs ? batch : nil
    }

    /// Backpropagates through the activations of the last `propagateForward`, whose a^0 is
    /// `inputs`; returns the loss. With a rate η, also writes the plain-SGD step
    /// θ − η ∂C/∂θ into `nextParameters` and returns whether all of it is finite.
    func propagateBackward(
        _ targets: UnsafePointer<Float>, inputs: UnsafePointer<Float>?, batch: Int, descending eta: Float? = nil
    ) -> (cost: Float, stepFinite: Bool) {
        guard let storage, let inputs else { return (.nan, false) }
        tinyStepHoldsGradients = false  // every gradient is written below
        let top = layers.count - 1
        let output = layers[top]
        let cost = loss.outputDelta(
            z: storage.outputZ, a: storage.activations[layers.count], y: targets,
            rows: batch, width: output.width, activation: output.activation,
            delta: deltaBuffer(top, batch: batch, storage: storage))
        var stepFinite = true
        for index in layers.indices.reversed() {
            let below = index == 0 ? inputs : UnsafePointer(storage.activations[index])
            let delta = deltaBuffer(index, batch: batch, storage: storage)
            let sparse = batch > 1 && isSparse(delta, count: batch * layers[index].width, of: layers[index])
            let layerFinite = weightGradient(layers[index], delta: delta, sparse: sparse, below: below, batch: batch,
                                             descending: eta)
            stepFinite = stepFinite && layerFinite
            if index > 0 {
                hiddenDelta(layers[index], delta: delta, sparse: sparse, below: layers[index - 1], a: below, batch: batch,
                            into: deltaBuffer(index - 1, batch: batch, storage: storage))
            }
        }
        gradientState = cost.isFinite ? .pending : .diverged
        return (cost, stepFinite)
    }

    /// Where δ^l of layers[index] is kept. For a single sample ∂C/∂b^l = δ^l, so δ^l is
    /// computed straight into its bias gradient; a batch alternates between two buffers.
    private func deltaBuffer(_ index: Int, batch: Int, storage: BatchStorage) -> UnsafeMutablePointer<Float> {
        if batch == 1 { return gradients + layers[index].biasOffset }
        return index % 2 == 0 ? storage.deltas.0 : storage.deltas.1
    }

    /// z^l = W^l a^(l-1) + b^l for each sample of the batch, i.e. Z = 1 b^T + A (W^l)^T;
    /// when `activating`, a^l = σ_l(z^l) is written instead (elementwise σ only). When a^(l-1)
    /// is `sparse`, from its nonzero entries alone (training only: `infer` passes no
    /// workspace of the network's).
    private func weightedInput(
        _ layer: Layer, below a: UnsafePointer<Float>, batch: Int, into z: UnsafeMutablePointer<Float>,
        activating: Bool = false, workspace: GEMMWorkspace?, sparse: Bool = false, threads: GEMMThreads?
    ) {
        let bias = UnsafePointer(parameters + layer.biasOffset)
        guard batch > 1 else {
            MatrixVector.product(
                parameters + layer.weightOffset, rows: layer.width, columns: layer.inputWidth, rowStride: layer.inputWidth,
                x: a, adding: bias, into: z, pool: threads?.pool)
            if activating { layer.activation.apply(z: z, a: z, rows: 1, width: layer.width) }
            return
        }
        let (inputs, weights) = (MatrixView.rowMajor(a, width: layer.inputWidth),
                                 MatrixView.transposed(parameters + layer.weightOffset, width: layer.inputWidth))
        let epilogue = Epilogue(bias: bias, finish: activating ? .activation(layer.activation) : .none)
        guard sparse else {
            GEMM.multiply(
                m: batch, n: layer.width, k: layer.inputWidth, alpha: 1, inputs, weights,
                accumulate: false, into: z, ldc: layer.width, epilogue: epilogue, workspace: workspace, threads: threads)
            return
        }
        multiply(m: batch, n: layer.width, k: layer.inputWidth, alpha: 1, inputs, weights, into: z, epilogue: epilogue,
                 sparse: true)
    }

    /// Whether `count` values of a^l or δ^l of `layer` are worth multiplying by from their
    /// nonzero entries alone: the layer is a ReLU (zero wherever a unit was off), the
    /// network has the workspace, and `SparseGEMM` prefers them.
    private func isSparse(_ operand: UnsafePointer<Float>, count: Int, of layer: Layer) -> Bool {
        guard layer.activation == .relu, sparseWorkspace != nil else { return false }
        // The first 16K values tell well enough, and a wrong guess costs only time.
        let sample = min(count, 1 << 14)
        return SparseGEMM.prefers(nonzero: VectorKernels.nonzeroCount(operand, count: sample), of: sample)
    }

    /// C (m × n, leading dimension n) = α A B, then the epilogue: from A's nonzero entries
    /// alone (`SparseGEMM`) when A is `sparse` and the product suits it, else packed.
    private func multiply(
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
    private func hiddenDelta(
        _ layer: Layer, delta: UnsafePointer<Float>, sparse: Bool, below: Layer, a: UnsafePointer<Float>,
        batch: Int, into result: UnsafeMutablePointer<Float>
    ) {
        guard batch > 1 else {
            MatrixVector.transposedProduct(
                parameters + layer.weightOffset, rows: layer.width, columns: layer.inputWidth, rowStride: layer.inputWidth,
                v: delta, vStride: 1, alpha: 1, accumulate: false, into: result)
            below.activation.multiplyByDerivative(result, a: a, count: layer.inputWidth)
            return
        }
        let (deltas, weights) = (MatrixView.rowMajor(delta, width: layer.width),
                                 MatrixView.rowMajor(parameters + layer.weightOffset, width: layer.inputWidth))
        multiply(m: batch, n: layer.inputWidth, k: layer.width, alpha: 1, deltas, weights, into: result,
                 epilogue: Epilogue(bias: nil, finish: .derivative(below.activation, a: a)), sparse: sparse)
    }

    /// ∂C/∂W^l = (1/m) Σ_x δ^l (a^(l-1))^T = (1/m) (Δ^l)^T A^(l-1) and ∂C/∂b^l = (1/m) Σ_x δ^l,
    /// the first from δ^l's nonzero entries alone when it is `sparse`.
    /// With a rate η, also the layer's plain-SGD step W^l − η ∂C/∂W^l, b^l − η ∂C/∂b^l into
    /// `nextParameters`; returns whether every value of that step is finite.
    private func weightGradient(
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
    private func descend(_ eta: Float?, range: Range<Int>) -> Bool {
        guard let eta else { return true }
        return optimizerState.apply(trainingOptions, learningRate: eta, parameters: parameters, gradients: gradients,
                                    into: nextParameters, range: range, pool: threads?.pool)
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
        if trainingOptions.optimizer == .rprop { try refuseNonFiniteGradients() }
        let finite = optimizerState.apply(trainingOptions, learningRate: eta, parameters: parameters, gradients: gradients,
                                          into: nextParameters, pool: threads?.pool)
        try adoptNextParameters(finite: finite)
        tinyStep?._withUnsafeGuaranteedRef { $0.parametersChanged() }
    }

    private func refuseDivergedLoss() throws(BackpropError) {
        guard gradientState != .diverged else {
            throw BackpropError(.diverged,
                "training diverged: the loss of the last backward pass is not finite; the parameters were left unchanged (try a smaller learning rate)")
        }
    }

    /// Adopts the step written beside θ when every new value is finite; otherwise refuses
    /// it, naming the cause.
    private func adoptNextParameters(finite: Bool) throws(BackpropError) {
        guard finite else {
            try refuseNonFiniteGradients()
            throw BackpropError(.diverged,
                "training diverged: the update overflowed the parameters; they were left unchanged (try a smaller learning rate)")
        }
        swap(&parameters, &nextParameters)
        optimizerState.commit(trainingOptions)
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
        trainingOptions = options
    }

    /// Adopts decoded options and optimizer state (the model format).
    func restore(options: TrainingOptions, state: OptimizerState) {
        trainingOptions = options
        optimizerState = state
    }

    /// Refuses gradients that are NaN or infinite, which would destroy every parameter
    /// they touch.
    private func refuseNonFiniteGradients() throws(BackpropError) {
        guard VectorKernels.allFinite(gradients, count: parameterCount) else {
            throw BackpropError(.diverged,
                "training diverged: a gradient is NaN or infinite; the parameters were left unchanged (try a smaller learning rate)")
        }
    }

    /// Sets the gradient state of a network decoded from a model file.
    func restore(gradientState state: GradientState) {
        gradientState = state
    }

    // MARK: Set-up and validation

    private func initializeParameters(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for layer in layers {
            let limit = layer.initialWeightLimit
            for i in 0 ..< layer.weightCount {
                parameters[layer.weightOffset + i] = Float(generator.nextSymmetric(limit: limit))
            }
            (parameters + layer.biasOffset).update(repeating: 0, count: layer.width)
        }
    }

    /// The buffer that holds a^0 for batches of up to `batch` samples, for a caller that
    /// gathers its inputs straight into it instead of into a buffer of its own.
    func inputBuffer(batch: Int) throws(BackpropError) -> UnsafeMutablePointer<Float> {
        try reserveStorage(batch: batch).activations[0]
    }

    private func reserveStorage(batch: Int) throws(BackpropError) -> BatchStorage {
        if let storage, storage.capacity >= batch { return storage }
        let grown = try BatchStorage(layerSizes: layerSizes, capacity: batch)
        storage?.free()
        storage = grown
        forwardBatch = nil  // the kept activations went with the old buffers
        startThreadsIfWorthwhile(batch: batch)
        reserveSparseWorkspace(batch: batch)
        return grown
    }

    /// Allocates `SparseGEMM`'s workspace once some product of a `batch`-sample step with a
    /// ReLU layer's a^l or δ^l suits it. Without memory those products simply stay dense.
    private func reserveSparseWorkspace(batch: Int) {
        guard sparseWorkspace == nil else { return }
        let suited = layers.indices.contains { index in
            let layer = layers[index]
            let above = index + 1 < layers.count ? layers[index + 1].width : 0
            return layer.activation == .relu
                && (SparseGEMM.suits(m: layer.width, n: layer.inputWidth, k: batch)
                    || SparseGEMM.suits(m: batch, n: above, k: layer.width))
        }
        if suited { sparseWorkspace = try? SparseGEMM.Workspace(maxColumns: layerSizes.max() ?? 1) }
    }

    // MARK: Threads

    public static let maxThreadCount = 256

    static let onlineCores = min(ThreadPool.onlineCores, maxThreadCount)

    /// Sets how many threads a training step may use; 0 restores the default, the number
    /// of online cores. Large products are split across them; results are the same for
    /// any thread count. Inference (`predict`, `evaluate`) always uses the calling thread.
    public func setThreadCount(_ count: Int) throws(BackpropError) {
        guard (0 ... Self.maxThreadCount).contains(count) else {
            throw BackpropError(.invalidArgument, "thread count is \(count); expected 0 (all cores) to \(Self.maxThreadCount)")
        }
        releaseThreads()
        threadCount = count == 0 ? Self.onlineCores : count
        if let storage { startThreadsIfWorthwhile(batch: storage.capacity) }
    }

    /// Starts the worker threads, with a packing workspace each, when some product of a
    /// `batch`-sample step is large enough to split, or the update is (a network of
    /// `OptimizerState.minimumParallelCount` parameters). Without memory or threads the
    /// network simply stays on one thread.
    private func startThreadsIfWorthwhile(batch: Int) {
        guard threads == nil, threadCount > 1 else { return }
        // The three products of each layer: forward, weight gradient, hidden delta.
        let splitsProducts = layers.contains { layer in
            (batch == 1 && GEMMThreads.multiplyAdds(layer.width, layer.inputWidth, 1) >= MatrixVector.minimumParallelWork)
                || GEMMThreads.splits(m: batch, n: layer.width, k: layer.inputWidth, parts: threadCount)
                || GEMMThreads.splits(m: layer.width, n: layer.inputWidth, k: batch, parts: threadCount)
                || GEMMThreads.splits(m: batch, n: layer.inputWidth, k: layer.width, parts: threadCount)
        }
        guard splitsProducts || parameterCount >= OptimizerState.minimumParallelCount else { return }
        let pool = ThreadPool(threads: threadCount)
        var workspaces = [workspace]
        for _ in 1 ..< pool.threadCount {
            guard let extra = try? GEMMWorkspace(maxColumns: layerSizes.max() ?? 1) else { break }
            workspaces.append(extra)
        }
        guard workspaces.count == pool.threadCount, pool.threadCount > 1 else {
            workspaces.dropFirst().forEach { $0.free() }
            return
        }
        threads = GEMMThreads(pool: pool, workspaces: workspaces)
    }

    private func releaseThreads() {
        threads?.workspaces.dropFirst().forEach { $0.free() }
        threads = nil
    }

    /// Checks the architecture and lays out the flat parameter buffer.
    private static func layers(sizes: [Int], activations: [Activation], loss: Loss) throws(BackpropError) -> [Layer] {
        guard sizes.count >= 2 else {
            throw BackpropError(.invalidArgument,
                "the network has \(sizes.count) layer(s); it needs at least an input and an output layer (2)")
        }
        guard sizes.count <= maxLayerCount else {
            throw BackpropError(.sizeOverflow, "the network has \(sizes.count) layers; at most \(maxLayerCount) are supported")
        }
        guard activations.count == sizes.count - 1 else {
            throw BackpropError(.sizeMismatch,
                "there are \(activations.count) activations for \(sizes.count) layers; expected one per layer after the input (\(sizes.count - 1))")
        }
        for (index, size) in sizes.enumerated() {
            guard size > 0 else {
                throw BackpropError(.invalidArgument, "layer \(index) has \(size) units; every layer needs at least one unit")
            }
            guard size <= maxLayerSize else {
                throw BackpropError(.sizeOverflow, "layer \(index) has \(size) units; at most \(maxLayerSize) are supported")
            }
        }
        let output = sizes.count - 1
        if let hidden = activations.dropLast().firstIndex(of: .softmax) {
            throw BackpropError(.invalidArchitecture,
                "layer \(hidden + 1) uses softmax, which is only supported on the output layer (layer \(output))")
        }
        guard loss.supports(output: activations[output - 1]) else {
            throw BackpropError(.invalidArchitecture,
                "cross-entropy needs a softmax or sigmoid output layer, but layer \(output) uses \(activations[output - 1])")
        }
        var layers: [Layer] = []
        var offset = 0
        for l in 1 ... output {
            let weights = sizes[l] * sizes[l - 1]  // both ≤ 2^24: cannot overflow
            let (end, overflow) = offset.addingReportingOverflow(weights + sizes[l])
            guard !overflow else {
                throw BackpropError(.sizeOverflow, "the parameter count of these layer sizes overflows")
            }
            layers.append(Layer(inputWidth: sizes[l - 1], width: sizes[l], activation: activations[l - 1],
                                weightOffset: offset, biasOffset: offset + weights))
            offset = end
        }
        return layers
    }

    // The checks below run on every call, a tiny network's step included: each is inlined,
    // and the error it throws is built out of line.

    @inline(__always)
    private static func elementCount(batch: Int, width: Int, name: String) throws(BackpropError) -> Int {
        let (count, overflow) = batch.multipliedReportingOverflow(by: width)
        guard batch > 0, !overflow else { throw countError(batch: batch, width: width, name: name) }
        return count
    }

    @inline(never)
    private static func countError(batch: Int, width: Int, name: String) -> BackpropError {
        batch > 0
            ? BackpropError(.sizeOverflow, "batch \(batch) × \(width) \(name) per sample overflows")
            : BackpropError(.invalidArgument, "batch is \(batch); pass at least one sample")
    }

    @inline(__always)
    func validate(learningRate eta: Float) throws(BackpropError) {
        guard eta.isFinite, eta >= 0 else { throw Self.learningRateError(eta) }
    }

    @inline(never)
    private static func learningRateError(_ eta: Float) -> BackpropError {
        eta.isFinite
            ? BackpropError(.invalidArgument, "learning rate is \(eta); it must be ≥ 0")
            : BackpropError(.nonFinite, "learning rate is \(eta); it must be a finite number ≥ 0")
    }

    @inline(__always)
    func expect(_ count: Int, equals expected: Int, name: String) throws(BackpropError) {
        guard count == expected else { throw Self.countMismatch(count, expected: expected, name: name) }
    }

    @inline(never)
    private static func countMismatch(_ count: Int, expected: Int, name: String) -> BackpropError {
        BackpropError(.sizeMismatch, "\(name) holds \(count) floats; expected \(expected)")
    }

    /// The buffer's base address once its count and values are checked.
    @inline(__always)
    func validated(_ buffer: UnsafeBufferPointer<Float>, count: Int, name: String) throws(BackpropError)
        -> UnsafePointer<Float>
    {
        try expect(buffer.count, equals: count, name: name)
        guard let base = buffer.baseAddress else { throw Self.emptyBuffer(name, expected: count) }
        guard VectorKernels.allFinite(base, count: count) else { throw nonFiniteError(buffer, name: name) }
        return base
    }

    @inline(never)
    private static func emptyBuffer(_ name: String, expected count: Int) -> BackpropError {
        BackpropError(.sizeMismatch, "\(name) is empty; expected \(count) floats")
    }

    /// The error for a buffer with a NaN or infinite value, naming the first.
    private func nonFiniteError(_ buffer: UnsafeBufferPointer<Float>, name: String) -> BackpropError {
        let index = buffer.firstIndex { !$0.isFinite } ?? 0
        return BackpropError(.nonFinite, "\(name)[\(index)] is \(buffer[index]); every value must be finite")
    }
}

extension Network: CustomStringConvertible {
    public var description: String {
        let shape = layerSizes.map(String.init).joined(separator: "-")
        let sigmas = activations.map { "\($0)" }.joined(separator: ", ")
        return "Network(\(shape), \(sigmas), \(loss), \(parameterCount) parameters)"
    }
}
