import BackpropCore

/// `backprop-cli train`: builds a network, fits it to labelled data and saves it.
enum Train: Command {
    static let name = "train"
    static let summary = "train a network on labelled data and save it as a model file"
    static let grammar = Arguments.Grammar(
        valued: DataOptions.valued.union(TrainFlags.valued), switches: DataOptions.switches.union(TrainFlags.switches))

    static let usage = """
        usage: backprop-cli train --data FILE (--layers SIZES | --hidden SIZES) --out MODEL [options]

        Trains a multilayer perceptron by mini-batch backpropagation and saves it atomically.

        data:
        \(DataOptions.usage)

        network:
          --layers N0,...,NL     every layer size, the input first: N0 must equal the number
                                 of features (the columns besides the label, or the pixels)
          --hidden N1,...        the hidden layer sizes only; the input size comes from the data
                                 and the output size from the labels (one unit per class from 0
                                 to the largest label with cross-entropy, one unit with mse)
          --activations A1,...   one per layer after the input, each one of
                                 \(Activation.names)
                                 (default: relu hidden layers; a softmax output for classes,
                                 sigmoid for one cross-entropy unit, linear for one mse unit)
          --loss NAME            \(Loss.names) (default cross-entropy)
          --seed N               seeds the weights, the validation split and the shuffling
                                 (default \(FitOptions().seed)); the same seed gives the same model file
          --init NAME            how the weights and biases are drawn from the seed, one of
                                 \(Initialization.names)
                                 (default \(Initialization.recommended.name), chosen by measurement: see BP_INIT_RECOMMENDED)

          Labels: with K > 1 output units, the classes 0 to K-1 (one-hot encoded); with one
          cross-entropy unit, 0 or 1; with one mse unit, the target value itself.

        training:
          --epochs N             passes over the training data (default \(FitOptions().epochs))
          --batch N              samples per step (default \(FitOptions().batchSize))
          --lr F                 the learning rate (default \(FitOptions().learningRate); rprop ignores it)
          --optimizer NAME       \(Optimizer.names) (default sgd)
          --momentum F           momentum and nesterov's μ (default \(TrainingOptions().momentum))
          --beta1 F, --beta2 F, --epsilon F
                                 adam and adamw's β1, β2 and ε (default \(TrainingOptions().beta1), \(TrainingOptions().beta2), \(TrainingOptions().epsilon))
          --rprop-increase F, --rprop-decrease F, --rprop-initial-step F,
          --rprop-min-step F, --rprop-max-step F
                                 rprop's η+, η-, Δ0, Δmin and Δmax (default \(Format.plain(TrainingOptions().rpropIncrease)), \(Format.plain(TrainingOptions().rpropDecrease)),
                                 \(Format.plain(TrainingOptions().rpropInitialStep)), \(Format.plain(TrainingOptions().rpropMinStep)), \(Format.plain(TrainingOptions().rpropMaxStep)))
          --schedule NAME        how the learning rate changes from epoch to epoch, one of
                                 \(LearningRateSchedule.names) (default constant);
                                 see BP_SCHEDULE_* in backprop.h
          --gamma F              step and exponential: the factor (default \(Format.plain(TrainingOptions().gamma)))
          --step-epochs N        step: epochs per decay (default \(Format.plain(TrainingOptions().stepEpochs)))
          --warmup-epochs N, --cycle-epochs N
                                 cosine: linear warm-up, then annealing to --min-lr by the end
                                 of the cycle (default 0 and 0: the cycle is --epochs)
          --min-lr F             cosine and plateau: the lowest rate (default 0)
          --power-t F            invscaling: lr / (samples seen + 1)^F (default \(Format.plain(TrainingOptions().powerT)))
          --plateau-factor F, --plateau-patience N, --plateau-threshold F
                                 plateau: multiply the rate by F after more than N epochs
                                 without the monitored loss falling by the threshold
                                 (default \(Format.plain(TrainingOptions().plateauFactor)), \(Format.plain(TrainingOptions().plateauPatience)), \(Format.plain(TrainingOptions().plateauThreshold)))
          --huber-delta F        the huber loss's δ: quadratic within it, linear beyond (default 1)
          --weight-decay F       L2 regularisation, decoupled for adamw (default 0)
          --clip-norm F          scale larger gradients down to this L2 norm (default 0: off)
          --dropout F[,F...]     inverted dropout while training: the rate of every hidden layer,
                                 or one per hidden layer, each in [0, 1) (default 0: none);
                                 predict and evaluate drop nothing
          --no-shuffle           visit the samples in file order every epoch
          --standardize          learn on standardised features (and, for regression, targets):
                                 the model stores their means and deviations from the training
                                 samples and scales every input and target it is given, so
                                 predict and evaluate take and give raw values
          --validation-split F   hold out this fraction of the samples, chosen by the seed,
                                 and validate on it after every epoch
          --patience N           stop after N epochs without improvement of the validation
                                 loss (the training loss without a validation split) and keep
                                 the best epoch's parameters (default 0: off)
          --min-delta F          the improvement that counts for --patience (default 0)
          --target-loss F        stop once that loss is at or below F

        output:
          --out FILE             the model file to write
          --quiet                print nothing but errors; otherwise progress is a bar on a
                                 terminal, or at most about 50 lines
        """

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.operands(atMost: 0)
        let flags = try TrainFlags(arguments)
        try FileIO.checkCanCreate(flags.out)
        let samples = try DataOptions.read(arguments, labelRule: .column(DataOptions.labelColumn(arguments) ?? .last))
        let labels = try samples.requiredLabels()
        let network = try makeNetwork(flags, samples: samples, labels: labels)
        let kind = OutputKind(network)
        let rows = LabelledRows(
            inputs: samples.features, targets: try kind.targets(for: labels, location: samples.labelLocation),
            inputWidth: network.inputSize, targetWidth: network.outputSize)
        let (training, validation) = try split(rows, flags)

