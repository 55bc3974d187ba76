/// ONNXModel → protobuf bytes, the ModelProto of onnx.proto. Only set fields are written,
/// in field-number order within each message, as protobuf's own serialisers do.
extension ONNXModel {
    func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.integer(ONNXField.Model.irVersion, irVersion)
        if !producerName.isEmpty { writer.string(ONNXField.Model.producerName, producerName) }
        if !producerVersion.isEmpty { writer.string(ONNXField.Model.producerVersion, producerVersion) }
        if let graph { writer.message(ONNXField.Model.graph) { graph.encode(into: &$0) } }
        for set in operatorSets {
            writer.message(ONNXField.Model.operatorSet) { nested in
                if !set.domain.isEmpty { nested.string(ONNXField.OperatorSet.domain, set.domain) }
                nested.integer(ONNXField.OperatorSet.version, set.version)
            }
        }
        for entry in metadata {
            writer.message(ONNXField.Model.metadata) { nested in
                nested.string(ONNXField.Entry.key, entry.key)
                nested.string(ONNXField.Entry.value, entry.value)
            }
        }
        return writer.bytes
    }
}

extension ONNXGraph {
    fileprivate func encode(into writer: inout ProtobufWriter) {
        for node in nodes { writer.message(ONNXField.Graph.node) { node.encode(into: &$0) } }
        writer.string(ONNXField.Graph.name, name)
        for tensor in initializers { writer.message(ONNXField.Graph.initializer) { tensor.encode(into: &$0) } }
        for input in inputs { writer.message(ONNXField.Graph.input) { input.encode(into: &$0) } }
        for output in outputs { writer.message(ONNXField.Graph.output) { output.encode(into: &$0) } }
    }
}

extension ONNXNode {
    fileprivate func encode(into writer: inout ProtobufWriter) {
        for input in inputs { writer.string(ONNXField.Node.input, input) }
        for output in outputs { writer.string(ONNXField.Node.output, output) }
        if !name.isEmpty { writer.string(ONNXField.Node.name, name) }
        writer.string(ONNXField.Node.opType, opType)
        for attribute in attributes { writer.message(ONNXField.Node.attribute) { attribute.encode(into: &$0) } }
        if !domain.isEmpty { writer.string(ONNXField.Node.domain, domain) }
    }
}

extension ONNXAttribute {
    /// Writes the field of its type: the export uses float, int, string and tensor attributes.
    fileprivate func encode(into writer: inout ProtobufWriter) {
        writer.string(ONNXField.Attribute.name, name)
        switch type {
        case .float: writer.float(ONNXField.Attribute.float, float)
        case .int: writer.integer(ONNXField.Attribute.integer, integer)
        case .string: writer.string(ONNXField.Attribute.string, string)
        case .tensor: if let tensor { writer.message(ONNXField.Attribute.tensor) { tensor.encode(into: &$0) } }
        default: break
        }
        writer.integer(ONNXField.Attribute.type, type.rawValue)
    }
}

extension ONNXTensor {
    /// The export stores every tensor as raw_data, little-endian, as torch.onnx does.
    fileprivate func encode(into writer: inout ProtobufWriter) {
        for dim in dims { writer.integer(ONNXField.Tensor.dims, dim) }
        writer.integer(ONNXField.Tensor.dataType, dataType.code)
        writer.string(ONNXField.Tensor.name, name)
        writer.data(ONNXField.Tensor.rawData, rawData)
    }

    /// A float tensor of `dims` holding `values`, as raw little-endian bytes.
    static func floats(_ name: String, dims: [Int64], _ values: UnsafeBufferPointer<Float>) -> ONNXTensor {
        ONNXTensor(name: name, dims: dims, dataType: .float, rawData: ProtobufWriter.littleEndianBytes(values))
    }

    static func floats(_ name: String, dims: [Int64], _ values: [Float]) -> ONNXTensor {
        values.withUnsafeBufferPointer { floats(name, dims: dims, $0) }
    }
}

extension ONNXValueInfo {
    fileprivate func encode(into writer: inout ProtobufWriter) {
        writer.string(ONNXField.ValueInfo.name, name)
        guard let elementType else { return }
        writer.message(ONNXField.ValueInfo.type) { type in
            type.message(ONNXField.TypeProto.tensor) { tensor in
                tensor.integer(ONNXField.TensorType.elementType, elementType.code)
                guard let shape else { return }
                tensor.message(ONNXField.TensorType.shape) { shapeWriter in
                    for dimension in shape {
                        shapeWriter.message(ONNXField.Shape.dimension) { dim in
                            switch dimension {
                            case .value(let value): dim.integer(ONNXField.Dimension.value, value)
                            case .parameter(let name): dim.string(ONNXField.Dimension.parameter, name)
                            case .unknown: break
                            }
                        }
                    }
                }
            }
        }
    }
}
