import BackpropCore
import CBackpropABI

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
}

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
}
