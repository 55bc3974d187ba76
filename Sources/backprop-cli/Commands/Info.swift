import BackpropCore

/// `backprop-cli info`: what a model file holds.
enum Info: Command {
    static let name = "info"
    static let summary = "describe a model file: architecture, loss, parameters, optimizer, schedule"
    static let grammar = Arguments.Grammar(valued: [], switches: [])

    static let usage = """
        usage: backprop-cli info MODEL

        Prints the model's layer sizes and activations (in the form train's --layers and
        --activations take), its loss, what its outputs mean, its parameter count, its
        optimizer with the settings that optimizer uses, its learning-rate schedule with
        its settings and the epochs it has run, whether it scales its inputs, its dropout
        rates if it has any, and the file's size.
        """

    static func run(_ arguments: Arguments) throws {
        let operands = try arguments.operands(atMost: 1)
        guard let path = operands.first else { throw CLIError.usage("give the model file to describe") }
        let network = try Network.load(from: path)
        let size = try FileIO.size(of: path)
        print("file         \(path) (\(Format.size(size))\(size >= 1024 ? ", \(size) bytes" : ""))")
        print("layers       \(network.layerList)")
        print("activations  \(network.activationList)")
        print("loss         \(network.loss.name)")
        print("outputs      \(describe(OutputKind(network)))")
        print("parameters   \(network.parameterCount)")
        print("optimizer    \(describe(network.trainingOptions))")
        print("schedule     \(describe(network.trainingOptions.schedule, network))")
        print("inputs       \(network.inputScaling == nil ? "used as they are" : "scaled: (x − shift) · scale per feature, stored in the model")")
        if network.targetScaling != nil { print("targets      scaled: (y − shift) · scale per output; predictions in their units") }
        if let dropout = network.dropout {
            let rates = dropout.rates.map { Format.plain($0) }.joined(separator: ",")
            print("dropout      \(rates) (hidden layers, while training; after \(dropout.passes) training passes)")
        }
    }

    /// "cosine: warmup-epochs 2, cycle-epochs 0, min-lr 0; after 3 epochs"
    private static func describe(_ schedule: LearningRateSchedule, _ network: Network) -> String {
        let options = network.trainingOptions
        let settings = schedule.hyperparameters.map { "\($0.name) \(Format.plain(options[$0]))" }
        let epochs = network.scheduleState.epochs
        let position = schedule == .constant ? "" : "; after \(epochs) epoch\(epochs == 1 ? "" : "s")"
        return schedule.name + (settings.isEmpty ? "" : ": " + settings.joined(separator: ", ")) + position
    }

    private static func describe(_ kind: OutputKind) -> String {
        switch kind {
        case .classes(let count): return "\(count) classes (the largest output wins)"
        case .binary: return "2 classes (the probability of class 1)"
        case .regression: return "1 value (regression)"
        }
    }

    /// "adam: beta1 0.9, beta2 0.999, epsilon 1e-08, weight-decay 0, clip-norm 0"
    private static func describe(_ options: TrainingOptions) -> String {
        let settings = options.optimizer.properties.hyperparameters.map { "\($0.name) \(Format.plain(options[$0]))" }
        return options.optimizer.name + ": " + settings.joined(separator: ", ")
    }
}
