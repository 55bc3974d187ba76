/// Samples read from a data file: their features, and their labels when the data has them.
struct Samples {
    let count: Int
    let featureCount: Int
    /// count × featureCount values, row-major.
    let features: [Float]
    let labels: [Float]?
    /// The data file, for messages.
    let path: String
    /// "4 feature columns" or "784 pixels per image", for messages about the input size.
    let featureDescription: String
    /// Where sample i's label is, for error messages ("train.csv:17:5").
    let labelLocation: (Int) -> String

    /// The labels, which train and evaluate cannot do without.
    func requiredLabels() throws(CLIError) -> [Float] {
        guard let labels else { throw .usage("\(path) holds IDX images without labels; give them with --labels FILE") }
        return labels
    }

    func checkFeatureCount(equals inputs: Int, of model: String) throws(CLIError) {
        guard featureCount == inputs else {
            throw .failure("\(path) has \(featureDescription) but \(model) takes \(inputs) inputs")
        }
    }
}

/// Which CSV column holds the labels, as `--label-column` names it.
enum LabelColumn {
    case last
    case index(Int)
    case name(String)

    /// A number is an index; anything else a header name.
    init(_ text: String) {
        self = Int(text).map(LabelColumn.index) ?? .name(text)
    }

    func index(in table: CSVTable) throws(CLIError) -> Int {
        switch self {
        case .last:
            return table.columnCount - 1
        case .index(let index):
            guard (0 ..< table.columnCount).contains(index) else {
                throw .usage("--label-column \(index) is not a column of \(table.path), whose columns are 0 to \(table.columnCount - 1)")
            }
            return index
        case .name(let name):
            guard let header = table.header else {
                throw .usage("--label-column \"\(name)\" is a name but \(table.path) has no header row; give the column's 0-based index")
            }
            guard let index = header.firstIndex(of: name) else {
                throw .usage("\(table.path) has no column named \"\(name)\"; its columns are \(header.joined(separator: ", "))")
            }
            return index
        }
    }
}

/// How a command finds the labels of CSV data.
enum LabelRule {
    /// This column holds them (train and evaluate).
    case column(LabelColumn)
    /// The data has none (predict --no-label).
    case none
    /// The last column holds them when there is one column more than the model has inputs
    /// (predict by default), so that labelled test files can be used as they are.
    case lastIfExtra(inputs: Int)

    func labelIndex(in table: CSVTable) throws(CLIError) -> Int? {
        switch self {
        case .column(let column): return try column.index(in: table)
        case .none: return nil
        case .lastIfExtra(let inputs): return table.columnCount == inputs + 1 ? table.columnCount - 1 : nil
        }
    }
}

extension Samples {
    /// Reads a CSV file, or IDX images and their IDX labels; the format is told by the
    /// file's first bytes.
    static func read(
        data path: String, labels labelsPath: String?, headerRow: CSVTable.HeaderRow, labelRule: LabelRule
    ) throws(CLIError) -> Samples {
        let bytes = try readUncompressed(path)
        if IDXArray.isIDX(bytes) {
            return try Samples(images: IDXArray(path: path, bytes: bytes), labelsPath: labelsPath)
        }
        guard labelsPath == nil else {
            throw .usage("--labels is for IDX images; the labels of CSV data are one of its columns (--label-column)")
        }
        let table = try CSVTable(path: path, bytes: bytes, headerRow: headerRow)
        return try Samples(table: table, labelColumn: labelRule.labelIndex(in: table))
    }

    /// The file's bytes; gzip is refused with a hint, since MNIST is usually downloaded
    /// compressed.
    private static func readUncompressed(_ path: String) throws(CLIError) -> [UInt8] {
        let bytes = try FileIO.readAll(path)
        guard !bytes.starts(with: [0x1F, 0x8B]) else {
            throw .failure("\(path) is gzip-compressed, which is not supported; decompress it first (gunzip -k \(path))")
        }
        return bytes
    }

    private init(table: CSVTable, labelColumn: Int?) throws(CLIError) {
        let width = table.columnCount
        let featureCount = width - (labelColumn == nil ? 0 : 1)
        guard featureCount > 0 else {
            throw .failure("\(table.path) has only the label column; it needs at least one feature column")
        }
        var features: [Float] = []
        features.reserveCapacity(table.rowCount * featureCount)
        var labels: [Float] = []
        for row in 0 ..< table.rowCount {
            let values = table.values[row * width ..< (row + 1) * width]
            guard let labelColumn else {
                features += values
                continue
            }
            features += values[values.startIndex ..< values.startIndex + labelColumn]
            features += values[(values.startIndex + labelColumn + 1)...]
            labels.append(values[values.startIndex + labelColumn])
        }
        self.init(
            count: table.rowCount, featureCount: featureCount, features: features,
            labels: labelColumn == nil ? nil : labels, path: table.path,
            featureDescription: "\(featureCount) feature column\(featureCount == 1 ? "" : "s")",
            labelLocation: { [path = table.path, lines = table.lines] in
                // Not capturing the table, whose values would then stay in memory.
                CSVTable.location(path, line: lines[$0], column: labelColumn ?? 0)
            })
    }

    /// Pixels scaled from 0…255 to [0, 1].
    private init(images: IDXArray, labelsPath: String?) throws(CLIError) {
        guard images.dimensions.count >= 2 else {
            throw .usage("\(images.path) is a 1-dimensional IDX array, as labels are; --data takes the images and --labels their labels")
        }
        let count = images.dimensions[0]
        let featureCount = images.dimensions.dropFirst().reduce(1, *)
        guard count > 0, featureCount > 0 else { throw .failure("\(images.path) holds no pixels") }
        let labels = try labelsPath.map { (path) throws(CLIError) in try Self.readLabels(path, count: count, images: images.path) }
        self.init(
            count: count, featureCount: featureCount, features: images.elements.map { Float($0) / 255 },
            labels: labels, path: images.path,
            featureDescription: "\(featureCount) pixels per image",
            labelLocation: { "\(labelsPath ?? images.path): item \($0)" })
    }

    private static func readLabels(_ path: String, count: Int, images: String) throws(CLIError) -> [Float] {
        let labels = try IDXArray(path: path, bytes: readUncompressed(path))
        guard labels.dimensions.count == 1 else {
            throw .usage("\(path) is a \(labels.dimensions.count)-dimensional IDX array; --labels takes a 1-dimensional array of labels")
        }
        guard labels.dimensions[0] == count else {
            throw .failure("\(path) has \(labels.dimensions[0]) labels but \(images) has \(count) images")
        }
        return labels.elements.map(Float.init)
    }
}
