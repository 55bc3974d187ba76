import BackpropCore

/// `backprop-cli evaluate`: a model's loss and, for classifiers, accuracy and confusion
/// matrix on labelled data.
enum Evaluate: Command {
    static let name = "evaluate"
    static let summary = "print a model's loss, accuracy and confusion matrix on labelled data"
    static let grammar = Arguments.Grammar(
        valued: DataOptions.valued.union(["model"]), switches: DataOptions.switches)

    static let usage = """
        usage: backprop-cli evaluate --model MODEL --data FILE [options]

        Prints the model's mean loss on the data; for a classifier also its accuracy and the
        confusion matrix (a row per true class, a column per predicted class); for a
        regression model also the mean absolute error, the root-mean-square error and R².

          --model FILE           the model file
        \(DataOptions.usage)
        """

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.operands(atMost: 0)
        let network = try Network.load(from: arguments.requiredString("model"))
        let samples = try DataOptions.read(arguments, labelRule: .column(DataOptions.labelColumn(arguments) ?? .last))
        try samples.checkFeatureCount(equals: network.inputSize, of: "the model")
        let labels = try samples.requiredLabels()
        let kind = OutputKind(network)
        let targets = try kind.targets(for: labels, location: samples.labelLocation)
        let metrics = try network.metrics(inputs: samples.features, targets: targets)
        print("samples   \(samples.count)")
        print("loss      \(Format.number(metrics.loss))")
        guard kind.classCount != nil else {
            print("mae       \(Format.number(metrics.meanAbsoluteError))")
            print("rmse      \(Format.number(metrics.rootMeanSquaredError))")
            print("r2        \(Format.number(metrics.r2))")
            return
        }
        let matrix = ConfusionMatrix(metrics)
        print("accuracy  \(Format.percent(metrics.accuracy)) (\(matrix.correct) of \(matrix.total))")
        print("\nconfusion matrix (rows: true class, columns: predicted class)")
        print(matrix.table)
    }
}
