/// Targets for classifiers.
public enum Classification {
    /// Row-major one-hot targets: row i has a 1 in column labels[i].
    public static func oneHot(_ labels: [Int], classes: Int) -> [Float] {
        var targets = [Float](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() { targets[row * classes + label] = 1 }
        return targets
    }
}
