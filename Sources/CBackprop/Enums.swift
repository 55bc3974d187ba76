import BackpropCore
import CBackpropABI

/// The BP_* activation constants of the header, both ways.
extension Activation {
    /// The activation of a BP_* constant, or a BP_ERROR_UNKNOWN_ENUM failure naming `argument`.
    init(code: Int32, argument: String) throws(Failure) {
        switch code {
        case BP_SIGMOID: self = .sigmoid
        case BP_TANH: self = .tanh
        case BP_RELU: self = .relu
        case BP_LEAKY_RELU: self = .leakyRelu
        case BP_LINEAR: self = .linear
        case BP_SOFTMAX: self = .softmax
        default:
            throw Failure(BP_ERROR_UNKNOWN_ENUM,
                "\(argument) is \(code); expected BP_SIGMOID (0), BP_TANH (1), BP_RELU (2), BP_LEAKY_RELU (3), BP_LINEAR (4) or BP_SOFTMAX (5)")
        }
    }

    var code: Int32 {
        switch self {
        case .sigmoid: return BP_SIGMOID
        case .tanh: return BP_TANH
        case .relu: return BP_RELU
        case .leakyRelu: return BP_LEAKY_RELU
        case .linear: return BP_LINEAR
        case .softmax: return BP_SOFTMAX
        }
    }
}

/// The BP_LOSS_* constants of the header, both ways.
extension Loss {
    init(code: Int32) throws(Failure) {
        switch code {
        case BP_LOSS_MSE: self = .meanSquaredError
        case BP_LOSS_CROSS_ENTROPY: self = .crossEntropy
        default:
            throw Failure(BP_ERROR_UNKNOWN_ENUM,
                "loss is \(code); expected BP_LOSS_MSE (0) or BP_LOSS_CROSS_ENTROPY (1)")
        }
    }

    var code: Int32 {
        switch self {
        case .meanSquaredError: return BP_LOSS_MSE
        case .crossEntropy: return BP_LOSS_CROSS_ENTROPY
        }
    }
}
