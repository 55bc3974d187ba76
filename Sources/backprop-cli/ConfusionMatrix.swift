import BackpropCore

/// Counts of (true class, predicted class) pairs, as the library's metrics count them.
struct ConfusionMatrix {
    let classCount: Int
    /// counts[actual * classCount + predicted]
    private let counts: [Int]

    /// The matrix of an unweighted `Metrics` (its cells are whole counts).
    init(_ metrics: Metrics) {
        classCount = metrics.classCount
        counts = metrics.confusion.map { Int($0) }
    }

    var total: Int { counts.reduce(0, +) }
    var correct: Int { (0 ..< classCount).reduce(0) { $0 + counts[$1 * classCount + $1] } }

    /// A table with a row per true class and a column per predicted class, right-aligned.
    var table: String {
        let corner = "true\\predicted"
        let width = max(String(counts.max() ?? 0).count, String(classCount - 1).count) + 2
        func cell(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: " ", count: width - text.count) + text
        }
        let pad = { (text: String) in text + String(repeating: " ", count: corner.count - text.count) }
        var lines = [corner + (0 ..< classCount).map(cell).joined()]
        for actual in 0 ..< classCount {
            let row = counts[actual * classCount ..< (actual + 1) * classCount]
            lines.append(pad(String(actual)) + row.map(cell).joined())
        }
        return lines.joined(separator: "\n")
    }
}
