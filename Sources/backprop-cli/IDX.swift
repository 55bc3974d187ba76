/// An array in the IDX format of the MNIST files: a big-endian magic number 0x0000TTNN
/// (TT the element type, NN the number of dimensions), NN big-endian UInt32 sizes, then
/// the elements. Only unsigned bytes (TT = 0x08) are supported, as MNIST uses.
struct IDXArray {
    let path: String
    let dimensions: [Int]
    /// The elements, row-major.
    let elements: ArraySlice<UInt8>

    /// Whether `bytes` start like an IDX file: two zero bytes, which no text file has.
    static func isIDX(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0
    }

    init(path: String, bytes: [UInt8]) throws(CLIError) {
        guard Self.isIDX(bytes) else { throw .failure("\(path): not an IDX file (it does not start with two zero bytes)") }
        let elementType = bytes[2]
        guard elementType == 0x08 else {
            throw .failure("\(path): IDX element type 0x\(String(elementType, radix: 16)) is not supported; only unsigned bytes (0x08, as in MNIST) are")
        }
        let headerSize = 4 + 4 * Int(bytes[3])
        guard bytes[3] > 0, bytes.count >= headerSize else {
            throw .failure("\(path): the IDX header declares \(bytes[3]) dimensions but the file ends within it")
        }
        dimensions = (0 ..< Int(bytes[3])).map { Self.bigEndianUInt32(bytes, at: 4 + 4 * $0) }
        let declared = try Self.product(of: dimensions, path: path)
        let present = bytes.count - headerSize
        guard declared == present else {
            let shape = dimensions.map(String.init).joined(separator: "×")
            throw .failure("\(path): the IDX header declares \(shape) = \(declared) bytes of data but the file holds \(present)")
        }
        self.path = path
        elements = bytes[headerSize...]
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> Int {
        bytes[offset ..< offset + 4].reduce(0) { $0 << 8 | Int($1) }
    }

    private static func product(of dimensions: [Int], path: String) throws(CLIError) -> Int {
        var product = 1
        for dimension in dimensions {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .failure("\(path): the IDX dimensions \(dimensions) overflow") }
            product = next
        }
        return product
    }
}
