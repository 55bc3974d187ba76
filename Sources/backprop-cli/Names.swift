import BackpropCore

/// The command-line names of one of the library's enums. Case is ignored and `_` may be
/// written for `-`, so `cross_entropy`, `Leaky-ReLU` and `adamW` are all understood.
struct NameTable<Value: Equatable & Sendable>: Sendable {
    /// What the values are, for error messages ("activation").
    let kind: String
    let entries: [(name: String, value: Value)]

    func value(named text: String) throws(CLIError) -> Value {
        let normalized = text.lowercased().replacingUnderscores()
        guard let entry = entries.first(where: { $0.name == normalized }) else {
            throw .usage("unknown \(kind) \"\(text)\"; expected one of \(list)")
        }
        return entry.value
    }

    func name(of value: Value) -> String {
        entries.first { $0.value == value }?.name ?? "\(value)"
    }

    /// "a, b, c", for usage texts and error messages.
    var list: String {
        entries.map(\.name).joined(separator: ", ")
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}

extension Activation {
    static let names = NameTable<Activation>(kind: "activation", entries: [
        ("sigmoid", .sigmoid), ("tanh", .tanh), ("relu", .relu), ("leaky-relu", .leakyRelu),
        ("linear", .linear), ("softmax", .softmax),
    ])
}

extension Loss {
    static let names = NameTable<Loss>(kind: "loss", entries: [
        ("mse", .meanSquaredError), ("cross-entropy", .crossEntropy),
    ])
}

extension Optimizer {
    static let names = NameTable<Optimizer>(kind: "optimizer", entries: [
        ("sgd", .sgd), ("momentum", .momentum), ("nesterov", .nesterov), ("adam", .adam), ("adamw", .adamW),
        ("rprop", .rprop),
    ])

    /// The hyperparameters this optimizer reads; `train` refuses the others, which would
    /// silently do nothing.
    var hyperparameters: [TrainingOptions.Hyperparameter] {
        let shared: [TrainingOptions.Hyperparameter] = [.weightDecay, .clipNorm]
        switch self {
        case .sgd: return shared
        case .momentum, .nesterov: return [.momentum] + shared
        case .adam, .adamW: return [.beta1, .beta2, .epsilon] + shared
        case .rprop: return [.rpropIncrease, .rpropDecrease, .rpropMinStep, .rpropMaxStep, .rpropInitialStep] + shared
        }
    }
}

extension TrainingOptions.Hyperparameter {
    /// The option that sets it (`--weight-decay`), without the dashes; `info` shows the
    /// same names.
    var flag: String {
        switch self {
        case .momentum: return "momentum"
        case .beta1: return "beta1"
        case .beta2: return "beta2"
        case .epsilon: return "epsilon"
        case .weightDecay: return "weight-decay"
        case .clipNorm: return "clip-norm"
        case .rpropIncrease: return "rprop-increase"
        case .rpropDecrease: return "rprop-decrease"
        case .rpropMinStep: return "rprop-min-step"
        case .rpropMaxStep: return "rprop-max-step"
        case .rpropInitialStep: return "rprop-initial-step"
        }
    }
}
