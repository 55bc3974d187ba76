import BackpropCore
import CBackpropABI

@_cdecl("bp_set_option")
public func bp_set_option(_ net: OpaquePointer?, _ key: Int32, _ value: Double) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        var options = network.trainingOptions
        if key == BP_OPTION_OPTIMIZER {
            options.optimizer = try optimizer(code: value)
        } else {
            options[try hyperparameter(key: key)] = value
        }
        try network.setTrainingOptions(options)
    }
}

@_cdecl("bp_get_option")
public func bp_get_option(_ net: OpaquePointer?, _ key: Int32, _ value: UnsafeMutablePointer<Double>?) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let value = try required(value, "value")
        let options = network.trainingOptions
        if key == BP_OPTION_OPTIMIZER {
            value.pointee = Double(optimizerCodes.firstIndex(of: options.optimizer) ?? 0)
        } else {
            value.pointee = options[try hyperparameter(key: key)]
        }
    }
}

/// Indexed by the BP_OPTIMIZER_* values.
private let optimizerCodes: [Optimizer] = [.sgd, .momentum, .nesterov, .adam, .adamW, .rprop]

private func optimizer(code: Double) throws(Failure) -> Optimizer {
    guard let index = Int(exactly: code), optimizerCodes.indices.contains(index) else {
        throw Failure(BP_ERROR_UNKNOWN_ENUM,
            "the optimizer is \(code); expected BP_OPTIMIZER_SGD (0), _MOMENTUM (1), _NESTEROV (2), _ADAM (3), _ADAMW (4) or _RPROP (5)")
    }
    return optimizerCodes[index]
}

private func hyperparameter(key: Int32) throws(Failure) -> TrainingOptions.Hyperparameter {
    switch key {
    case BP_OPTION_MOMENTUM: return .momentum
    case BP_OPTION_BETA1: return .beta1
    case BP_OPTION_BETA2: return .beta2
    case BP_OPTION_EPSILON: return .epsilon
    case BP_OPTION_WEIGHT_DECAY: return .weightDecay
    case BP_OPTION_CLIP_NORM: return .clipNorm
    case BP_OPTION_RPROP_INCREASE: return .rpropIncrease
    case BP_OPTION_RPROP_DECREASE: return .rpropDecrease
    case BP_OPTION_RPROP_MIN_STEP: return .rpropMinStep
    case BP_OPTION_RPROP_MAX_STEP: return .rpropMaxStep
    case BP_OPTION_RPROP_INITIAL_STEP: return .rpropInitialStep
    default:
        throw Failure(BP_ERROR_UNKNOWN_ENUM, "option key \(key) is unknown; expected a BP_OPTION_* value (1 to 12)")
    }
}
