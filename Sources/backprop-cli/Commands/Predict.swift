import BackpropCore

/// `backprop-cli predict`: a model's outputs for every sample, as CSV.
enum Predict: Command {
    static let name = "predict"
    static let summary = "write a model's predictions for every row of a data set as CSV"
    static let grammar = Arguments.Grammar(
        valued: DataOptions.valued.union(["model", "out"]), switches: DataOptions.switches.union(["no-label"]))

    static let usage = """
        usage: backprop-cli predict --model MODEL --data FILE [--out FILE] [options]

        Writes one CSV row per sample: for a classifier the predicted class, then the output
        of every unit (header class,p0,p1,...; class,p1 for a single sigmoid unit, whose
        output is the probability of class 1); otherwise the outputs (header output0,...).

          --model FILE           the model file
          --out FILE             where to write the CSV (default: standard output); written
                                 to a temporary file first and renamed, so never half-written
        \(DataOptions.usage)
          --no-label             the data has no label column (by default a CSV file with one
                                 column more than the model has inputs has its label column,
                                 the last or --label-column, dropped)
        """

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.operands(atMost: 0)
        let network = try Network.load(from: arguments.requiredString("model"))
        let out = arguments.string("out")
        if let out { try FileIO.checkCanCreate(out) }
        let samples = try DataOptions.read(arguments, labelRule: labelRule(arguments, inputs: network.inputSize))
        try samples.checkFeatureCount(equals: network.inputSize, of: "the model")
        let csv = predictionsCSV(try network.outputs(for: samples), kind: OutputKind(network), width: network.outputSize)
        if let out {
            try FileIO.writeAtomically(Array(csv.utf8), to: out)
        } else {
            Output.write(csv)
        }
    }

    private static func labelRule(_ arguments: Arguments, inputs: Int) throws(CLIError) -> LabelRule {
        let column = DataOptions.labelColumn(arguments)
        guard arguments.isSet("no-label") else { return column.map(LabelRule.column) ?? .lastIfExtra(inputs: inputs) }
        guard column == nil else { throw .usage("--no-label and --label-column contradict each other") }
        return .none
    }

    private static func predictionsCSV(_ outputs: [Float], kind: OutputKind, width: Int) -> String {
        var csv = header(kind: kind, width: width).joined(separator: ",") + "\n"
        for start in stride(from: 0, to: outputs.count, by: width) {
            let row = outputs[start ..< start + width]
            let values = row.map { "\($0)" }
            csv += (kind.predictedClass(row).map { ["\($0)"] + values } ?? values).joined(separator: ",") + "\n"
        }
        return csv
    }

    private static func header(kind: OutputKind, width: Int) -> [String] {
        switch kind {
        case .classes: return ["class"] + (0 ..< width).map { "p\($0)" }
        case .binary: return ["class", "p1"]
        case .regression: return (0 ..< width).map { "output\($0)" }
        }
    }
}
