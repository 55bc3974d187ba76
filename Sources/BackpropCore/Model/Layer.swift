/// Layer l of the stack (l ≥ 1): n_l units fed by the n_(l-1) units of the layer below,
/// with W^l (n_l × n_(l-1), row-major) and b^l (n_l) stored at fixed offsets of the
/// network's flat parameter buffer.
struct Layer {
    let inputWidth: Int
    let width: Int
    let activation: Activation
    let weightOffset: Int
    let biasOffset: Int

    var weightCount: Int { width * inputWidth }
    var parameterEnd: Int { biasOffset + width }

    /// The half-width r of the uniform range [-r, r) the initial weights are drawn from:
    /// Glorot/Xavier uniform √(6 / (n_(l-1) + n_l)) or He uniform √(6 / n_(l-1)), as the
    /// activation asks (`Activation.weightScale`).
    var initialWeightLimit: Double {
        switch activation.weightScale {
        case .he: return (6.0 / Double(inputWidth)).squareRoot()
        case .glorot: return (6.0 / Double(inputWidth + width)).squareRoot()
        }
    }
}
