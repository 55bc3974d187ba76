import BackpropCore

/// `backprop-cli export`: a model file as an ONNX model or as standalone C source.
enum Export: Command {
    static let name = "export"
    static let summary = "write a model file as an ONNX model, or as C source for devices"
    static let grammar = Arguments.Grammar(valued: ["format", "out", "prefix"], switches: ["int8", "int32-accumulate"])
    /// The formats `--format` takes.
    static let formats = ["onnx", "c"]

    static let usage = """
        usage: backprop-cli export MODEL --out FILE [--format onnx|c] [--prefix NAME] [--int8]

        onnx (the default): writes the model's network as an ONNX model (opset 17): one
        Gemm per layer and its activation, the input scaling in front, the target scaling
        behind, a dynamic batch dimension, and the loss, library version and layers in its
        metadata. onnxruntime's outputs for it are the model's predictions. Training state
        (optimizer, schedule, dropout) stays in the model file.

        c: writes FILE (ending in .c) and its header beside it (.h): C99 with the
        parameters as static const arrays and NAME_predict(input, output) for one sample,
        needing only <math.h>: no libbackprop, no allocation.

          --out FILE             where to write; each file goes to a temporary file first
                                 and is renamed, so never half-written
          --format FORMAT        \(formats.joined(separator: " or ")) (default onnx)
          --prefix NAME          c: the C name of the function and arrays (default network)
          --int8                 c: int8 weights, one scale per output unit
          --int32-accumulate     c, with --int8: also int8 inputs to each layer, summed in
                                 integers
        """

    static func run(_ arguments: Arguments) throws {
        let operands = try arguments.operands(atMost: 1)
        guard let path = operands.first else { throw CLIError.usage("give the model file to export") }
        let format = arguments.string("format") ?? "onnx"
        guard formats.contains(format) else {
            throw CLIError.usage("--format: \"\(format)\" is not a format this tool writes; expected \(formats.joined(separator: ", "))")
        }
        let out = try arguments.requiredString("out")
        let options = CSourceOptions(weights: arguments.isSet("int8") ? .int8 : .float,
                                     accumulation: arguments.isSet("int32-accumulate") ? .int32 : .float)
        guard format == "c" || (arguments.string("prefix") == nil && options == CSourceOptions()) else {
            throw CLIError.usage("--prefix, --int8 and --int32-accumulate are for --format c")
        }
        try FileIO.checkCanCreate(out)
        let network = try Network.load(from: path)
        if format == "onnx" {
            try FileIO.writeAtomically(try network.onnxModel(), to: out)
            print("wrote \(out): \(network.layerList) (\(network.activationList)), ONNX opset 17")
        } else {
            try network.exportCSource(to: out, prefix: arguments.string("prefix") ?? "network", options: options)
            print("wrote \(out) and its header: \(network.layerList) (\(network.activationList)), \(options.weights == .int8 ? "int8" : "float") weights")
        }
    }
}
