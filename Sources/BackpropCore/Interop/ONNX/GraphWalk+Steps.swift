/// The steps `GraphWalk` recognises, each from the value the walk stands on (see
/// `ONNXImport` for the list). A step accounts for its nodes and returns the value it
/// produces; nil means no step starts here.
extension GraphWalk {
    mutating func step(from value: String, _ next: [Int]) throws(BackpropError) -> String? {
        if next.count == 2 {
            if let output = try silu(from: value, next) { return output }
            return try gelu(from: value, next)
        }
        guard next.count == 1 else { return nil }
        let index = next[0]
        let (node, described) = self.node(index)
        guard node.inputs.first == value || node.opType == "Add" || node.opType == "Mul" else { return nil }
        if node.domain == "ai.onnx.ml" && node.opType == "Scaler" {
            try stack.addInputShift(try floats(node, "offset", described), at: described)
            try stack.addInputScale(try floats(node, "scale", described), at: described)
            return try finish(index)
        }
        guard node.isDefaultDomain else { return nil }
        if let activation = try ONNXActivations.importedActivation(node, described: described) {
            try stack.addActivation(activation, at: described)
            return try finish(index)
        }
        switch node.opType {
        case "Gemm": try gemm(node, described)
        case "MatMul": try matMul(node, described)
        case "Identity": break
        case "Cast":
            guard try node.integer("to", default: 0, described: described) == ONNXTensor.DataType.float.code else { return nil }
        case "Dropout":
            guard node.inputs.count == 1, node.outputs.count < 2 || unaccountedReaders(of: node.outputs[1]).isEmpty else { return nil }
        case "Flatten":
            guard try node.integer("axis", default: 1, described: described) == 1 else { return nil }
            rank = 2
        case "Reshape": guard try keepsRows(node) else { return nil }
        case "Sub": try stack.addInputShift(try constantOperand(of: node, besides: value, described, second: true), at: described)
        case "Mul": try stack.addInputScale(try constantOperand(of: node, besides: value, described), at: described)
        case "Add": try stack.addConstant(try constantOperand(of: node, besides: value, described), at: described)
        case "Div": try stack.addOutputScale(try constantOperand(of: node, besides: value, described, second: true), at: described)
        default: return nil
        }
        return try finish(index)
    }

    /// Marks a node accounted for; returns its one output that is read.
    private mutating func finish(_ indices: Int...) throws(BackpropError) -> String {
        for index in indices { accounted[index] = true }
        let last = graph.nodes[indices[indices.count - 1]]
        guard let output = last.outputs.first, !output.isEmpty else {
            throw ONNXImport.unsupported("\(last.described(index: indices[indices.count - 1])) has no output")
        }
        return output
    }

    // MARK: Layers

    /// Y = alpha A B' + beta C, B' = B or B^T: W^l = alpha B'^T, b^l = beta C.
    private mutating func gemm(_ node: ONNXNode, _ described: String) throws(BackpropError) {
        guard try node.integer("transA", default: 0, described: described) == 0 else {
            throw ONNXImport.unsupported("\(described) transposes its input (transA = 1); a layer's input is a batch of rows")
        }
        guard node.inputs.count >= 2 else { throw ONNXImport.unsupported("\(described) has \(node.inputs.count) input(s)") }
        let transposed = try node.integer("transB", default: 0, described: described)
        guard transposed == 0 || transposed == 1 else { throw ONNXImport.unsupported("\(described) has transB = \(transposed)") }
        let alpha = try node.float("alpha", default: 1, described: described)
        let beta = try node.float("beta", default: 1, described: described)
        var layer = try affineLayer(weights: node.inputs[1], storedAsRows: transposed == 1, described)
        if alpha != 1 { layer.weights = layer.weights.map { alpha * $0 } }
        if node.inputs.count > 2 && !node.inputs[2].isEmpty {
            let c = try constant(node.inputs[2], of: described)
            guard c.dims.count <= 2, c.dims.dropLast().allSatisfy({ $0 == 1 }) else {
                throw ONNXImport.unsupported("\(described) adds a C of dims \(c.dims), which broadcasts over the batch; a bias is [n] or [1, n]")
            }
            let values = try c.floatValues()
            guard values.count == layer.width || values.count == 1 else {
                throw ONNXImport.unsupported("\(described) adds \(values.count) values of C to \(layer.width) units")
            }
            layer.biases = (0 ..< layer.width).map { beta * values[values.count == 1 ? 0 : $0] }
        }
        try stack.addLayer(layer, at: described)
    }

    /// Y = A B with B of n_(l-1) × n_l: W^l = B^T, b^l = 0 (an Add may follow).
    private mutating func matMul(_ node: ONNXNode, _ described: String) throws(BackpropError) {
        guard node.inputs.count == 2 else { throw ONNXImport.unsupported("\(described) has \(node.inputs.count) inputs") }
        try stack.addLayer(try affineLayer(weights: node.inputs[1], storedAsRows: false, described), at: described)
    }

