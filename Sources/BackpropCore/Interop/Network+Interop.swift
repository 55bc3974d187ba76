/// Models out of and into the library in other forms: ONNX (see `ONNXExport` for what is
/// written, `ONNXImport` for what is read) and standalone C source (`CSourceExport`).
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
        try Self.write(try onnxModel(), to: path)
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

extension Network {
    /// The C source and header of this network; the source includes `headerName`.
    public func cSource(prefix: String, headerName: String, options: CSourceOptions = CSourceOptions())
        throws(BackpropError) -> (source: String, header: String)
    {
        // About 16 bytes of text per parameter, in a few copies.
        try Memory.checkBudget(floats: 16 * parameterCount, for: "the C source of \(parameterCount) parameters")
        return try CSourceExport.files(of: self, prefix: prefix, headerName: headerName, options: options)
    }

    /// Writes the C source to `path`, which ends in ".c", and its header beside it (".h"),
    /// each atomically, the header second.
    public func exportCSource(to path: String, prefix: String, options: CSourceOptions = CSourceOptions()) throws(BackpropError) {
        guard path.hasSuffix(".c"), path.count > 2 else {
            throw BackpropError(.invalidArgument, "path \"\(path)\" does not end in \".c\"; the header is written beside it as \".h\"")
        }
        let headerPath = String(path.dropLast()) + "h"
        let headerName = String(headerPath.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        // The source includes the header by this name, between quotes.
        guard !headerName.contains(where: { $0 == "\"" || $0 == "\\" || $0.isNewline }) else {
            throw BackpropError(.invalidArgument, "the file name \"\(headerName)\" holds a quote, a backslash or a line break, which #include cannot name")
        }
        let files = try cSource(prefix: prefix, headerName: headerName, options: options)
        try Self.write(Array(files.source.utf8), to: path)
        try Self.write(Array(files.header.utf8), to: headerPath)
    }

    /// `Files.writeAtomically` of an array. withUnsafeBytes rethrows untyped errors, so the
    /// failure is carried out of it.
    private static func write(_ bytes: [UInt8], to path: String) throws(BackpropError) {
        var failure: BackpropError?
        bytes.withUnsafeBytes { raw in
            do throws(BackpropError) { try Files.writeAtomically(raw, to: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
