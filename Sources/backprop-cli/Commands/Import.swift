import BackpropCore

/// `backprop-cli import`: an ONNX model as a model file.
enum Import: Command {
    static let name = "import"
    static let summary = "read an ONNX multilayer perceptron (torch, tf2onnx, skl2onnx) into a model file"
    static let grammar = Arguments.Grammar(valued: ["loss", "out"], switches: [])

    static let usage = """
        usage: backprop-cli import FILE.onnx --out MODEL [--loss LOSS]

        Reads an ONNX model of a multilayer perceptron (Gemm or MatMul + Add layers and
        their activations, as torch.onnx, tf2onnx and skl2onnx write them; a classifier's
        post-processing is dropped, keeping its probabilities) and saves it as a model
        file that train, predict, evaluate and info take. Any other graph is refused,
        naming the node the library lacks.

          --out MODEL            where to write the model file (atomically)
          --loss LOSS            \(Loss.names) (default: the loss a backprop export
                                 recorded, else cross-entropy for a softmax or sigmoid
                                 output, else mse)
        """

    static func run(_ arguments: Arguments) throws {
        let operands = try arguments.operands(atMost: 1)
        guard let path = operands.first else { throw CLIError.usage("give the ONNX file to import") }
        let loss = try arguments.string("loss").map { (name) throws(CLIError) in try Loss.named(name) }
        let out = try arguments.requiredString("out")
        try FileIO.checkCanCreate(out)
        let network = try Network.importONNX(from: path, loss: loss)
        try network.save(to: out)
        print("wrote \(out): \(network.layerList) (\(network.activationList)), loss \(network.loss.name)")
    }
}