    /// W^l from a matrix stored n_l × n_(l-1) (`storedAsRows`) or n_(l-1) × n_l.
    private mutating func affineLayer(weights name: String, storedAsRows: Bool, _ described: String)
        throws(BackpropError) -> ONNXLayerStack.AffineLayer
    {
        if let rank, rank != 2 {
            throw ONNXImport.unsupported("\(described) multiplies a value of rank \(rank); a layer takes a batch of rows (a Flatten may come first)")
        }
        let tensor = try constant(name, of: described)
        guard weightTensors.insert(name).inserted else {
            throw ONNXImport.unsupported("\(described) reuses \(tensor.described), which another layer already uses")
        }
        guard tensor.dims.count == 2, let rows = Int(exactly: tensor.dims[0]), let columns = Int(exactly: tensor.dims[1]) else {
            throw ONNXImport.unsupported("\(described) multiplies by \(tensor.described) of dims \(tensor.dims); a layer's weights are a matrix")
        }
        guard rows > 0, columns > 0 else {
            throw ONNXImport.unsupported("\(described) multiplies by \(tensor.described) of dims \(tensor.dims); a layer has at least one input and one unit")
        }
        let values = try tensor.floatValues()
        let (width, inputWidth) = storedAsRows ? (rows, columns) : (columns, rows)
        let weights = storedAsRows ? values : (0 ..< values.count).map { index in
            values[(index % inputWidth) * width + index / inputWidth]
        }
        return .init(weights: weights, biases: [Float](repeating: 0, count: width), inputWidth: inputWidth)
    }

    // MARK: Activations written as several nodes

    /// z · Sigmoid(z): z is read by a Sigmoid and by the Mul of z and its output.
    private mutating func silu(from z: String, _ next: [Int]) throws(BackpropError) -> String? {
        guard let sigmoid = next.first(where: { isOp(graph.nodes[$0], "Sigmoid", reading: z) }),
              let mul = next.first(where: { $0 != sigmoid }),
              let s = graph.nodes[sigmoid].outputs.first,
              isOp(graph.nodes[mul], "Mul", reading: z, and: s), unaccountedReaders(of: s) == [mul]
        else { return nil }
        try stack.addActivation(.silu, at: graph.nodes[mul].described(index: mul))
        return try finish(sigmoid, mul)
    }

    /// (z · (Erf(z / √2) + 1)) · ½: z is read by the Div and by the first Mul.
    private mutating func gelu(from z: String, _ next: [Int]) throws(BackpropError) -> String? {
        guard let div = next.first(where: { graph.nodes[$0].inputs.first == z && isOp(graph.nodes[$0], "Div", reading: z)
                  && constantOperand(graph.nodes[$0], equals: ONNXActivations.squareRootOfTwo) }),
              let mul = next.first(where: { $0 != div }),
              let erf = onlyReader(of: graph.nodes[div], "Erf"),
              let add = onlyReader(of: graph.nodes[erf], "Add"), constantOperand(graph.nodes[add], equals: 1),
              let sum = graph.nodes[add].outputs.first, isOp(graph.nodes[mul], "Mul", reading: z, and: sum),
              unaccountedReaders(of: sum) == [mul],
              let half = onlyReader(of: graph.nodes[mul], "Mul"), constantOperand(graph.nodes[half], equals: 0.5)
        else { return nil }
        try stack.addActivation(.gelu, at: graph.nodes[half].described(index: half))
        return try finish(div, erf, add, mul, half)
    }

    private func isOp(_ node: ONNXNode, _ op: String, reading value: String, and other: String? = nil) -> Bool {
        guard node.isDefaultDomain, node.opType == op, node.inputs.contains(value) else { return false }
        guard let other else { return true }
        return Set(node.inputs) == Set([value, other]) && node.inputs.count == 2
    }

    /// The one node reading `node`'s output, if it is an `op`.
    private func onlyReader(of node: ONNXNode, _ op: String) -> Int? {
        guard let output = node.outputs.first else { return nil }
        let next = unaccountedReaders(of: output)
        guard next.count == 1, isOp(graph.nodes[next[0]], op, reading: output) else { return nil }
        return next[0]
    }

    /// Whether one input of a binary node is a single constant close to `value`.
    private func constantOperand(_ node: ONNXNode, equals value: Float) -> Bool {
        guard node.inputs.count == 2 else { return false }
        return node.inputs.contains { name in
            guard let values = try? constants[name]?.floatValues(), values.count == 1 else { return false }
            return abs(values[0] - value) <= 1e-6 * value
        }
    }

    // MARK: Operands

    private func constant(_ name: String, of described: String) throws(BackpropError) -> ONNXTensor {
        guard let tensor = constants[name] else {
            throw ONNXImport.unsupported("\(described) reads '\(name)', which is not a constant (an initializer or a Constant node)")
        }
        return tensor
    }

