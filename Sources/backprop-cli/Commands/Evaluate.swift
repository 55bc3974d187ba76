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
        regression model also the root-mean-square error.

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
        let loss = try network.evaluate(inputs: samples.features, targets: targets).loss
        print("samples   \(samples.count)")
        print("loss      \(Format.number(loss))")
        guard let classCount = kind.classCount else {
            // The loss is ½ mean ‖a − y‖², so the root-mean-square error is √(2 loss).
            print("rmse      \(Format.number((2 * loss).squareRoot()))")
            return
        }
        let matrix = try confusionMatrix(network, samples, labels, kind: kind, classCount: classCount)
        print("accuracy  \(Format.percent(Float(matrix.correct) / Float(matrix.total))) (\(matrix.correct) of \(matrix.total))")
        print("\nconfusion matrix (rows: true class, columns: predicted class)")
        print(matrix.table)
    }

    /// The labels were checked to be classes by `OutputKind.targets`.
    private static func confusionMatrix(
        _ network: Network, _ samples: Samples, _ labels: [Float], kind: OutputKind, classCount: Int
    ) throws(BackpropError) -> ConfusionMatrix {
        let outputs = try network.outputs(for: samples)
        let width = network.outputSize
        var matrix = ConfusionMatrix(classCount: classCount)
        for (index, label) in labels.enumerated() {
            let predicted = kind.predictedClass(outputs[index * width ..< (index + 1) * width]) ?? 0
            matrix.add(actual: Int(label), predicted: predicted)
        }
        return matrix
    }
}
