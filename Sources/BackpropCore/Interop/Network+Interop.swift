/// ONNX models in and out (see `ONNXExport` for what is written, `ONNXImport` for what is read).
extension Network {
    /// The network as the bytes of an ONNX model.
    public func onnxModel() throws(BackpropError) -> [UInt8] {
        // The parameters are copied about five times on the way (tensor, initializer,
        // graph, model and the caller's buffer): refuse what memory cannot hold, rather
        // than let an array allocation fail.
        try Memory.checkBudget(floats: 5 * parameterCount, for: "the ONNX model of \(parameterCount) parameters")
        return ONNXExport.model(of: self).encoded()
    }

    /// Writes the network's ONNX model to `path`, atomically (see `Files.writeAtomically`).
    public func exportONNX(to path: String) throws(BackpropError) {
        let bytes = try onnxModel()
        // withUnsafeBytes rethrows untyped errors: the failure is carried out of it.
        var failure: BackpropError?
        bytes.withUnsafeBytes { raw in
            do throws(BackpropError) { try Files.writeAtomically(raw, to: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The network of an ONNX model's bytes. `loss` nil takes the loss a backprop export
    /// recorded, else cross-entropy for a softmax or sigmoid output, else squared error.
    public static func importONNX(_ bytes: UnsafeRawBufferPointer, loss: Loss?) throws(BackpropError) -> Network {
        try ONNXImport.network(from: bytes, loss: loss)
    }

    public static func importONNX(from path: String, loss: Loss?) throws(BackpropError) -> Network {
        try Files.withContents(of: path) { (bytes) throws(BackpropError) in try ONNXImport.network(from: bytes, loss: loss) }
    }
}
