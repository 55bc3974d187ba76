/// The part of ONNX's object model (onnx.proto, https://onnx.ai/onnx/repo-docs/IR.html)
/// that a multilayer perceptron uses: a model holding one graph of nodes, the graph's
/// inputs, outputs and constant tensors (initializers), and the model's metadata. The
/// library builds one of these to export a network (`ONNXExport`) and reads one to import
/// (`ONNXImport`); `ONNXModel+Encoding` and `+Decoding` turn it into protobuf bytes and back.
struct ONNXModel: Equatable {
    var irVersion: Int64 = 0
    /// The operator sets the graph uses, by domain ("" is the default, ai.onnx).
    var operatorSets: [ONNXOperatorSet] = []
    var producerName = ""
    var producerVersion = ""
    var graph: ONNXGraph?
    /// metadata_props: key-value pairs in file order.
    var metadata: [ONNXMetadataEntry] = []

    /// The version of the default operator set (ai.onnx), if the model imports it.
    var defaultOpsetVersion: Int64? {
        operatorSets.last(where: { $0.domain == "" || $0.domain == "ai.onnx" })?.version
    }

    func metadataValue(_ key: String) -> String? {
        metadata.last(where: { $0.key == key })?.value
    }
}

struct ONNXOperatorSet: Equatable {
    var domain: String
    var version: Int64
}

struct ONNXMetadataEntry: Equatable {
    var key: String
    var value: String
}

struct ONNXGraph: Equatable {
    var name = ""
    var nodes: [ONNXNode] = []
    var initializers: [ONNXTensor] = []
    var inputs: [ONNXValueInfo] = []
    var outputs: [ONNXValueInfo] = []
    /// Whether the graph holds sparse initializers, which the library does not read.
    var hasSparseInitializers = false
}

struct ONNXNode: Equatable {
    var name = ""
    var opType = ""
    var domain = ""
    var inputs: [String] = []
    var outputs: [String] = []
    var attributes: [ONNXAttribute] = []

    func attribute(_ name: String) -> ONNXAttribute? {
        attributes.last(where: { $0.name == name })
    }

    /// "node 'fc1' (Gemm)", or "node 3 (Gemm)" for a node without a name.
    func described(index: Int) -> String {
        let op = domain.isEmpty || domain == "ai.onnx" ? opType : "\(domain).\(opType)"
        return name.isEmpty ? "node \(index) (\(op))" : "node '\(name)' (\(op))"
    }
}

/// A node attribute. ONNX keeps one value per attribute, in the field its type names; the
/// library reads numbers, strings and tensors, and only notes that a graph is present.
struct ONNXAttribute: Equatable {
    var name = ""
    var type: AttributeType = .undefined
    var float: Float = 0
    var integer: Int64 = 0
    var string = ""
    var tensor: ONNXTensor?
    var floats: [Float] = []
    var integers: [Int64] = []
    /// Whether it holds a subgraph (If, Loop, Scan), which no perceptron needs.
    var holdsGraph = false

    /// AttributeProto.AttributeType.
    enum AttributeType: Int64 {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5
        case floats = 6, ints = 7, strings = 8, tensors = 9, graphs = 10
        case sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
    }

    static func float(_ name: String, _ value: Float) -> ONNXAttribute {
        ONNXAttribute(name: name, type: .float, float: value)
    }

    static func int(_ name: String, _ value: Int64) -> ONNXAttribute {
        ONNXAttribute(name: name, type: .int, integer: value)
    }
}

/// A constant tensor. Its values arrive in whichever field the writer chose: raw_data
/// (little-endian bytes) or a typed field (float_data, double_data, int64_data...).
struct ONNXTensor: Equatable {
    var name = ""
    var dims: [Int64] = []
    var dataType: DataType = .undefined
    var rawData: [UInt8] = []
    var floatData: [Float] = []
    var doubleData: [Double] = []
    var int64Data: [Int64] = []
    /// int32_data, which also carries the bits of 8- and 16-bit types.
    var int32Data: [Int64] = []
    /// Whether the values live in another file (data_location EXTERNAL).
    var isExternal = false

    /// TensorProto.DataType, as far as the library names them; any other code is `.other`.
    enum DataType: Equatable {
        case undefined, float, int64, double, other(Int64)

        init(code: Int64) {
            switch code {
            case 0: self = .undefined
            case 1: self = .float
            case 7: self = .int64
            case 11: self = .double
            default: self = .other(code)
            }
        }

        var code: Int64 {
            switch self {
            case .undefined: return 0
            case .float: return 1
            case .int64: return 7
            case .double: return 11
            case .other(let code): return code
            }
        }
    }
}

/// A graph input or output: a name and, for a tensor, its element type and shape.
struct ONNXValueInfo: Equatable {
    var name = ""
    var elementType: ONNXTensor.DataType?
    var shape: [Dimension]?

    enum Dimension: Equatable {
        case value(Int64)
        case parameter(String)
        case unknown
    }
}

/// How many entries the decoder keeps of each kind. A perceptron's graph has a few nodes
/// per layer and a few attributes per node; without caps, a hostile file of tiny empty
/// entries would cost a hundred times its size in memory. Beyond them the model is
/// `.unsupportedModel`.
enum ONNXLimits {
    static let nodes = 16_384
    static let attributesPerNode = 16
    static let namesPerNode = 64
    static let initializers = 16_384
    static let graphValues = 4_096
    static let metadata = 1_024
}

/// The field numbers of the onnx.proto messages above, written once for the encoder and
/// the decoder.
enum ONNXField {
    enum Model {
        static let irVersion = 1, producerName = 2, producerVersion = 3, graph = 7, operatorSet = 8, metadata = 14
    }
    enum OperatorSet { static let domain = 1, version = 2 }
    enum Entry { static let key = 1, value = 2 }
    enum Graph {
        static let node = 1, name = 2, initializer = 5, input = 11, output = 12, sparseInitializer = 15
    }
    enum Node { static let input = 1, output = 2, name = 3, opType = 4, attribute = 5, domain = 7 }
    enum Attribute {
        static let name = 1, float = 2, integer = 3, string = 4, tensor = 5, graph = 6
        static let floats = 7, integers = 8, graphs = 11, type = 20
    }
    enum Tensor {
        static let dims = 1, dataType = 2, floatData = 4, int32Data = 5, int64Data = 7, name = 8
        static let rawData = 9, doubleData = 10, dataLocation = 14
    }
    enum ValueInfo { static let name = 1, type = 2 }
    enum TypeProto { static let tensor = 1 }
    enum TensorType { static let elementType = 1, shape = 2 }
    enum Shape { static let dimension = 1 }
    enum Dimension { static let value = 1, parameter = 2 }
}
