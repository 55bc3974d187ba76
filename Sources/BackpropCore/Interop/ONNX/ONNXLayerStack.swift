/// What `ONNXImport` has recognised so far, in graph order: an input scaling, then affine
/// layers z^l = W^l a^(l-1) + b^l each followed by at most one σ_l, then an output scaling.
/// Each `add` checks that its step may come where it does, and `network` builds the
/// library's network from the whole.
struct ONNXLayerStack {
    struct AffineLayer {
        /// W^l, n_l × n_(l-1), row-major, as the library stores it.
        var weights: [Float]
        var biases: [Float]
        let inputWidth: Int
        var activation: Activation?
        var width: Int { biases.count }
    }

    private(set) var layers: [AffineLayer] = []
    private var inputShift: [Float]?
    private var inputScale: [Float]?
    private var outputScale: [Float]?
    private var outputShift: [Float]?

    /// The width of the current value, when known: the graph input's declared features
    /// before the first layer, then n_l.
    var width: Int?

    var hasLayers: Bool { !layers.isEmpty }
    var hasOutputScaling: Bool { outputScale != nil || outputShift != nil }

    mutating func addLayer(_ layer: AffineLayer, at node: String) throws(BackpropError) {
        guard !hasOutputScaling else {
            throw ONNXImport.unsupported("\(node) follows the output's scaling (a Div or Add after the last activation)")
        }
        if let width, width != layer.inputWidth {
            throw ONNXImport.unsupported("\(node) takes \(layer.inputWidth) inputs, but the value it reads has \(width)")
        }
        layers.append(layer)
        width = layer.width
    }

    mutating func addActivation(_ activation: Activation, at node: String) throws(BackpropError) {
        guard let last = layers.indices.last, !hasOutputScaling else {
            throw ONNXImport.unsupported("\(node) applies \(activation.name) where no Gemm or MatMul layer precedes it")
        }
        if let existing = layers[last].activation {
            throw ONNXImport.unsupported("\(node) applies \(activation.name) to the output of \(existing.name): a layer has one activation")
        }
        layers[last].activation = activation
    }

    /// Sub(x, shift) before the first layer.
    mutating func addInputShift(_ values: [Float], at node: String) throws(BackpropError) {
        guard !hasLayers, inputShift == nil, inputScale == nil else {
            throw ONNXImport.unsupported("\(node) subtracts a constant where the library has no such step (only before the first layer, once)")
        }
        inputShift = values
    }

    /// Mul(x, scale) before the first layer.
    mutating func addInputScale(_ values: [Float], at node: String) throws(BackpropError) {
        guard !hasLayers, inputScale == nil else {
            throw ONNXImport.unsupported("\(node) multiplies by a constant where the library has no such step (only before the first layer, once)")
        }
        inputScale = values
    }

    /// Add(z, c) after a layer: its bias when the layer has no activation yet (MatMul + Add),
    /// else the output's shift.
    mutating func addConstant(_ values: [Float], at node: String) throws(BackpropError) {
        guard let last = layers.indices.last else {
            throw ONNXImport.unsupported("\(node) adds a constant before any Gemm or MatMul layer")
        }
        if layers[last].activation == nil && !hasOutputScaling {
            let bias = try broadcast(values, to: layers[last].width, at: node)
            for j in bias.indices { layers[last].biases[j] += bias[j] }
            return
        }
        guard outputShift == nil else {
            throw ONNXImport.unsupported("\(node) adds a second constant to the output")
        }
        outputShift = values
    }

    /// Div(a^L, scale) after the last layer, before its shift.
    mutating func addOutputScale(_ values: [Float], at node: String) throws(BackpropError) {
        guard hasLayers, !hasOutputScaling else {
            throw ONNXImport.unsupported("\(node) divides by a constant where the library has no such step (only after the last layer, before its shift)")
        }
        outputScale = values
    }

    /// The network these layers describe: parameters, activations (linear where a layer has
    /// none) and the scalings exactly as the graph holds them.
    func network(loss: Loss?) throws(BackpropError) -> Network {
        guard let first = layers.first, let last = layers.last else {
            throw ONNXImport.unsupported("the graph has no Gemm or MatMul layer")
        }
        let activations = layers.map { $0.activation ?? .linear }
        let network = try Network(
            layerSizes: [first.inputWidth] + layers.map(\.width), activations: activations,
            loss: loss ?? Self.defaultLoss(output: activations[activations.count - 1]), seed: 0)
        try network.setParameters(layers.flatMap { $0.weights + $0.biases })
        if inputShift != nil || inputScale != nil {
            try network.setInputScaling(scaling(shift: inputShift, scale: inputScale, width: first.inputWidth, of: "input"))
        }
        if hasOutputScaling {
            try network.setTargetScaling(scaling(shift: outputShift, scale: outputScale, width: last.width, of: "output"))
        }
        return network
    }

    /// A classifier's output is trained with cross-entropy, anything else with squared error.
    static func defaultLoss(output activation: Activation) -> Loss {
        ClassifierRule.isClassifier(output: activation) ? .crossEntropy : .meanSquaredError
    }

    private func scaling(shift: [Float]?, scale: [Float]?, width: Int, of what: String) throws(BackpropError) -> FeatureScaling {
        let where_ = "the \(what) scaling"
        return try FeatureScaling(
            shift: try broadcast(shift ?? [0], to: width, at: where_),
            scale: try broadcast(scale ?? [1], to: width, at: where_))
    }

    /// A constant of one value per unit, or one value for all.
    private func broadcast(_ values: [Float], to width: Int, at node: String) throws(BackpropError) -> [Float] {
        if values.count == width { return values }
        guard values.count == 1 else {
            throw ONNXImport.unsupported("\(node) applies \(values.count) values to \(width) units")
        }
        return [Float](repeating: values[0], count: width)
    }
}
