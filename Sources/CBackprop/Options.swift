import BackpropCore
import CBackpropABI

@_cdecl("bp_set_option")
public func bp_set_option(_ net: OpaquePointer?, _ key: Int32, _ value: Double) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        var options = network.trainingOptions
        if key == TrainingOptions.optimizerKey {
            options.optimizer = try code(value, of: Optimizer.self)
        } else if key == TrainingOptions.scheduleKey {
            options.schedule = try code(value, of: LearningRateSchedule.self)
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
        } else if key == TrainingOptions.scheduleKey {
            value.pointee = Double(options.schedule.code)
        } else {
            value.pointee = options[try hyperparameter(key: key)]
        }
    }
}

/// The optimizer or schedule whose BP_* value is `value` (a double, as every option is).
/// A subnormal is refused by its bits first: the call runs with denormals-are-zero, under
/// which `Int32(exactly:)` would read 1e-309 as the exact integer 0 (plain SGD).
private func code<Code: PublicCode>(_ value: Double, of _: Code.Type) throws(Failure) -> Code {
    guard !value.isSubnormal, let raw = Int32(exactly: value), let match = Code(rawValue: raw) else {
        throw Failure(BP_ERROR_UNKNOWN_ENUM, "the \(Code.kind) is \(value); expected \(Code.constantList)")
    }
    return match
}

private func hyperparameter(key: Int32) throws(Failure) -> TrainingOptions.Hyperparameter {
    guard let hyperparameter = TrainingOptions.Hyperparameter(rawValue: key) else {
        let keys = TrainingOptions.Hyperparameter.allCases.map(\.rawValue)
            + [TrainingOptions.optimizerKey, TrainingOptions.scheduleKey]
        throw Failure(BP_ERROR_UNKNOWN_ENUM,
            "option key \(key) is unknown; expected a BP_OPTION_* value (\(keys.min() ?? 0) to \(keys.max() ?? 0))")
    }
    return hyperparameter
}
