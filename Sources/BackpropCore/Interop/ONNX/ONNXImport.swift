/// An ONNX model read as a network. The graph is walked from its one input along the value
/// each step produces, and every step must be one the library has (`ONNXLayerStack`):
///
///  - layers: Gemm (transA = 0, either transB, alpha and beta folded in, C optional) or
///    MatMul, either followed by Add of a constant (the bias);
///  - activations: one operator (`ONNXActivations.importedActivation`), z · Sigmoid(z)
///    (SiLU), or (z · (Erf(z / √2) + 1)) · ½ (GELU, torch.onnx's decomposition);
///  - no-ops: Identity, Cast to float, Dropout (inference), Flatten (axis 1), Reshape to
///    [-1 or 0, width], and as the last step Reshape to [-1, 1] or [-1], which lists the
///    outputs row after row (skl2onnx writes it for regressors of several outputs);
///  - scalings: Sub and Mul by constants before the first layer, or ai.onnx.ml's Scaler
///    (the input scaling); Div and Add after the last (the target scaling inverted);
///  - a classifier's post-processing after the last layer (ArgMax, ZipMap,
///    ArrayFeatureExtractor and the Cast, Reshape, Concat, Sub and Identity between them),
///    which is dropped when it holds a label step: the network keeps the probabilities.
///    skl2onnx's binary classifier computes [1 − p, p] from one sigmoid unit; the network
///    keeps that unit, p. Every graph output must be the network's output, or the labels
///    or probabilities of that post-processing.
///
/// Weights are initializers or Constant nodes, float or double. Any other node, attribute
/// or layout is refused as `.unsupportedModel`, naming the node and its operator.
enum ONNXImport {
    static func unsupported(_ message: String) -> BackpropError {
        BackpropError(.unsupportedModel, "the ONNX model is not supported: " + message)
    }

    /// The network of an ONNX model's bytes, trained with `loss`, or when nil with the loss
    /// the model's metadata names (a backprop export), else cross-entropy for a softmax or
    /// sigmoid output and squared error for any other.
    static func network(from bytes: UnsafeRawBufferPointer, loss: Loss?) throws(BackpropError) -> Network {
        if bytes.starts(with: ModelFormat.magic) {
            throw BackpropError(.notAModel, "the data is a backprop model file, not an ONNX model; load it as a model file")
        }
        let model = try ONNXModel(decoding: bytes)
        guard let graph = model.graph else {
            throw BackpropError(.notAModel, "the data is not an ONNX model: it holds no graph")
        }
        var walk = try GraphWalk(graph)
        let stack = try walk.run()
        return try stack.network(loss: loss ?? metadataLoss(model, stack))
    }

    /// The loss a backprop export recorded, if it suits the output layer.
    private static func metadataLoss(_ model: ONNXModel, _ stack: ONNXLayerStack) -> Loss? {
        guard let name = model.metadataValue(ONNXExport.MetadataKey.loss), let loss = Loss(name: name),
              let output = stack.layers.last else { return nil }
        return loss.supports(output: output.activation ?? .linear) ? loss : nil
    }
}

/// The walk over one graph: which values are constants, which nodes read each value, and
/// which nodes the walk has accounted for.
struct GraphWalk {
    let graph: ONNXGraph
    var constants: [String: ONNXTensor] = [:]
    var readers: [String: [Int]] = [:]
    /// The node computing each value.
    var producers: [String: Int] = [:]
    var accounted: [Bool]
    /// Tensors already taken as a layer's weights: each may be one layer's only, so the
    /// network's parameters never outgrow the bytes read.
    var weightTensors: Set<String> = []
    var stack = ONNXLayerStack()
    /// The rank of the current value, when known (Gemm needs a batch of rows).
    var rank: Int?
    /// The values of the post-processing dropped that a graph output may be: a
    /// classifier's labels, and skl2onnx's [1 − p, p].
    var postProcessingOutputs: Set<String> = []

    init(_ graph: ONNXGraph) throws(BackpropError) {
        self.graph = graph
        accounted = [Bool](repeating: false, count: graph.nodes.count)
        guard !graph.hasSparseInitializers else {
            throw ONNXImport.unsupported("the graph has sparse initializers; the library reads dense tensors")
        }
        for tensor in graph.initializers { constants[tensor.name] = tensor }
        for (index, node) in graph.nodes.enumerated() {
            if node.isDefaultDomain && node.opType == "Constant" {
                constants[node.outputs.first ?? ""] = try Self.constantTensor(node, described: node.described(index: index))
                accounted[index] = true
                continue
            }
            for input in Set(node.inputs) where !input.isEmpty { readers[input, default: []].append(index) }
            for output in node.outputs { producers[output] = index }
        }
    }

