/// A constant tensor's values, checked against its dims: the count its dims declare must be
/// the count its data holds, so a value never comes from outside the bytes read.
extension ONNXTensor {
    /// "tensor 'W1'".
    var described: String { name.isEmpty ? "an unnamed tensor" : "tensor '\(name)'" }

    /// The element count its dims declare.
    func declaredCount() throws(BackpropError) -> Int {
        var count = 1
        for dim in dims {
            guard dim >= 0, dim <= Int64(Int.max) else {
                throw BackpropError(.corruptModel, "the ONNX model is corrupt: \(described) has dimension \(dim)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow else {
                throw BackpropError(.corruptModel, "the ONNX model is corrupt: the dims of \(described) overflow")
            }
            count = product
        }
        return count
    }

    /// Its values as floats: float32 as they are, float64 rounded to float32.
    func floatValues() throws(BackpropError) -> [Float] {
        try expectInternal()
        let count = try declaredCount()
        switch dataType {
        case .float:
            if !rawData.isEmpty {
                try expect(bytes: rawData.count, of: count, size: 4)
                return (0 ..< count).map { index in Float(bitPattern: littleEndian(UInt32.self, at: index)) }
            }
            try expect(values: floatData.count, of: count)
            return floatData
        case .double:
            if !rawData.isEmpty {
                try expect(bytes: rawData.count, of: count, size: 8)
                return (0 ..< count).map { index in Float(Double(bitPattern: littleEndian(UInt64.self, at: index))) }
            }
            try expect(values: doubleData.count, of: count)
            return doubleData.map { Float($0) }
        default:
            throw ONNXImport.unsupported("\(described) holds values of ONNX data type \(dataType.code); the library reads float and double tensors")
        }
    }

    /// Its values as int64 (a Reshape's shape).
    func integerValues() throws(BackpropError) -> [Int64] {
        try expectInternal()
        let count = try declaredCount()
        guard dataType == .int64 else {
            throw ONNXImport.unsupported("\(described) holds values of ONNX data type \(dataType.code); a shape is int64")
        }
        if !rawData.isEmpty {
            try expect(bytes: rawData.count, of: count, size: 8)
            return (0 ..< count).map { index in Int64(bitPattern: littleEndian(UInt64.self, at: index)) }
        }
        try expect(values: int64Data.count, of: count)
        return int64Data
    }

    private func expectInternal() throws(BackpropError) {
        guard !isExternal else {
            throw ONNXImport.unsupported("\(described) keeps its values in an external file; the library reads self-contained models")
        }
    }

    private func expect(bytes: Int, of count: Int, size: Int) throws(BackpropError) {
        guard bytes / size == count, bytes % size == 0 else {
            throw BackpropError(.corruptModel,
                "the ONNX model is corrupt: \(described) declares \(count) values of \(size) bytes but holds \(bytes) bytes")
        }
    }

    private func expect(values: Int, of count: Int) throws(BackpropError) {
        guard values == count else {
            throw BackpropError(.corruptModel, "the ONNX model is corrupt: \(described) declares \(count) values but holds \(values)")
        }
    }

    /// Element `index` of raw_data, whose size `expect(bytes:…)` checked.
    private func littleEndian<T: FixedWidthInteger>(_: T.Type, at index: Int) -> T {
        rawData.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)) }
    }
}
