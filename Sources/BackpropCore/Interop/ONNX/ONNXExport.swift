/// A network as an ONNX model (opset 17, IR version 8):
///
///     input [batch, n_0]
///       → Sub(shift), Mul(scale)               the input scaling, when the network has one
///       → Gemm(W^l, b^l, transB = 1)           z^l = W^l a^(l-1) + b^l, for l = 1…L
///       → σ_l                                  one operator, or GELU's and SiLU's decomposition
///       → Div(scale), Add(shift)               the target scaling inverted, when set
///     output [batch, n_L]
///
/// Opset 17 is the newest that every maintained runtime reads (onnxruntime since 1.12,
/// 2022; torch.onnx's default through PyTorch 2.4), and it has every operator the
/// library needs except GELU (opset 20), which is written as its exact decomposition
/// ½ z (1 + erf(z / √2)); SiLU has no operator in any opset and is z · Sigmoid(z). The
/// batch dimension is the symbolic "batch". The metadata names the loss (backprop.loss),
/// the library's version (backprop.version) and the layers (backprop.layers).
enum ONNXExport {
    static let opsetVersion: Int64 = 17
    static let irVersion: Int64 = 8
    static let producerName = "backprop"
    static let inputName = "input"
    static let outputName = "output"
    static let batchDimension = "batch"

    enum MetadataKey {
        static let loss = "backprop.loss"
        static let version = "backprop.version"
        static let layers = "backprop.layers"
    }

    static func model(of network: Network) -> ONNXModel {
        var graph = GraphBuilder()
        var value = inputName
        if let scaling = network.inputScaling {
            value = graph.node("Sub", [value, graph.constant("input_shift", scaling.shift)], name: "input_scaling.sub")
            value = graph.node("Mul", [value, graph.constant("input_scale", scaling.scale)], name: "input_scaling.mul")
        }
        for (index, layer) in network.layers.enumerated() {
            value = graph.layer(index + 1, layer, input: value, parameters: network.parameters)
        }
        if let scaling = network.targetScaling {
            value = graph.node("Div", [value, graph.constant("output_scale", scaling.scale)], name: "target_scaling.div")
            value = graph.node("Add", [value, graph.constant("output_shift", scaling.shift)], name: "target_scaling.add")
        }
        graph.renameLastOutput(to: outputName)
        graph.graph.inputs = [tensorInfo(inputName, width: network.inputSize)]
        graph.graph.outputs = [tensorInfo(outputName, width: network.outputSize)]
        return ONNXModel(
            irVersion: irVersion, operatorSets: [ONNXOperatorSet(domain: "", version: opsetVersion)],
            producerName: producerName, producerVersion: "\(Version.string)", graph: graph.graph,
            metadata: [
                ONNXMetadataEntry(key: MetadataKey.loss, value: network.loss.name),
                ONNXMetadataEntry(key: MetadataKey.version, value: "\(Version.string)"),
                ONNXMetadataEntry(key: MetadataKey.layers, value: layerDescription(network)),
            ])
    }

    /// "4-8-3: tanh, softmax".
    static func layerDescription(_ network: Network) -> String {
        network.layerSizes.map(String.init).joined(separator: "-") + ": "
            + network.activations.map(\.name).joined(separator: ", ")
    }

    private static func tensorInfo(_ name: String, width: Int) -> ONNXValueInfo {
        ONNXValueInfo(name: name, elementType: .float, shape: [.parameter(batchDimension), .value(Int64(width))])
    }
}

/// Appends nodes and initializers, naming each value after the node that computes it.
private struct GraphBuilder {
    var graph = ONNXGraph(name: "backprop")
    private var constantNames: Set<String> = []

    /// z^l = W^l a^(l-1) + b^l as Gemm (W^l is stored as it is, n_l × n_(l-1), so transB = 1)
    /// and σ_l after it; returns a^l's name.
    mutating func layer(_ l: Int, _ layer: Layer, input: String, parameters: UnsafePointer<Float>) -> String {
        let weights = constant("W\(l)", dims: [Int64(layer.width), Int64(layer.inputWidth)],
                               UnsafeBufferPointer(start: parameters + layer.weightOffset, count: layer.weightCount))
        let biases = constant("b\(l)", dims: [Int64(layer.width)],
                              UnsafeBufferPointer(start: parameters + layer.biasOffset, count: layer.width))
        let z = node("Gemm", [input, weights, biases], name: "layer\(l).gemm", attributes: [.int("transB", 1)])
        return activation(layer.activation, of: z, layer: l)
    }

    private mutating func activation(_ sigma: Activation, of z: String, layer l: Int) -> String {
        switch ONNXActivations.exportForm(sigma) {
        case .single(let op, let attributes):
            return node(op, [z], name: "layer\(l).\(sigma.name)", attributes: attributes)
        case .siluDecomposition:
            let s = node("Sigmoid", [z], name: "layer\(l).silu.sigmoid")
            return node("Mul", [z, s], name: "layer\(l).silu.mul")
        case .geluDecomposition:
            let scaled = node("Div", [z, scalar("gelu.sqrt2", ONNXActivations.squareRootOfTwo)], name: "layer\(l).gelu.div")
            let erf = node("Erf", [scaled], name: "layer\(l).gelu.erf")
            let onePlus = node("Add", [erf, scalar("gelu.one", 1)], name: "layer\(l).gelu.add")
            let product = node("Mul", [z, onePlus], name: "layer\(l).gelu.mul")
            return node("Mul", [product, scalar("gelu.half", 0.5)], name: "layer\(l).gelu.half")
        }
    }

    /// Adds a node computing one value, named after the node; returns the value's name.
    mutating func node(_ op: String, _ inputs: [String], name: String, attributes: [ONNXAttribute] = []) -> String {
        graph.nodes.append(ONNXNode(name: name, opType: op, inputs: inputs, outputs: [name], attributes: attributes))
        return name
    }

    /// A vector initializer, which broadcasts over the batch's rows.
    mutating func constant(_ name: String, _ values: [Float]) -> String {
        values.withUnsafeBufferPointer { constant(name, dims: [Int64(values.count)], $0) }
    }

    /// A scalar initializer (dims []), which broadcasts over every element.
    mutating func scalar(_ name: String, _ value: Float) -> String {
        withUnsafePointer(to: value) { constant(name, dims: [], UnsafeBufferPointer(start: $0, count: 1)) }
    }

    mutating func constant(_ name: String, dims: [Int64], _ values: UnsafeBufferPointer<Float>) -> String {
        if constantNames.insert(name).inserted {
            graph.initializers.append(.floats(name, dims: dims, values))
        }
        return name
    }

    /// The graph's result takes the output's name: only the last node computes it.
    mutating func renameLastOutput(to name: String) {
        graph.nodes[graph.nodes.count - 1].outputs = [name]
    }
}