    /// Walks from the graph's input to its output and returns what it recognised.
    mutating func run() throws(BackpropError) -> ONNXLayerStack {
        var value = try graphInput()
        var postProcessed = false
        while true {
            let next = unaccountedReaders(of: value)
            if next.isEmpty { break }
            if let produced = try step(from: value, next) {
                value = produced
                continue
            }
            guard try acceptPostProcessing(from: value) else {
                let index = next[0]
                throw ONNXImport.unsupported("\(graph.nodes[index].described(index: index)) is not a step the library can take here")
            }
            postProcessed = true
            break
        }
        if let index = accounted.firstIndex(of: false) {
            throw ONNXImport.unsupported("\(graph.nodes[index].described(index: index)) is not on the path from the input through the layers")
        }
        try checkOutputs(final: value, postProcessed: postProcessed)
        return stack
    }

    func unaccountedReaders(of value: String) -> [Int] {
        (readers[value] ?? []).filter { !accounted[$0] }
    }

    func node(_ index: Int) -> (node: ONNXNode, described: String) {
        (graph.nodes[index], graph.nodes[index].described(index: index))
    }

    /// The graph's one input that is not an initializer (older exporters list those too).
    private mutating func graphInput() throws(BackpropError) -> String {
        let inputs = graph.inputs.filter { constants[$0.name] == nil }
        guard inputs.count == 1 else {
            let names = inputs.map { "'\($0.name)'" }.joined(separator: ", ")
            throw ONNXImport.unsupported("the graph has \(inputs.count) inputs (\(names)); a network takes one")
        }
        let input = inputs[0]
        switch input.elementType {
        case nil, .float?, .double?: break
        case let type?:
            throw ONNXImport.unsupported("the graph input '\(input.name)' holds ONNX data type \(type.code); a network takes numbers")
        }
        if let shape = input.shape {
            rank = shape.count
            if shape.count == 2, case .value(let features) = shape[1] { stack.width = Int(exactly: features) }
        }
        return input.name
    }

    /// Every graph output is the network's output, or a classifier's labels (or skl2onnx's
    /// [1 − p, p]) from the post-processing dropped.
    private func checkOutputs(final value: String, postProcessed: Bool) throws(BackpropError) {
        let outputs = graph.outputs.map(\.name)
        guard outputs.contains(value) || postProcessed else {
            throw ONNXImport.unsupported("the graph's outputs (\(outputs.joined(separator: ", "))) are not computed by its layers")
        }
        for output in outputs where output != value && !postProcessingOutputs.contains(output) {
            throw ONNXImport.unsupported("the graph output '\(output)' is neither the network's output nor a classifier's labels or probabilities")
        }
    }

    /// A Constant node's value as a tensor.
    private static func constantTensor(_ node: ONNXNode, described: String) throws(BackpropError) -> ONNXTensor {
        guard let attribute = node.attributes.first else {
            throw ONNXImport.unsupported("\(described) holds no value")
        }
        switch attribute.name {
        case "value":
            guard let tensor = attribute.tensor else { throw ONNXImport.unsupported("\(described) holds no tensor") }
            return tensor
        case "value_float": return ONNXTensor(dims: [], dataType: .float, floatData: [attribute.float])
        case "value_floats": return ONNXTensor(dims: [Int64(attribute.floats.count)], dataType: .float, floatData: attribute.floats)
        case "value_int": return ONNXTensor(dims: [], dataType: .int64, int64Data: [attribute.integer])
        case "value_ints": return ONNXTensor(dims: [Int64(attribute.integers.count)], dataType: .int64, int64Data: attribute.integers)
        default: throw ONNXImport.unsupported("\(described) holds a \(attribute.name); the library reads tensors and numbers")
        }
    }
}

extension ONNXNode {
    var isDefaultDomain: Bool { domain.isEmpty || domain == "ai.onnx" }

    /// An int attribute's value, `fallback` when absent; one of another type is refused
    /// (as onnxruntime refuses it), never read as 0.
    func integer(_ name: String, default fallback: Int64, described: String) throws(BackpropError) -> Int64 {
        try typed(name, .int, described)?.integer ?? fallback
    }

    func float(_ name: String, default fallback: Float, described: String) throws(BackpropError) -> Float {
        try typed(name, .float, described)?.float ?? fallback
    }

    func string(_ name: String, default fallback: String, described: String) throws(BackpropError) -> String {
        try typed(name, .string, described)?.string ?? fallback
    }

    private func typed(_ name: String, _ type: ONNXAttribute.AttributeType, _ described: String)
        throws(BackpropError) -> ONNXAttribute?
    {
        guard let attribute = attribute(name) else { return nil }
        guard attribute.type == type || attribute.type == .undefined else {
            throw ONNXImport.unsupported("\(described) has a \(name) attribute of type \(attribute.type), not \(type)")
        }
        return attribute
    }
}
