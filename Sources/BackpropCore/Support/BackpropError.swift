/// Why a `Network` operation failed. `message` names the argument and what was expected,
/// in words a user can act on; `kind` is stable and maps to a C status code.
public struct BackpropError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A value outside its documented range (a zero size, a negative learning rate).
        case invalidArgument
        /// A layer stack the math does not support (softmax on a hidden layer...).
        case invalidArchitecture
        /// A buffer whose element count does not match the network.
        case sizeMismatch
        /// Sizes whose product does not fit in `Int`, or beyond the documented limits.
        case sizeOverflow
        /// A NaN or infinity where a finite number is required.
        case nonFinite
        /// An operation that is not valid in the network's current state.
        case state
        /// Memory that could not be allocated or exceeds the machine's memory.
        case outOfMemory
        /// A loss or gradient became NaN or infinite; the parameters were left unchanged.
        case diverged
        /// A buffer is too small for the model being saved into it.
        case bufferTooSmall
        /// The operating system refused a file operation.
        case io
        /// The bytes do not start like a model file.
        case notAModel
        /// A model file of a format version this library does not read.
        case unsupportedVersion
        /// A model file that ends before its declared contents.
        case truncated
        /// A model file whose CRC-32 does not match its contents.
        case checksumMismatch
        /// A model file with a valid checksum whose fields make no sense.
        case corruptModel
        /// A valid ONNX model that is not a network the library can represent (an operator,
        /// attribute or layout it lacks).
        case unsupportedModel
        /// Another process of a data-parallel fit could not start training, so this one
        /// did not start either.
        case peerFailed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
