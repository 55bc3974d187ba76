/// What `Network.metrics` measures on a data set: the loss and accuracy `evaluate` reports,
/// and for classifiers the confusion matrix, for the other networks (regressors) the mean
/// absolute error, root-mean-square error and R², each a weighted mean with sample weights.
public struct Metrics: Sendable, Equatable {
    /// `evaluate`'s mean loss and accuracy (NaN unless a classifier).
    public let loss: Float
    public let accuracy: Float
    /// Regressors: mean over samples and outputs of |a − y| and of (a − y)² (its root), and
    /// R² = the mean over outputs of 1 − Σ(y − a)² / Σ(y − ȳ)² (scikit-learn's r2_score,
    /// NaN for an output whose targets are all equal); NaN for classifiers.
    public let meanAbsoluteError: Float
    public let rootMeanSquaredError: Float
    public let r2: Float
    /// Classifiers: `classCount` × `classCount` counts (sums of weights), row = true class
    /// (`ClassifierRule` on the target), column = predicted class; empty for regressors.
    public let confusion: [Double]
    public let classCount: Int

    /// The classes a network's outputs tell apart: one per unit, or 2 for a single unit.
    static func classCount(outputs width: Int) -> Int { max(width, 2) }
}

/// Sums over a data set's chunks, from which `Metrics` follow.
struct MetricsAccumulator {
    let width: Int
    let isClassifier: Bool
    private(set) var confusion: [Double]
    private var absolute: Double = 0, squared: Double = 0, weight: Double = 0
    /// Per output: the targets' running weighted mean and Σ w (y − ȳ)² (West's weighted
    /// form of Welford's update, free of the cancellation of Σ w y² − W ȳ²), and Σ w (a − y)².
    private var targetMean: [Double], targetSpread: [Double], residualSquares: [Double]

    init(width: Int, isClassifier: Bool) {
        self.width = width
        self.isClassifier = isClassifier
        let classes = Metrics.classCount(outputs: width)
        confusion = isClassifier ? [Double](repeating: 0, count: classes * classes) : []
        targetMean = [Double](repeating: 0, count: width)
        targetSpread = targetMean
        residualSquares = targetMean
    }

    /// One chunk of `rows` outputs `a` and targets `y`, with their weights (nil: 1 each).
    mutating func add(a: UnsafePointer<Float>, y: UnsafePointer<Float>, rows: Int, weights: UnsafePointer<Float>?) {
        let classes = Metrics.classCount(outputs: width)
        for row in 0 ..< rows {
            let w = Double(weights?[row] ?? 1)
            guard w != 0 else { continue }
            let outputs = a + row * width, targets = y + row * width
            weight += w
            if isClassifier {
                let actual = ClassifierRule.predictedClass(targets, width: width)
                let predicted = ClassifierRule.predictedClass(outputs, width: width)
                confusion[actual * classes + predicted] += w
                continue
            }
            for j in 0 ..< width {
                let target = Double(targets[j]), residual = Double(outputs[j]) - target
                absolute += w * abs(residual)
                squared += w * residual * residual
                residualSquares[j] += w * residual * residual
                let deviation = target - targetMean[j]
                targetMean[j] += w / weight * deviation
                targetSpread[j] += w * deviation * (target - targetMean[j])
            }
        }
    }

    func metrics(loss: Float, accuracy: Float) -> Metrics {
        let nan = Float.nan
        guard !isClassifier else {
            return Metrics(loss: loss, accuracy: accuracy, meanAbsoluteError: nan, rootMeanSquaredError: nan, r2: nan,
                           confusion: confusion, classCount: Metrics.classCount(outputs: width))
        }
        let values = weight * Double(width)
        var r2: Double = 0
        for j in 0 ..< width { r2 += targetSpread[j] > 0 ? 1 - residualSquares[j] / targetSpread[j] : .nan }
        return Metrics(loss: loss, accuracy: accuracy, meanAbsoluteError: Float(absolute / values),
                       rootMeanSquaredError: Float((squared / values).squareRoot()), r2: Float(r2 / Double(width)),
                       confusion: [], classCount: 0)
    }
}