        let report: (String) -> Void = flags.quiet ? { _ in } : { print($0) }
        report("network  \(describe(network, flags))")
        report("data     \(training.count) training samples from \(samples.path)"
            + (validation.map { ", \($0.count) held out for validation" } ?? ""))
        if flags.standardize { try standardize(network, training, regression: kind == .regression) }
        let stopwatch = Stopwatch()
        let history = try fit(network, training, validation, flags, showsAccuracy: kind != .regression)
        if let reason = stopReason(history, flags, validating: validation != nil) { report(reason) }
        report("finished in \(Format.duration(stopwatch.elapsed))")
        report(try metrics(network, "training", training, kind))
        if let validation { report(try metrics(network, "validation", validation, kind)) }
        try network.save(to: flags.out)
        report("saved \(flags.out) (\(network.parameterCount) parameters, \(Format.size(network.encodedSize)))")
    }

    private static func makeNetwork(_ flags: TrainFlags, samples: Samples, labels: [Float]) throws(CLIError) -> Network {
        let sizes = try layerSizes(flags, samples: samples, labels: labels)
        let activations = flags.activations ?? defaultActivations(sizes: sizes, loss: flags.loss)
        let network = try withFlagValues { () throws(BackpropError) in
            try Network(layerSizes: sizes, activations: activations, loss: flags.loss, seed: flags.seed,
                        initialization: flags.initialization)
        }
        try withFlagValues { () throws(BackpropError) in try network.setTrainingOptions(flags.training) }
        let rates = try flags.dropoutRates(hidden: sizes.count - 2)
        try withFlagValues { () throws(BackpropError) in try network.setDropout(rates: rates, seed: flags.seed) }
        return network
    }

    private static func layerSizes(_ flags: TrainFlags, samples: Samples, labels: [Float]) throws(CLIError) -> [Int] {
        switch flags.architecture {
        case .layers(let sizes):
            let list = sizes.map(String.init).joined(separator: ",")
            try samples.checkFeatureCount(equals: sizes[0], of: "the network of --layers \(list)")
            return sizes
        case .hidden(let sizes):
            let outputs = try outputWidth(loss: flags.loss, labels: labels, location: samples.labelLocation)
            return [samples.featureCount] + sizes + [outputs]
        }
    }

    /// The output size for --hidden: one unit per class 0 … largest label with
    /// cross-entropy, one unit with mse.
    private static func outputWidth(loss: Loss, labels: [Float], location: (Int) -> String) throws(CLIError) -> Int {
        guard loss == .crossEntropy, let largest = labels.indices.max(by: { labels[$0] < labels[$1] }) else { return 1 }
        let label = labels[largest]
        guard label >= 1, label == label.rounded(), label < Float(Network.maxLayerSize) else {
            throw .failure("\(location(largest)): the largest label is \(Format.plain(label)), but --hidden needs classes 0, 1, 2, … to give the output layer one unit per class (give every size with --layers instead)")
        }
        return Int(label) + 1
    }

    /// ReLU hidden layers and the output layer the loss and output size call for.
    private static func defaultActivations(sizes: [Int], loss: Loss) -> [Activation] {
        let output: Activation
        switch OutputKind(outputSize: sizes[sizes.count - 1], loss: loss) {
        case .classes: output = .softmax
        case .binary: output = .sigmoid
        case .regression: output = .linear
        }
        return Array(repeating: .relu, count: sizes.count - 2) + [output]
    }

    /// The training rows and, with --validation-split, the held-out ones.
    private static func split(_ rows: LabelledRows, _ flags: TrainFlags) throws(CLIError) -> (LabelledRows, LabelledRows?) {
        guard let fraction = flags.validationFraction else { return (rows, nil) }
        let (training, validation) = try rows.split(holdingOut: fraction, seed: flags.seed)
        return (training, validation)
    }

    /// "4,16,3 relu,softmax cross-entropy, pytorch initialisation, adam with learning rate 0.01"
    private static func describe(_ network: Network, _ flags: TrainFlags) -> String {
        let optimizer = flags.training.optimizer, schedule = flags.training.schedule
        let scheduled = schedule == .constant ? "" : " on the \(schedule.name) schedule"
        let learningRate = optimizer == .rprop ? "" : " with learning rate \(Format.plain(flags.fit.learningRate))\(scheduled)"
        let rates = network.dropout.map { ", dropout " + $0.rates.map { Format.plain($0) }.joined(separator: ",") } ?? ""
        return "\(network.layerList) \(network.activationList) \(network.loss.name), "
            + "\(flags.initialization.name) initialisation, \(optimizer.name)\(learningRate)\(rates)"
    }

    /// Sets the input scaling, and a regression model's target scaling, from the training rows.
    private static func standardize(_ network: Network, _ rows: LabelledRows, regression: Bool) throws(BackpropError) {
        try rows.inputs.withUnsafeBufferPointer { (inputs) throws(BackpropError) in
            try network.standardizeInputs(inputs, count: rows.count)
        }
        guard regression else { return }
        try rows.targets.withUnsafeBufferPointer { (targets) throws(BackpropError) in
            try network.standardizeTargets(targets, count: rows.count)
        }
    }

    private static func fit(
        _ network: Network, _ training: LabelledRows, _ validation: LabelledRows?, _ flags: TrainFlags,
        showsAccuracy: Bool
    ) throws(BackpropError) -> [EpochReport] {
        let progress = Progress(epochs: flags.fit.epochs, quiet: flags.quiet, showsAccuracy: showsAccuracy,
                                showsLearningRate: flags.training.schedule != .constant)
        // Also when training fails, so that the error is not printed over the bar.
        defer { progress.finish() }
        return try network.fit(
            inputs: training.inputs, targets: training.targets,
            validation: validation.map { ($0.inputs, $0.targets) }, options: flags.fit
        ) { report in
            progress.report(report)
            return true
        }
    }

    /// Why training ended before the last epoch, if it did.
    private static func stopReason(_ history: [EpochReport], _ flags: TrainFlags, validating: Bool) -> String? {
        guard let last = history.last, last.epoch < flags.fit.epochs else { return nil }
        let monitored = validating ? "validation loss" : "training loss"
        let lastLoss = validating ? last.validationLoss : last.trainLoss
        if let target = flags.fit.targetLoss, lastLoss <= target {
            return "stopped after epoch \(last.epoch): the \(monitored) reached the target \(Format.number(target))"
        }
        return "stopped early after epoch \(last.epoch): the \(monitored) did not improve for \(flags.fit.patience) epochs; the best epoch's parameters were kept"
    }

    /// "validation  loss 0.0503  accuracy 98.3%": the trained network on one set of rows.
    private static func metrics(
        _ network: Network, _ name: String, _ rows: LabelledRows, _ kind: OutputKind
    ) throws(BackpropError) -> String {
        let (loss, accuracy) = try network.evaluate(inputs: rows.inputs, targets: rows.targets)
        let accuracyText = kind == .regression || accuracy.isNaN ? "" : "  accuracy \(Format.percent(accuracy))"
        return Format.padded(name, to: 12) + "loss \(Format.number(loss))" + accuracyText
    }
}
