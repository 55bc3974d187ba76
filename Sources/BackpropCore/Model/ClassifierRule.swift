/// The library's one rule for classifiers, used by `evaluate`'s accuracy, the command-line
/// tool's predictions and confusion matrices, and (through `bp_evaluate`) the bindings.
public enum ClassifierRule {
    /// Whether a network whose output layer has `activation` is a classifier: softmax
    /// outputs are class probabilities, sigmoid outputs per-class (or binary) ones.
    public static func isClassifier(output activation: Activation) -> Bool {
        activation == .softmax || activation == .sigmoid
    }

    /// The class of one sample's `width` outputs (or one-hot target): with several, the
    /// index of the largest (ties go to the lower index); with one, 1 when it is at least
    /// 0.5, else 0.
    @inlinable
    public static func predictedClass(_ outputs: UnsafePointer<Float>, width: Int) -> Int {
        guard width > 1 else { return outputs[0] >= 0.5 ? 1 : 0 }
        var best = 0
        for j in 1 ..< width where outputs[j] > outputs[best] { best = j }
        return best
    }

    /// Whether a sample's outputs `a` predict the class of its target `y` (both `width` floats).
    @inlinable
    public static func isCorrect(_ a: UnsafePointer<Float>, target y: UnsafePointer<Float>, width: Int) -> Bool {
        predictedClass(a, width: width) == predictedClass(y, width: width)
    }
}
