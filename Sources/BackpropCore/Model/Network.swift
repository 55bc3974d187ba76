import Synchronization

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
    var parameters: UnsafeMutablePointer<Float>
    var nextParameters: UnsafeMutablePointer<Float>
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
    let gradientBuffer: UnsafeMutablePointer<Float>
    var tinyStepHoldsGradients = false
    let workspace: GEMMWorkspace
    /// Where a ReLU layer's a^l or δ^l is gathered for `SparseGEMM`: created with the first
    /// batch that has a product to suit it (see `reserveStorage`).
    var sparseWorkspace: SparseGEMM.Workspace?
    /// How many matrix products of this network's forward and backward passes skipped the
    /// zeros of a ReLU layer's a^l or δ^l (`SparseGEMM`) rather than multiply by them: a
    /// diagnostic, since the results are the same either way.
    public internal(set) var productsSkippingZeros = 0
    /// The same for the products of `predict` and `evaluate`, counted atomically since any
    /// number of threads may infer with one network at once.
    public var inferenceProductsSkippingZeros: Int { inferenceSkips.load(ordering: .relaxed) }
    let inferenceSkips = Atomic<Int>(0)
    var storage: BatchStorage?
    /// The single-sample step of a network whose layers each fit one vector, if this is one.
    /// Held unmanaged (retained here, released in deinit) so that each step borrows it
    /// without the retain and release a stored reference costs, ~4% of a tiny step.
    let tinyStep: Unmanaged<TinyNetworkStep>?
    /// Whether a single sample's `trainStep` takes the tiny-network path (same results, less overhead).
    public var takesTinySteps: Bool { tinyStep != nil && dropout == nil }

    /// Threads a training step may use (the caller's included); see `setThreadCount`.
    public internal(set) var threadCount = Network.onlineCores
    /// Created with the first batch large enough to gain from more than one thread.
    var threads: GEMMThreads?

    /// The optimizer and its hyperparameters; change them with `setTrainingOptions`.
    public internal(set) var trainingOptions = TrainingOptions()
    var optimizerState: OptimizerState
    /// Where the learning-rate schedule stands (see `LearningRateSchedule`).
    public internal(set) var scheduleState = ScheduleState()
    /// The map applied to every input before layer 1, if any; see `setInputScaling`.
    public internal(set) var inputScaling: FeatureScaling?
    /// The map applied to every target before the loss, and inverted on the outputs, if
    /// any (regressors only); see `setTargetScaling`.
    public internal(set) var targetScaling: FeatureScaling?

    /// Inverted dropout of the hidden layers in training passes, if any; see `setDropout`.
    public internal(set) var dropout: Dropout?
    /// ã^l and m^l of the layers that drop, created with the first training pass.
    var dropoutBuffers: DropoutBuffers?

    /// The batch of the activations kept for `backward`, if they match the parameters.
    var forwardBatch: Int?
    /// Whether those activations are a training pass's, with units dropped.
    var forwardDropped = false
    var gradientState = GradientState.none

    enum GradientState {
        case none, pending, applied
        /// From a backward pass whose loss was NaN or infinite: readable, never applied.
        case diverged
    }

    /// Creates a network with parameters drawn by `initialization` from `seed`. The same
    /// scheme and seed give bit-identical parameters on every platform.
    public init(layerSizes: [Int], activations: [Activation], loss: Loss, seed: UInt64,
                initialization: Initialization = .heGlorotUniform) throws(BackpropError) {
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
        drawParameters(initialization, seed: seed)
    }

    deinit {
        Memory.free(parameters)
        Memory.free(nextParameters)
        Memory.free(gradientBuffer)
        workspace.free()
        sparseWorkspace?.free()
        storage?.free()
        dropoutBuffers?.free()
        tinyStep?.release()
        releaseThreads()
    }

    // MARK: Set-up

    /// θ drawn afresh by `scheme` from `seed` (see `Initialization`).
    func drawParameters(_ scheme: Initialization, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for layer in layers {
            let draw = scheme.draw(for: layer)
            draw.fill(parameters + layer.weightOffset, count: layer.weightCount, from: &generator)
            if draw.drawsBiases {
                draw.fill(parameters + layer.biasOffset, count: layer.width, from: &generator)
            } else {
                (parameters + layer.biasOffset).update(repeating: 0, count: layer.width)
            }
        }
    }


    /// Checks the architecture and lays out the flat parameter buffer.
    static func layers(sizes: [Int], activations: [Activation], loss: Loss) throws(BackpropError) -> [Layer] {
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
}

extension Network: CustomStringConvertible {
    public var description: String {
        let shape = layerSizes.map(String.init).joined(separator: "-")
        let sigmas = activations.map { "\($0)" }.joined(separator: ", ")
        return "Network(\(shape), \(sigmas), \(loss), \(parameterCount) parameters)"
    }
}
