import BackpropCore

/// The train command's options, parsed and checked before any data is read.
struct TrainFlags {
    /// How the layer sizes are given.
    enum Architecture {
        /// Every size, the input first (`--layers 64,32,10`).
        case layers([Int])
        /// The hidden sizes only; the data decide the input and output sizes (`--hidden 32`).
        case hidden([Int])
    }

    let out: String
    let architecture: Architecture
    /// nil: chosen from the loss and the output size (see `Train.defaultActivations`).
    let activations: [Activation]?
    let loss: Loss
    /// Seeds the weights, the validation split and the shuffling.
    let seed: UInt64
    /// How the parameters are drawn from the seed.
    let initialization: Initialization
    let fit: FitOptions
    let training: TrainingOptions
    let validationFraction: Double?
    /// Whether to set the input scaling from the training samples first.
    let standardize: Bool
    /// Dropout rates: one for every hidden layer, or one per hidden layer; nil for none.
    let dropout: [Float]?
    let quiet: Bool

    static let valued: Set<String> = Set([
        "out", "layers", "hidden", "activations", "loss", "seed", "init", "epochs", "batch", "lr", "optimizer", "schedule",
        "validation-split", "patience", "min-delta", "target-loss", "dropout",
    ] + TrainingOptions.Hyperparameter.allCases.map(\.name))
    static let switches: Set<String> = ["no-shuffle", "quiet", "standardize"]

    init(_ arguments: Arguments) throws(CLIError) {
        out = try arguments.requiredString("out")
        architecture = try Self.architecture(arguments)
        activations = try arguments.list("activations", Activation.named)
        loss = try arguments.string("loss").map(Loss.named) ?? .crossEntropy
        seed = try arguments.unsignedInteger("seed") ?? FitOptions().seed
        initialization = try arguments.string("init").map(Initialization.named) ?? .recommended
        fit = try Self.fitOptions(arguments, seed: seed)
        training = try Self.trainingOptions(arguments, loss: loss)
        validationFraction = try Self.validationFraction(arguments)
        standardize = arguments.isSet("standardize")
        dropout = try arguments.list("dropout") { (text) throws(CLIError) in
            guard let rate = Float(text), rate.isFinite else { throw .usage("--dropout: \"\(text)\" is not a number") }
            return rate
        }
        quiet = arguments.isSet("quiet")
    }

    /// The dropout rate of each of `hidden` hidden layers (all 0 without --dropout).
    func dropoutRates(hidden: Int) throws(CLIError) -> [Float] {
        guard let dropout else { return Array(repeating: 0, count: hidden) }
        if dropout.count == 1 && hidden > 0 { return Array(repeating: dropout[0], count: hidden) }
        guard dropout.count == hidden else {
            throw .usage("--dropout has \(dropout.count) rates; the network has \(hidden) hidden layers (give one rate for all, or one per hidden layer)")
        }
        return dropout
    }

    private static func architecture(_ arguments: Arguments) throws(CLIError) -> Architecture {
        switch (try layerSizes(arguments, "layers"), try layerSizes(arguments, "hidden")) {
        case (let sizes?, nil):
            guard sizes.count >= 2 else { throw .usage("--layers needs the input and the output size at least, e.g. 4,16,3") }
            return .layers(sizes)
        case (nil, let sizes?):
            return .hidden(sizes)
        case (nil, nil):
            throw .usage("give the layer sizes with --layers (or the hidden ones with --hidden)")
        case (.some, .some):
            throw .usage("--layers and --hidden are alternatives; give one of them")
        }
    }

    private static func layerSizes(_ arguments: Arguments, _ name: String) throws(CLIError) -> [Int]? {
        try arguments.list(name) { (text) throws(CLIError) in
            guard let size = Int(text), size > 0 else { throw .usage("--\(name): \"\(text)\" is not a positive integer") }
            return size
        }
    }

    private static func fitOptions(_ arguments: Arguments, seed: UInt64) throws(CLIError) -> FitOptions {
        var options = FitOptions()
        options.epochs = try arguments.integer("epochs", atLeast: 1) ?? options.epochs
        options.batchSize = try arguments.integer("batch", atLeast: 1) ?? options.batchSize
        options.learningRate = try arguments.number("lr", atLeast: 0).map(Float.init) ?? options.learningRate
        options.shuffle = !arguments.isSet("no-shuffle")
        options.seed = seed
        options.patience = try arguments.integer("patience", atLeast: 0) ?? options.patience
        options.minDelta = try arguments.number("min-delta", atLeast: 0).map(Float.init) ?? options.minDelta
        options.targetLoss = try arguments.number("target-loss").map(Float.init)
        return options
    }

    /// The optimizer, the schedule and the hyperparameters given for them and for the loss.
    /// One that none of them reads is refused: `--momentum 0.9` without `--optimizer
    /// momentum` would otherwise do nothing, silently.
    private static func trainingOptions(_ arguments: Arguments, loss: Loss) throws(CLIError) -> TrainingOptions {
        var options = TrainingOptions()
        options.optimizer = try arguments.string("optimizer").map(Optimizer.named) ?? options.optimizer
        options.schedule = try arguments.string("schedule").map(LearningRateSchedule.named) ?? options.schedule
        for parameter in TrainingOptions.Hyperparameter.allCases {
            guard let value = try arguments.number(parameter.name) else { continue }
            if let reader = parameter.loss {
                guard reader == loss else {
                    throw .usage("--\(parameter.name) has no effect on the \(loss.name) loss; it is used by \(reader.name) (choose it with --loss)")
                }
            } else if parameter.isScheduleParameter {
                try check(parameter, readBy: options.schedule, among: LearningRateSchedule.allCases, \.hyperparameters)
            } else {
                try check(parameter, readBy: options.optimizer, among: Optimizer.allCases, \.properties.hyperparameters)
            }
            options[parameter] = value
        }
        return options
    }

    private static func check<Choice: PublicCode>(
        _ parameter: TrainingOptions.Hyperparameter, readBy choice: Choice, among all: [Choice],
        _ reads: KeyPath<Choice, [TrainingOptions.Hyperparameter]>
    ) throws(CLIError) {
        guard !choice[keyPath: reads].contains(parameter) else { return }
        let users = all.filter { $0[keyPath: reads].contains(parameter) }.map(\.name)
        let flag = Choice.kind == Optimizer.kind ? "optimizer" : "schedule"
        throw .usage("--\(parameter.name) has no effect on the \(choice.name) \(Choice.kind); it is used by \(users.joined(separator: ", ")) (choose one with --\(flag))")
    }

    private static func validationFraction(_ arguments: Arguments) throws(CLIError) -> Double? {
        guard let fraction = try arguments.number("validation-split") else { return nil }
        guard fraction > 0, fraction < 1 else {
            throw .usage("--validation-split is \(fraction); it must be a fraction between 0 and 1, e.g. 0.1")
        }
        return fraction
    }
}
