/// Protobuf bytes → ONNXModel. Every message is read by `ProtobufReader`, which checks each
/// length against the bytes present, so nothing here reads past the data or allocates more
/// than it holds; unknown fields are skipped, as protobuf requires. The nesting is fixed
/// (model → graph → node → attribute → tensor) and subgraphs are never descended into, so
/// hostile data cannot make the decoder recurse.
extension ONNXModel {
    init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        try ProtobufReader.forEachField(of: bytes, what: "the ONNX model") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.Model.irVersion: irVersion = try field.integer(in: reader)
            case ONNXField.Model.producerName: producerName = try field.string(in: reader)
            case ONNXField.Model.producerVersion: producerVersion = try field.string(in: reader)
            case ONNXField.Model.graph: graph = try ONNXGraph(decoding: try field.data(in: reader))
            case ONNXField.Model.operatorSet: operatorSets.append(try ONNXOperatorSet(decoding: try field.data(in: reader)))
            case ONNXField.Model.metadata:
                try ONNXLimits.check(metadata.count, ONNXLimits.metadata, "metadata entries")
                metadata.append(try ONNXMetadataEntry(decoding: try field.data(in: reader)))
            default: break
            }
        }
    }
}

extension ONNXOperatorSet {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        self.init(domain: "", version: 0)
        try ProtobufReader.forEachField(of: bytes, what: "an operator set of the ONNX model") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.OperatorSet.domain: domain = try field.string(in: reader)
            case ONNXField.OperatorSet.version: version = try field.integer(in: reader)
            default: break
            }
        }
    }
}

extension ONNXMetadataEntry {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        self.init(key: "", value: "")
        try ProtobufReader.forEachField(of: bytes, what: "a metadata entry of the ONNX model") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.Entry.key: key = try field.string(in: reader)
            case ONNXField.Entry.value: value = try field.string(in: reader)
            default: break
            }
        }
    }
}

extension ONNXGraph {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        try ProtobufReader.forEachField(of: bytes, what: "the ONNX model's graph") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.Graph.node:
                try ONNXLimits.check(nodes.count, ONNXLimits.nodes, "nodes")
                nodes.append(try ONNXNode(decoding: try field.data(in: reader)))
            case ONNXField.Graph.name: name = try field.string(in: reader)
            case ONNXField.Graph.initializer:
                try ONNXLimits.check(initializers.count, ONNXLimits.initializers, "initializers")
                initializers.append(try ONNXTensor(decoding: try field.data(in: reader)))
            case ONNXField.Graph.input:
                try ONNXLimits.check(inputs.count, ONNXLimits.graphValues, "graph inputs")
                inputs.append(try ONNXValueInfo(decoding: try field.data(in: reader)))
            case ONNXField.Graph.output:
                try ONNXLimits.check(outputs.count, ONNXLimits.graphValues, "graph outputs")
                outputs.append(try ONNXValueInfo(decoding: try field.data(in: reader)))
            case ONNXField.Graph.sparseInitializer: hasSparseInitializers = true
            default: break
            }
        }
    }
}

extension ONNXNode {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        try ProtobufReader.forEachField(of: bytes, what: "a node of the ONNX graph") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.Node.input:
                try ONNXLimits.check(inputs.count, ONNXLimits.namesPerNode, "inputs of a node")
                inputs.append(try field.string(in: reader))
            case ONNXField.Node.output:
                try ONNXLimits.check(outputs.count, ONNXLimits.namesPerNode, "outputs of a node")
                outputs.append(try field.string(in: reader))
            case ONNXField.Node.name: name = try field.string(in: reader)
            case ONNXField.Node.opType: opType = try field.string(in: reader)
            case ONNXField.Node.domain: domain = try field.string(in: reader)
            case ONNXField.Node.attribute:
                try ONNXLimits.check(attributes.count, ONNXLimits.attributesPerNode, "attributes of a node")
                attributes.append(try ONNXAttribute(decoding: try field.data(in: reader)))
            default: break
            }
        }
    }
}

