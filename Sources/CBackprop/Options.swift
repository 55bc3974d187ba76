import BackpropCore
import CBackpropABI

@_cdecl("bp_set_option")
public func bp_set_option(_ net: OpaquePointer?, _ key: Int32, _ value: Double) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        var options = network.trainingOptions
        if key == TrainingOptions.optimizerKey {
            options.optimizer = try optimizer(value)
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
        if key == TrainingOptions.optimizerKey {
            value.pointee = Double(options.optimizer.code)
        } else {
            value.pointee = options[try hyperparameter(key: key)]
        }
    }
}

/// The optimizer whose BP_OPTIMIZER_* value is `value` (a double, as every option is).
/// A subnormal is refused by its bits first: the call runs with denormals-are-zero, under
/// which `Int32(exactly:)` would read 1e-309 as the exact integer 0 (plain SGD).
private func optimizer(_ value: Double) throws(Failure) -> Optimizer {
    guard !value.isSubnormal, let code = Int32(exactly: value), let optimizer = Optimizer(rawValue: code) else {
        throw Failure(BP_ERROR_UNKNOWN_ENUM, "the optimizer is \(value); expected \(Optimizer.constantList)")
    }
    return optimizer
}

private func hyperparameter(key: Int32) throws(Failure) -> TrainingOptions.Hyperparameter {
    guard let hyperparameter = TrainingOptions.Hyperparameter(rawValue: key) else {
        let keys = TrainingOptions.Hyperparameter.allCases.map(\.rawValue) + [TrainingOptions.optimizerKey]
        throw Failure(BP_ERROR_UNKNOWN_ENUM,
            "option key \(key) is unknown; expected a BP_OPTION_* value (\(keys.min() ?? 0) to \(keys.max() ?? 0))")
    }
    return hyperparameter
}
