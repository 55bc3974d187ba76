/// How a network's parameters are drawn when it is created or re-initialised: each
/// scheme's range for W^l and b^l, with fan-in n_(l-1) and fan-out n_l. Every draw comes
/// from `SplitMix64` (integer arithmetic, and normals from basic IEEE operations only), so
/// a scheme and a seed give bit-identical parameters on every platform. The draws go
/// layer by layer: W^l row-major, then b^l when the scheme draws biases.
public enum Initialization: Int32, PublicCode {
    /// He uniform for rectifier layers, Glorot uniform for the others, zero biases:
    /// what `Network.init` and bp_create() have always drawn.
    case heGlorotUniform = 0
    /// W ~ U(±√(6 / n_(l-1))), b = 0 (He et al., 2015; PyTorch's kaiming_uniform_, Keras's he_uniform).
    case heUniform = 1
    /// W ~ N(0, 2 / n_(l-1)), b = 0.
    case heNormal = 2
    /// W ~ U(±√(6 / (n_(l-1) + n_l))), b = 0 (Glorot & Bengio, 2010; Keras's default).
    case glorotUniform = 3
    /// W ~ N(0, 2 / (n_(l-1) + n_l)), b = 0.
    case glorotNormal = 4
    /// W ~ N(0, 1 / n_(l-1)), b = 0 (LeCun et al., 1998; for SELU-like units).
    case lecunNormal = 5
    /// W, b ~ U(±1/√n_(l-1)): PyTorch's nn.Linear default.
    case pytorch = 6
    /// W, b ~ U(±√(f / (n_(l-1) + n_l))), f = 2 for sigmoid layers and 6 for the others:
    /// scikit-learn's MLPClassifier and MLPRegressor.
    case sklearn = 7

    /// The scheme to choose without a reason for another: the default of the CLI and the
    /// Python package, chosen by measurement (backprop.h, BP_INIT_RECOMMENDED, says why).
    /// `Network.init` and bp_create() keep `.heGlorotUniform` so that seeds keep their networks.
    public static let recommended = Initialization.pytorch

    public static let kind = "initialisation"
    public static let constantPrefix = "BP_INIT_"

    public var name: String {
        switch self {
        case .heGlorotUniform: return "he-glorot-uniform"
        case .heUniform: return "he-uniform"
        case .heNormal: return "he-normal"
        case .glorotUniform: return "glorot-uniform"
        case .glorotNormal: return "glorot-normal"
        case .lecunNormal: return "lecun-normal"
        case .pytorch: return "pytorch"
        case .sklearn: return "sklearn"
        }
    }

    /// What one layer's parameters are drawn from.
    struct Draw: Equatable {
        enum Shape: Equatable { case uniform, normal }
        let shape: Shape
        /// The half-width of the uniform range, or the normal's standard deviation.
        let scale: Double
        /// Whether b^l is drawn from the same distribution (otherwise it is 0).
        let drawsBiases: Bool
    }

    func draw(for layer: Layer) -> Draw {
        let fanIn = Double(layer.inputWidth), fanSum = Double(layer.inputWidth + layer.width)
        switch self {
        case .heGlorotUniform:
            let he = layer.activation.weightScale == .he
            return Draw(shape: .uniform, scale: (6 / (he ? fanIn : fanSum)).squareRoot(), drawsBiases: false)
        case .heUniform: return Draw(shape: .uniform, scale: (6 / fanIn).squareRoot(), drawsBiases: false)
        case .heNormal: return Draw(shape: .normal, scale: (2 / fanIn).squareRoot(), drawsBiases: false)
        case .glorotUniform: return Draw(shape: .uniform, scale: (6 / fanSum).squareRoot(), drawsBiases: false)
        case .glorotNormal: return Draw(shape: .normal, scale: (2 / fanSum).squareRoot(), drawsBiases: false)
        case .lecunNormal: return Draw(shape: .normal, scale: (1 / fanIn).squareRoot(), drawsBiases: false)
        case .pytorch: return Draw(shape: .uniform, scale: 1 / fanIn.squareRoot(), drawsBiases: true)
        case .sklearn:
            let factor: Double = layer.activation == .sigmoid ? 2 : 6
            return Draw(shape: .uniform, scale: (factor / fanSum).squareRoot(), drawsBiases: true)
        }
    }
}

extension Initialization.Draw {
    /// Fills `count` floats at `values` with draws from `generator`.
    func fill(_ values: UnsafeMutablePointer<Float>, count: Int, from generator: inout SplitMix64) {
        switch shape {
        case .uniform:
            for i in 0 ..< count { values[i] = Float(generator.nextSymmetric(limit: scale)) }
        case .normal:
            for i in 0 ..< count { values[i] = Float(generator.nextGaussian() * scale) }
        }
    }
}