extension ONNXAttribute {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        try ProtobufReader.forEachField(of: bytes, what: "a node attribute of the ONNX graph") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.Attribute.name: name = try field.string(in: reader)
            case ONNXField.Attribute.float: float = try field.float(in: reader)
            case ONNXField.Attribute.integer: integer = try field.integer(in: reader)
            case ONNXField.Attribute.string: string = try field.string(in: reader)
            case ONNXField.Attribute.tensor: tensor = try ONNXTensor(decoding: try field.data(in: reader))
            case ONNXField.Attribute.floats: try field.appendFloats(to: &floats, in: reader)
            case ONNXField.Attribute.integers: try field.appendIntegers(to: &integers, in: reader)
            case ONNXField.Attribute.graph, ONNXField.Attribute.graphs: holdsGraph = true
            case ONNXField.Attribute.type:
                let code = try field.integer(in: reader)
                guard let known = AttributeType(rawValue: code) else {
                    throw reader.corrupt("attribute type \(code)")
                }
                type = known
            default: break
            }
        }
    }
}

extension ONNXTensor {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        try ProtobufReader.forEachField(of: bytes, what: "a tensor of the ONNX graph") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.Tensor.dims: try field.appendIntegers(to: &dims, in: reader)
            case ONNXField.Tensor.dataType: dataType = DataType(code: try field.integer(in: reader))
            case ONNXField.Tensor.name: name = try field.string(in: reader)
            case ONNXField.Tensor.rawData: rawData = Array(try field.data(in: reader))
            case ONNXField.Tensor.floatData: try field.appendFloats(to: &floatData, in: reader)
            case ONNXField.Tensor.doubleData: try field.appendFloats(to: &doubleData, in: reader)
            case ONNXField.Tensor.int64Data: try field.appendIntegers(to: &int64Data, in: reader)
            case ONNXField.Tensor.int32Data: try field.appendIntegers(to: &int32Data, in: reader)
            case ONNXField.Tensor.dataLocation: isExternal = try field.integer(in: reader) == 1
            default: break
            }
        }
    }
}

extension ONNXValueInfo {
    fileprivate init(decoding bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        try ProtobufReader.forEachField(of: bytes, what: "a graph input or output of the ONNX model") { (field, reader) throws(BackpropError) in
            switch field.number {
            case ONNXField.ValueInfo.name: name = try field.string(in: reader)
            case ONNXField.ValueInfo.type: try decodeType(try field.data(in: reader))
            default: break
            }
        }
    }

    /// TypeProto: only its tensor_type is read; a sequence or map leaves the type unknown.
    private mutating func decodeType(_ bytes: UnsafeRawBufferPointer) throws(BackpropError) {
        let what = "the type of a graph input or output"
        try ProtobufReader.forEachField(of: bytes, what: what) { (field, reader) throws(BackpropError) in
            guard field.number == ONNXField.TypeProto.tensor else { return }
            try ProtobufReader.forEachField(of: try field.data(in: reader), what: what) { (part, tensor) throws(BackpropError) in
                switch part.number {
                case ONNXField.TensorType.elementType: elementType = ONNXTensor.DataType(code: try part.integer(in: tensor))
                case ONNXField.TensorType.shape: shape = try Self.shape(try part.data(in: tensor))
                default: break
                }
            }
        }
    }

    private static func shape(_ bytes: UnsafeRawBufferPointer) throws(BackpropError) -> [Dimension] {
        var dimensions: [Dimension] = []
        let what = "the shape of a graph input or output"
        try ProtobufReader.forEachField(of: bytes, what: what) { (field, reader) throws(BackpropError) in
            guard field.number == ONNXField.Shape.dimension else { return }
            var dimension = Dimension.unknown
            try ProtobufReader.forEachField(of: try field.data(in: reader), what: what) { (part, parts) throws(BackpropError) in
                switch part.number {
                case ONNXField.Dimension.value: dimension = .value(try part.integer(in: parts))
                case ONNXField.Dimension.parameter: dimension = .parameter(try part.string(in: parts))
                default: break
                }
            }
            dimensions.append(dimension)
        }
        return dimensions
    }
}

extension ONNXLimits {
    /// Refuses one more entry beyond `limit` of `what` ("nodes").
    static func check(_ count: Int, _ limit: Int, _ what: String) throws(BackpropError) {
        guard count < limit else {
            throw ONNXImport.unsupported("the model has more than \(limit) \(what); a perceptron's has far fewer")
        }
    }
}
