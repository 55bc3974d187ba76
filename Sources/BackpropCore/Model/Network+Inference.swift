extension Network {
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
        targetScaling?.invert(target, rows: batch)
    }

    /// Scratch memory for inference on up to `batch` samples: two hidden-layer buffers used
    /// in turn, a GEMM workspace when some product of that batch is worth packing, and a
    /// sparse product's workspace when some layer's input may be a ReLU's mostly-zero output.
    struct InferenceScratch {
        let hidden: UnsafeMutablePointer<Float>
        let hiddenCount: Int
        let workspace: GEMMWorkspace?
        let sparse: SparseGEMM.Workspace?

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
                body(InferenceScratch(hidden: base, hiddenCount: count, workspace: nil, sparse: nil))
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

        private init(hidden: UnsafeMutablePointer<Float>, hiddenCount: Int, workspace: GEMMWorkspace?,
                     sparse: SparseGEMM.Workspace?) {
            self.hidden = hidden
            self.hiddenCount = hiddenCount
            self.workspace = workspace
            self.sparse = sparse
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
            // Without it (no memory), the products stay dense: the same values, a little slower.
            let widest = network.layerSizes.max() ?? 1
            sparse = network.mayInferSparsely(batch: batch) ? try? SparseGEMM.Workspace(maxColumns: widest) : nil
        }

        /// Floats in each of the two hidden-layer buffers: batch × the widest hidden layer,
        /// or the input layer when the inputs are scaled (into the second buffer, which the
        /// first layer reads and does not write).
        private static func hiddenCount(network: Network, batch: Int) throws(BackpropError) -> Int {
            var width = network.inputScaling == nil ? 0 : network.inputSize
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
            sparse?.free()
        }
    }

    /// Whether some product of a `batch`-sample forward pass could multiply a ReLU's output
    /// from its nonzero entries alone.
    func mayInferSparsely(batch: Int) -> Bool {
        layers.indices.dropFirst().contains { index in
            layers[index - 1].activation == .relu
                && SparseGEMM.suits(m: batch, n: layers[index].width, k: layers[index].inputWidth)
        }
    }

    /// Whether some product of a `batch`-sample forward pass is worth packing.
    func needsPacking(batch: Int) -> Bool {
        layers.contains { !DirectGEMM.isPreferred(m: batch, n: $0.width, k: $0.inputWidth) }
    }

    /// a^L into `a` (and z^L into `z`, which may be the same buffer) for `batch` samples,
    /// reading only the parameters. Behind a ReLU whose output is mostly zeros, a product
    /// takes only its nonzero entries, as training's forward pass does (the same values).
    func infer(
        _ x: UnsafePointer<Float>, batch: Int, into a: UnsafeMutablePointer<Float>, z outputZ: UnsafeMutablePointer<Float>,
        scratch: InferenceScratch
    ) {
        var below = x
        if let inputScaling {
            let scaled = scratch.hidden + scratch.hiddenCount
            inputScaling.apply(x, into: scaled, rows: batch)
            below = UnsafePointer(scaled)
        }
        for (index, layer) in layers.enumerated() {
            let sparse = scratch.sparse.flatMap { workspace in
                index > 0 && Self.isMostlyZero(below, count: batch * layer.inputWidth, of: layers[index - 1]) ? workspace : nil
            }
            let skippedZeros: Bool
            if index == layers.count - 1 {
                skippedZeros = weightedInput(layer, below: below, batch: batch, into: outputZ, workspace: scratch.workspace,
                                             sparse: sparse, threads: nil)
                layer.activation.apply(z: outputZ, a: a, rows: batch, width: layer.width)
            } else {
                let hidden = scratch.hidden + (index % 2) * scratch.hiddenCount
                skippedZeros = weightedInput(layer, below: below, batch: batch, into: hidden, activating: .inPlace,
                                             workspace: scratch.workspace, sparse: sparse, threads: nil)
                below = UnsafePointer(hidden)
            }
            if skippedZeros { inferenceSkips.add(1, ordering: .relaxed) }
        }
    }

    /// The mean loss on `data`, and the accuracy when the network is a classifier: with a
    /// softmax or multi-unit sigmoid output, the fraction of samples whose largest output
    /// is where their target's largest value is; with a single sigmoid unit, the fraction
    /// on the same side of 0.5 as their target (`ClassifierRule`). NaN accuracy for other
    /// outputs. With `data.weights`, both are weighted means. Reads the network only, like
    /// `predict`.
    public func evaluate(_ data: DataSet) throws(BackpropError) -> (loss: Float, accuracy: Float) {
        let (x, y, w) = try validated(data)
        return try evaluate(x, y, count: data.count, weights: w)
    }

    /// `evaluate` on inputs, targets and weights already validated; `observe` sees each
    /// chunk's outputs and targets (rows, first row) as they are computed.
    func evaluate(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int, weights: SampleWeights? = nil,
        observe: ((_ outputs: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, _ rows: Int, _ start: Int) -> Void)? = nil
    ) throws(BackpropError) -> (loss: Float, accuracy: Float) {
        let chunk = min(count, 256)
        let scratch = try InferenceScratch(network: self, batch: chunk)
        defer { scratch.free() }
        let outputs = try Memory.allocateFloats(3 * chunk * outputSize, for: "evaluation outputs")
        defer { Memory.free(outputs) }
        let z = outputs + chunk * outputSize, scaled = z + chunk * outputSize
        let output = layers[layers.count - 1]
        let huberDelta = Float(trainingOptions.huberDelta)
        var totalCost: Double = 0
        var correct: Double = 0  // Σ w_x over the samples classified right (1 each unweighted)
        for start in stride(from: 0, to: count, by: chunk) {
            let rows = min(chunk, count - start)
            let raw = y + start * outputSize
            let targets = scaledTargets(raw, rows: rows, buffer: scaled)
            infer(x + start * inputSize, batch: rows, into: outputs, z: z, scratch: scratch)
            if let weights {
                totalCost += loss.weightedCost(z: z, a: outputs, y: targets, weights: weights.values + start, rows: rows,
                                               width: outputSize, activation: output.activation, huberDelta: huberDelta)
            } else {
                totalCost += Double(rows) * loss.meanCost(
                    z: z, a: outputs, y: targets, rows: rows, width: outputSize, activation: output.activation,
                    huberDelta: huberDelta)
            }
            for row in 0 ..< rows
            where ClassifierRule.isCorrect(outputs + row * outputSize, target: targets + row * outputSize, width: outputSize) {
                correct += weights.map { Double($0.values[start + row]) } ?? 1
            }
            if let observe {  // in the targets' own units
                targetScaling?.invert(outputs, rows: rows)
                observe(outputs, raw, rows, start)
            }
        }
        let total = weights?.sum ?? Double(count)
        let fraction = weights == nil ? Float(correct) / Float(count) : Float(correct / total)
        return (Float(totalCost / total), ClassifierRule.isClassifier(output: output.activation) ? fraction : .nan)
    }
}

extension Network {
    /// `evaluate`'s loss and accuracy with the other measures of `Metrics`, in one pass
    /// over `data` (weighted by `data.weights` when given). Reads the network only.
    public func metrics(_ data: DataSet) throws(BackpropError) -> Metrics {
        let (x, y, w) = try validated(data)
        let output = layers[layers.count - 1].activation
        var sums = MetricsAccumulator(width: outputSize, isClassifier: ClassifierRule.isClassifier(output: output))
        let (loss, accuracy) = try evaluate(x, y, count: data.count, weights: w) { outputs, targets, rows, start in
            sums.add(a: outputs, y: targets, rows: rows, weights: w.map { $0.values + start })
        }
        return sums.metrics(loss: loss, accuracy: accuracy)
    }
}