    /// The constant other operand of a binary node that reads `value`; `second` requires
    /// `value` to be the first operand (Sub, Div).
    private func constantOperand(of node: ONNXNode, besides value: String, _ described: String, second: Bool = false)
        throws(BackpropError) -> [Float]
    {
        guard node.inputs.count == 2, node.inputs[0] == value || (!second && node.inputs[1] == value) else {
            throw ONNXImport.unsupported("\(described) is not a \(node.opType) of the layers' value and a constant")
        }
        let tensor = try constant(node.inputs[node.inputs[0] == value ? 1 : 0], of: described)
        guard tensor.dims.count <= 2, tensor.dims.dropLast().allSatisfy({ $0 == 1 }) else {
            throw ONNXImport.unsupported("\(described) broadcasts \(tensor.described) of dims \(tensor.dims) over the batch")
        }
        return try tensor.floatValues()
    }

    private func floats(_ node: ONNXNode, _ attribute: String, _ described: String) throws(BackpropError) -> [Float] {
        guard let values = node.attribute(attribute)?.floats, !values.isEmpty else {
            throw ONNXImport.unsupported("\(described) has no \(attribute)")
        }
        return values
    }

    /// A Reshape to [-1 or 0, width] keeps a batch of rows as it is. As the graph's last
    /// step, a Reshape to [-1, 1] or [-1] (skl2onnx's regressors of several outputs write
    /// [-1, 1]) lists the same values in the same order: the network keeps its rows.
    private func keepsRows(_ node: ONNXNode) throws(BackpropError) -> Bool {
        guard node.inputs.count == 2, let shape = try constants[node.inputs[1]]?.integerValues() else { return false }
        let isLast = node.outputs.count == 1 && graph.outputs.contains { $0.name == node.outputs[0] }
        if isLast && (shape == [-1, 1] || shape == [-1]) { return true }
        // With allowzero = 1 a 0 is a dimension of 0, not "as before".
        let zeroKeeps = try node.integer("allowzero", default: 0, described: node.name) == 0
        guard shape.count == 2, shape[0] == -1 || (shape[0] == 0 && zeroKeeps), let width = stack.width else { return false }
        return shape[1] == Int64(width)
    }

    // MARK: Post-processing

    /// Whether everything that reads `value`, and everything downstream of it, is a
    /// classifier's post-processing with at least one of its label steps; if so, accounts
    /// for it and notes which of its values a graph output may be (`postProcessingOutputs`).
    mutating func acceptPostProcessing(from value: String) throws(BackpropError) -> Bool {
        guard stack.hasLayers else { return false }
        var pending = [value], visited: Set<String> = [value], nodes: Set<Int> = []
        while let current = pending.popLast() {
            for index in unaccountedReaders(of: current) where nodes.insert(index).inserted {
                guard Self.postProcessing.contains(graph.nodes[index].opType) else { return false }
                for output in graph.nodes[index].outputs where visited.insert(output).inserted { pending.append(output) }
            }
        }
        let labels = labelValues(among: nodes)
        guard !labels.isEmpty else { return false }
        for index in nodes { accounted[index] = true }
        postProcessingOutputs = labels.union(nodes.compactMap { complementOutput(graph.nodes[$0], of: value) })
        return true
    }

    /// The values computed from a label step's: the labels, and what casts, reshapes or
    /// maps them.
    private func labelValues(among nodes: Set<Int>) -> Set<String> {
        var pending = nodes.filter { Self.labelSteps.contains(graph.nodes[$0].opType) }.flatMap { graph.nodes[$0].outputs }
        var labels = Set(pending)
        while let current = pending.popLast() {
            for index in readers[current] ?? [] where nodes.contains(index) {
                for output in graph.nodes[index].outputs where labels.insert(output).inserted { pending.append(output) }
            }
        }
        return labels
    }

    /// skl2onnx's [1 − p, p] of a binary classifier, Concat(Sub(1, p), p) on axis 1: its
    /// output, if `node` is that Concat of p = `value`.
    private func complementOutput(_ node: ONNXNode, of value: String) -> String? {
        guard node.opType == "Concat", node.inputs.count == 2, node.inputs[1] == value,
              (try? node.integer("axis", default: 0, described: "")) == 1,
              let producer = producers[node.inputs[0]], case let sub = graph.nodes[producer], sub.opType == "Sub", sub.inputs.count == 2, sub.inputs[1] == value,
              let one = try? constants[sub.inputs[0]]?.floatValues(), one == [1] else { return nil }
        return node.outputs.first
    }

    static let labelSteps: Set<String> = ["ArgMax", "ZipMap", "ArrayFeatureExtractor"]
    static let postProcessing: Set<String> = labelSteps.union(["Cast", "Reshape", "Concat", "Sub", "Identity"])
}
