/// Saving and loading models in the format of docs/format.md. A loaded network is
/// bit-identical to the saved one, including gradients waiting to be applied.
extension Network {
    /// The size in bytes of this network's model.
    public var encodedSize: Int { ModelFormat.encodedSize(of: self) }

    /// Writes the model into `buffer`; returns the bytes written (`encodedSize`).
    @discardableResult
    public func encode(into buffer: UnsafeMutableRawBufferPointer) throws(BackpropError) -> Int {
        let size = encodedSize
        guard buffer.count >= size else {
            throw BackpropError(.bufferTooSmall, "the buffer holds \(buffer.count) bytes; the model needs \(size)")
        }
        ModelFormat.encode(self, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< size]))
        return size
    }

    /// The model as an array of bytes.
    public func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedSize) { buffer, count in
            ModelFormat.encode(self, into: UnsafeMutableRawBufferPointer(buffer))
            count = buffer.count
        }
    }

    /// A network from a model's bytes.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(BackpropError) -> Network {
        try ModelFormat.decode(bytes)
    }

    /// Saves atomically: the file at `path` is either the old one or the new one.
    public func save(to path: String) throws(BackpropError) {
        try ModelFile.save(self, to: path)
    }

    public static func load(from path: String) throws(BackpropError) -> Network {
        try ModelFile.load(from: path)
    }
}
