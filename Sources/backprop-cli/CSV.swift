#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A CSV file of numbers: comma-separated fields, an optional header row, blank lines
/// skipped, spaces and tabs around fields ignored, `\n` or `\r\n` line ends. Quoted
/// fields are not supported: a quote is an error rather than a silently wrong column.
struct CSVTable {
    /// Whether the first row names the columns.
    enum HeaderRow {
        /// A header when the first row has a field that is not a number.
        case automatic, present, absent
    }

    let path: String
    /// The column names, when the file has a header row.
    let header: [String]?
    let columnCount: Int
    /// rowCount × columnCount values, row-major.
    let values: [Float]
    /// The 1-based line number of each row, for error messages about its values.
    let lines: [Int]

    var rowCount: Int { lines.count }

    init(path: String, bytes: [UInt8], headerRow: HeaderRow) throws(CLIError) {
        var reader = Reader(path: path, headerRow: headerRow)
        // strtod needs a terminator after the last field of a file without a final newline.
        try (bytes + [0]).withUnsafeBufferPointer { (text) throws(CLIError) in
            try reader.readLines(of: UnsafeBufferPointer(rebasing: text.dropLast()))
        }
        guard !reader.lines.isEmpty else {
            throw .failure(reader.header == nil ? "\(path): the file is empty" : "\(path): no data rows after the header")
        }
        self.path = path
        header = reader.header
        columnCount = reader.columnCount
        values = reader.values
        lines = reader.lines
    }

    /// "train.csv:17:3" for 0-based column 2: 1-based line and column, as editors count.
    static func location(_ path: String, line: Int, column: Int) -> String {
        "\(path):\(line):\(column + 1)"
    }
}

/// The line-by-line parse behind `CSVTable`.
private struct Reader {
    let path: String
    let headerRow: CSVTable.HeaderRow
    var header: [String]?
    /// 0 until the first row is read.
    var columnCount = 0
    var values: [Float] = []
    var lines: [Int] = []
    /// The current line's fields, reused from line to line.
    private var fields: [Range<Int>] = []

    init(path: String, headerRow: CSVTable.HeaderRow) {
        self.path = path
        self.headerRow = headerRow
    }

    /// `text` must be followed in memory by a NUL byte.
    mutating func readLines(of text: UnsafeBufferPointer<UInt8>) throws(CLIError) {
        var start = 0
        var lineNumber = 0
        while start < text.count {
            lineNumber += 1
            let newline = memchr(text.baseAddress! + start, 0x0A, text.count - start)
            let end = newline.map { UnsafeRawPointer(text.baseAddress!).distance(to: $0) } ?? text.count
            let contentEnd = end > start && text[end - 1] == 0x0D ? end - 1 : end
            try readLine(text, start ..< contentEnd, lineNumber: lineNumber)
            start = end + 1
        }
    }

    private mutating func readLine(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, lineNumber: Int) throws(CLIError) {
        splitFields(text, line)
        if fields.count == 1 && fields[0].isEmpty { return }  // a blank line
        for (column, field) in fields.enumerated() {
            if text[field].contains(UInt8(ascii: "\"")) {
                throw .failure("\(CSVTable.location(path, line: lineNumber, column: column)): quoted fields are not supported; write numbers and header names without quotes")
            }
        }
        if columnCount == 0 && isHeader(text) {
            header = fields.map { String(decoding: UnsafeBufferPointer(rebasing: text[$0]), as: UTF8.self) }
            columnCount = fields.count
            return
        }
        if columnCount == 0 { columnCount = fields.count }
        guard fields.count == columnCount else {
            throw .failure("\(path):\(lineNumber): \(fields.count) columns, expected \(columnCount)")
        }
        for (column, field) in fields.enumerated() {
            values.append(try number(text, field, line: lineNumber, column: column))
        }
        lines.append(lineNumber)
    }

    /// The line's comma-separated fields, each without surrounding spaces and tabs.
    private mutating func splitFields(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) {
        fields.removeAll(keepingCapacity: true)
        var start = line.lowerBound
        for index in line where text[index] == UInt8(ascii: ",") {
            fields.append(trimmed(text, start ..< index))
            start = index + 1
        }
        fields.append(trimmed(text, start ..< line.upperBound))
    }

    private func trimmed(_ text: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> Range<Int> {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var lower = field.lowerBound
        var upper = field.upperBound
        while lower < upper && isBlank(text[lower]) { lower += 1 }
        while upper > lower && isBlank(text[upper - 1]) { upper -= 1 }
        return lower ..< upper
    }

    private func isHeader(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        switch headerRow {
        case .present: return true
        case .absent: return false
        case .automatic: return fields.contains { Self.parse(text, $0) == nil }
        }
    }

    private func number(_ text: UnsafeBufferPointer<UInt8>, _ field: Range<Int>, line: Int, column: Int) throws(CLIError) -> Float {
        // Built only on error: this runs for every value of the file.
        func failure(_ problem: String) -> CLIError {
            .failure("\(CSVTable.location(path, line: line, column: column)): \(problem)")
        }
        guard !field.isEmpty else { throw failure("empty field, expected a number") }
        guard let value = Self.parse(text, field) else { throw failure("\(Self.quoted(text, field)) is not a number") }
        guard value.isFinite else { throw failure("\(Self.quoted(text, field)) is not a finite number") }
        guard Float(value).isFinite else { throw failure("\(Self.quoted(text, field)) is beyond the range of 32-bit floats") }
        return Float(value)
    }

    /// The field as a number (NaN and infinity included), or nil when strtod cannot read
    /// all of it.
    private static func parse(_ text: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> Double? {
        guard !field.isEmpty else { return nil }
        let start = UnsafeRawPointer(text.baseAddress! + field.lowerBound).assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>?
        let value = strtod(start, &end)
        return end.map { UnsafePointer($0) == start + field.count } == true ? value : nil
    }

    /// The field in quotes, shortened if long, for an error message.
    private static func quoted(_ text: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> String {
        let limit = 40
        let shown = field.count > limit ? field.lowerBound ..< field.lowerBound + limit : field
        let string = String(decoding: UnsafeBufferPointer(rebasing: text[shown]), as: UTF8.self)
        return "\"\(string)\(field.count > limit ? "…" : "")\""
    }
}
