/// The protocol-buffers wire format (https://protobuf.dev/programming-guides/encoding/),
/// as much of it as ONNX needs, so that the library reads and writes ONNX files without a
/// protobuf library. A message is a sequence of fields, each a varint key
/// (field number << 3 | wire type) followed by its value: a varint, 4 or 8 little-endian
/// bytes, or a varint length and that many bytes (strings, bytes, nested messages and
/// packed repeated scalars).
enum WireType: UInt64 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// Appends fields to a growing byte array. Nested messages are written into their own
/// writer first, so that their length is known before their key.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, .varint)
        appendVarint(value)
    }

    /// An int64 or int32 field: negative values take ten bytes, as protobuf encodes them.
    mutating func integer(_ field: Int, _ value: Int64) {
        varint(field, UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    mutating func string(_ field: Int, _ value: String) {
        data(field, Array(value.utf8))
    }

    mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Floats as little-endian bytes (ONNX's raw_data).
    static func littleEndianBytes(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytes.reserveCapacity(4 * values.count)
        for value in values { writer.appendLittleEndian(value.bitPattern) }
        return writer.bytes
    }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        data(field, nested.bytes)
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        appendVarint(UInt64(field) << 3 | type.rawValue)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func appendLittleEndian(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}

/// One field of a message as `ProtobufReader` finds it. A length-delimited value is a
/// slice of the bytes being read, never a copy.
struct ProtobufField {
    let number: Int
    let value: Value

    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(UnsafeRawBufferPointer)
    }
}

/// Reads the fields of one message from bytes it borrows. Every length is checked against
/// the bytes that remain before anything is read: a value that runs past the end is
/// `.truncated`, a malformed key or varint `.corruptModel`. `what` names the message in
/// errors ("the ONNX model's graph").
struct ProtobufReader {
    let bytes: UnsafeRawBufferPointer
    let what: String
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer, what: String) {
        self.bytes = bytes
        self.what = what
    }

    /// Reads every field of the message in `bytes`, handing each to `body` with the reader
    /// (for its errors); `body` skips the fields it does not know, as protobuf requires.
    static func forEachField(
        of bytes: UnsafeRawBufferPointer, what: String, _ body: (ProtobufField, ProtobufReader) throws(BackpropError) -> Void
    ) throws(BackpropError) {
        var reader = ProtobufReader(bytes, what: what)
        while let field = try reader.next() { try body(field, reader) }
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(BackpropError) -> ProtobufField? {
        guard offset < bytes.count else { return nil }
        let start = offset
        let key = try varint()
        let number = key >> 3
        guard number > 0, number < 1 << 29 else {
            throw corrupt("field number \(number) at byte \(start)")
        }
        guard let type = WireType(rawValue: key & 7) else {
            throw corrupt("wire type \(key & 7) at byte \(start) (groups and unknown types are not ONNX)")
        }
        let value: ProtobufField.Value
        switch type {
        case .varint: value = .varint(try varint())
        case .fixed64: value = .fixed64(try littleEndian(UInt64.self))
        case .fixed32: value = .fixed32(try littleEndian(UInt32.self))
        case .lengthDelimited:
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else {
                throw BackpropError(.truncated,
                    "the ONNX data is truncated: \(what) declares a field of \(length) bytes at byte \(start), but only \(bytes.count - offset) remain")
            }
            value = .bytes(UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + Int(length)]))
            offset += Int(length)
        }
        return ProtobufField(number: Int(number), value: value)
    }

    private mutating func varint() throws(BackpropError) -> UInt64 {
        var result: UInt64 = 0
        for index in 0 ..< 10 {
            guard offset < bytes.count else {
                throw BackpropError(.truncated, "the ONNX data is truncated: \(what) ends inside a number")
            }
            let byte = bytes[offset]
            offset += 1
            guard index < 9 || byte <= 1 else { throw corrupt("a number longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << UInt64(7 * index)
            if byte < 0x80 { return result }
        }
        throw corrupt("a number longer than ten bytes")
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws(BackpropError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else {
            throw BackpropError(.truncated, "the ONNX data is truncated: \(what) ends inside a \(8 * size)-bit value")
        }
        defer { offset += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func corrupt(_ detail: String) -> BackpropError {
        BackpropError(.corruptModel, "the ONNX data is not a valid protocol buffer: \(what) has \(detail)")
    }
}

extension ProtobufField {
    /// The value of a varint field (int32, int64, enum or bool), as the signed integer it encodes.
    func integer(in reader: ProtobufReader) throws(BackpropError) -> Int64 {
        guard case .varint(let raw) = value else { throw reader.corrupt("field \(number) that should be a number") }
        return Int64(bitPattern: raw)
    }

    func data(in reader: ProtobufReader) throws(BackpropError) -> UnsafeRawBufferPointer {
        guard case .bytes(let slice) = value else { throw reader.corrupt("field \(number) that should be bytes") }
        return slice
    }

    /// A string field, its invalid UTF-8 replaced (names only ever appear in messages).
    func string(in reader: ProtobufReader) throws(BackpropError) -> String {
        String(decoding: try data(in: reader), as: UTF8.self)
    }

    func float(in reader: ProtobufReader) throws(BackpropError) -> Float {
        guard case .fixed32(let bits) = value else { throw reader.corrupt("field \(number) that should be a float") }
        return Float(bitPattern: bits)
    }

    /// A repeated integer field's values in this occurrence: one if unpacked, all of a
    /// packed run otherwise. Appends to `values`; a packed run cannot hold more numbers than bytes.
    func appendIntegers(to values: inout [Int64], in reader: ProtobufReader) throws(BackpropError) {
        switch value {
        case .varint(let raw): values.append(Int64(bitPattern: raw))
        case .bytes(let packed):
            var run = ProtobufReader(packed, what: reader.what)
            while let number = try run.packedVarint() { values.append(Int64(bitPattern: number)) }
        default: throw reader.corrupt("field \(number) that should be integers")
        }
    }

    /// A repeated float or double field's values in this occurrence, unpacked or packed.
    func appendFloats<T: WireFloat>(to values: inout [T], in reader: ProtobufReader) throws(BackpropError) {
        let size = MemoryLayout<T.Bits>.size
        switch value {
        case .fixed32(let bits) where size == 4: values.append(T(bitPattern: T.Bits(truncatingIfNeeded: bits)))
        case .fixed64(let bits) where size == 8: values.append(T(bitPattern: T.Bits(truncatingIfNeeded: bits)))
        case .bytes(let packed):
            guard packed.count % size == 0 else { throw reader.corrupt("packed \(8 * size)-bit floats of \(packed.count) bytes") }
            values.reserveCapacity(values.count + packed.count / size)
            for index in 0 ..< packed.count / size {
                values.append(T(bitPattern: T.Bits(littleEndian: packed.loadUnaligned(fromByteOffset: size * index, as: T.Bits.self))))
            }
        default: throw reader.corrupt("field \(number) that should be \(8 * size)-bit floats")
        }
    }
}

/// Float and Double, as protobuf stores them: their bits, little-endian.
protocol WireFloat {
    associatedtype Bits: FixedWidthInteger
    init(bitPattern: Bits)
}

extension Float: WireFloat {}
extension Double: WireFloat {}

extension ProtobufReader {
    /// The next varint of a packed run, or nil at its end.
    fileprivate mutating func packedVarint() throws(BackpropError) -> UInt64? {
        guard offset < bytes.count else { return nil }
        return try varint()
    }
}
