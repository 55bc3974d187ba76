/// The model format's byte-level reads and writes (see `ModelFormat`).

/// Little-endian writes into memory the caller sized exactly.
struct ByteWriter {
    let base: UnsafeMutableRawPointer
    var offset = 0

    mutating func bytes(_ values: [UInt8]) {
        for value in values { u8(value) }
    }

    mutating func u8(_ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    mutating func u32(_ value: UInt32) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
        offset += 4
    }

    mutating func u64(_ value: UInt64) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
        offset += 8
    }

    mutating func floats(_ values: UnsafePointer<Float>, count: Int) {
        for index in 0 ..< count { u32(values[index].bitPattern) }
    }
}

/// Little-endian reads that never pass the end of the bytes: running out is `.truncated`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var remaining: Int { bytes.count - offset }

    mutating func expectMagic(_ magic: [UInt8]) throws(BackpropError) {
        let present = min(bytes.count, magic.count)
        guard bytes.prefix(present).elementsEqual(magic.prefix(present)) else {
            throw BackpropError(.notAModel, "the data is not a backprop model (its first bytes are not the model magic)")
        }
        try expectRemaining(magic.count)
        offset = magic.count
    }

    func expectRemaining(_ count: Int) throws(BackpropError) {
        guard remaining >= count else {
            throw BackpropError(.truncated,
                "the model is truncated: it ends after \(bytes.count) bytes, inside the field at byte \(offset)")
        }
    }

    mutating func u32() throws(BackpropError) -> UInt32 {
        try expectRemaining(4)
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func u64() throws(BackpropError) -> UInt64 {
        try expectRemaining(8)
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Checks the CRC-32 stored at `end` against the bytes before it, and that nothing follows.
    func verifyChecksum(at end: Int) throws(BackpropError) {
        try expectRemaining(4)
        guard bytes.count == end + 4 else {
            throw BackpropError(.corruptModel,
                "the model file is corrupt: \(bytes.count - end - 4) unexpected bytes follow its checksum")
        }
        if let mismatch = checksumMismatch(at: end) { throw mismatch }
    }

    /// A field that only a newer library writes (an option key or a section tag past this
    /// library's): an unsupported version if the file is intact, but a damaged file when its
    /// last four bytes are not the CRC-32 of the rest, since a flipped bit can make any
    /// field look newer.
    func newerField(_ message: String) -> BackpropError {
        let end = bytes.count - 4
        return (end >= 0 ? checksumMismatch(at: end) : nil) ?? BackpropError(.unsupportedVersion, message)
    }

    private func checksumMismatch(at end: Int) -> BackpropError? {
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: end, as: UInt32.self))
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0 ..< end]))
        guard stored != computed else { return nil }
        return BackpropError(.checksumMismatch,
            "the model's CRC-32 is \(hex(computed)) but the file records \(hex(stored)); the file is damaged")
    }

    /// Copies floats whose bounds `expectRemaining` already checked.
    func copyFloats(at start: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
        for index in 0 ..< count {
            let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 4 * index, as: UInt32.self))
            target[index] = Float(bitPattern: bits)
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
