/// How each activation σ is written as ONNX operators, and which operators the import reads
/// as which σ: the two directions side by side, so that they cannot drift apart (the
/// round-trip tests export and import every activation).
enum ONNXActivations {
    /// The √2 that GELU's exact form Φ(z) = ½ (1 + erf(z / √2)) divides by.
    static let squareRootOfTwo = Float(2).squareRoot()

    /// How the export writes σ: one operator, or a decomposition of the activations that
    /// opset 17 lacks (GELU arrives in opset 20; SiLU has no operator in any opset).
    enum ExportForm {
        case single(op: String, attributes: [ONNXAttribute])
        /// z · Sigmoid(z).
        case siluDecomposition
        /// (z · (Erf(z / √2) + 1)) · ½, the exact GELU, in torch.onnx's order.
        case geluDecomposition
    }

    static func exportForm(_ activation: Activation) -> ExportForm {
        switch activation {
        case .sigmoid: return .single(op: "Sigmoid", attributes: [])
        case .tanh: return .single(op: "Tanh", attributes: [])
        case .relu: return .single(op: "Relu", attributes: [])
        case .leakyRelu: return .single(op: "LeakyRelu", attributes: [.float("alpha", Activation.leakySlope)])
        case .linear: return .single(op: "Identity", attributes: [])
        case .softmax: return .single(op: "Softmax", attributes: [.int("axis", -1)])
        case .elu: return .single(op: "Elu", attributes: [.float("alpha", 1)])
        case .softplus: return .single(op: "Softplus", attributes: [])
        case .silu: return .siluDecomposition
        case .gelu: return .geluDecomposition
        }
    }

    /// The activation a single operator computes on a batch of rows, nil for an operator
    /// that is no activation. An activation operator whose attributes compute something
    /// else than the library's σ (LeakyRelu with another slope, Softmax over the batch) is
    /// refused, naming `node` (`described`).
    static func importedActivation(_ node: ONNXNode, described: String) throws(BackpropError) -> Activation? {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { return nil }
        switch node.opType {
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "Relu": return .relu
        case "Softplus": return .softplus
        case "LeakyRelu":
            try expect(node, "alpha", float: Activation.leakySlope, default: 0.01, described: described)
            return .leakyRelu
        case "Elu":
            try expect(node, "alpha", float: 1, default: 1, described: described)
            return .elu
        case "Softmax":
            // Axis 1 of a batch of rows is its last axis, for either opset's default.
            let axis = try node.integer("axis", default: -1, described: described)
            guard axis == 1 || axis == -1 else {
                throw ONNXImport.unsupported("\(described) takes the softmax over axis \(axis); the library's softmax is over each sample's row (axis 1 or -1)")
            }
            return .softmax
        case "Gelu":
            let approximation = try node.string("approximate", default: "none", described: described)
            guard approximation == "none" else {
                throw ONNXImport.unsupported("\(described) uses GELU's \(approximation) approximation; the library's GELU is the exact form (approximate=\"none\")")
            }
            return .gelu
        default: return nil
        }
    }

    private static func expect(
        _ node: ONNXNode, _ name: String, float expected: Float, default fallback: Float, described: String
    ) throws(BackpropError) {
        let value = try node.float(name, default: fallback, described: described)
        guard abs(value - expected) <= 1e-6 * max(1, abs(expected)) else {
            throw ONNXImport.unsupported("\(described) has \(name) = \(value); the library's \(node.opType) has \(name) = \(expected)")
        }
    }
}
