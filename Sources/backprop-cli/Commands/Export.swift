import BackpropCore

/// `backprop-cli export`: a model file as an ONNX model.
enum Export: Command {
    static let name = "export"
    static let summary = "write a model file as an ONNX model, for onnxruntime and the other runtimes"
    static let grammar = Arguments.Grammar(valued: ["format", "out"], switches: [])
    /// The formats `--format` takes.
    static let formats = ["onnx"]

    static let usage = """
        usage: backprop-cli export MODEL --out FILE [--format onnx]

        Writes the model's network as an ONNX model (opset 17): one Gemm per layer and its
        activation, the input scaling in front, the target scaling behind, a dynamic batch
        dimension, and the loss, library version and layers in its metadata. onnxruntime's
        outputs for it are the model's predictions. Training state (optimizer, schedule,
        dropout) stays in the model file.

          --out FILE             where to write the ONNX model; written to a temporary file
                                 first and renamed, so never half-written
          --format FORMAT        \(formats.joined(separator: ", ")) (the default)
        """

    static func run(_ arguments: Arguments) throws {
        let operands = try arguments.operands(atMost: 1)
        guard let path = operands.first else { throw CLIError.usage("give the model file to export") }
        let format = arguments.string("format") ?? "onnx"
        guard formats.contains(format) else {
            throw CLIError.usage("--format: \"\(format)\" is not a format this tool writes; expected \(formats.joined(separator: ", "))")
        }
        let out = try arguments.requiredString("out")
        try FileIO.checkCanCreate(out)
        let network = try Network.load(from: path)
        try FileIO.writeAtomically(try network.onnxModel(), to: out)
        print("wrote \(out): \(network.layerList) (\(network.activationList)), ONNX opset 17")
    }
}
