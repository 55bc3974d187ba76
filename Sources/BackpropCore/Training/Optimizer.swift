/// How `update` turns the gradients g = ∂C/∂θ of the last `backward` into a step. Plain
/// SGD is the seed's rule and the default; the others are the published rules, written
/// in PyTorch's conventions so results can be compared with it. The raw value is the
/// optimizer's C code (`BP_OPTIMIZER_*` in include/backprop.h); every other fact about an
/// optimizer is in `properties`, which the update, the model format, the C layer and the
/// command-line tool read instead of deciding by case.
public enum Optimizer: Int32, PublicCode {
    /// θ ← θ − η g
    case sgd = 0
    /// v ← μ v + g, θ ← θ − η v
    case momentum = 1
    /// v ← μ v + g, θ ← θ − η (g + μ v)
    case nesterov = 2
    /// Kingma & Ba: m ← β₁ m + (1−β₁) g, v ← β₂ v + (1−β₂) g², θ ← θ − η m̂ / (√v̂ + ε)
    case adam = 3
    /// Loshchilov & Hutter: Adam with decoupled weight decay θ ← θ − η λ θ
    case adamW = 4
    /// iRprop⁻ (Igel & Hüsken), FANN's default: per-parameter step sizes Δ grow by η⁺ while
    /// the gradient keeps its sign and shrink by η⁻ when it flips; the learning rate is unused.
    case rprop = 5

    public static let kind = "optimizer"
    public static let constantPrefix = "BP_OPTIMIZER_"

    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .momentum: return "momentum"
        case .nesterov: return "nesterov"
        case .adam: return "adam"
        case .adamW: return "adamw"
        case .rprop: return "rprop"
        }
    }

    /// What an optimizer keeps and reads, apart from how it steps.
    public struct Properties: Sendable {
        /// The per-parameter arrays it keeps between steps, in the order the model format
        /// stores them.
        public let stateSlots: [StateSlot]
        /// Whether it counts its steps (Adam's t, for the bias corrections).
        public let countsSteps: Bool
        /// Whether it steps by the gradient's sign alone, which would hide a NaN or
        /// infinite gradient in a finite step: such gradients are refused first.
        public let stepsBySign: Bool
        /// The hyperparameters its step reads; the others do nothing for it.
        public let hyperparameters: [TrainingOptions.Hyperparameter]
    }

    /// Read on every step, so built once per optimizer rather than on each read.
    public var properties: Properties { Self.described[Int(rawValue)] }

    /// Indexed by raw value; the cases are declared in raw-value order from 0 (a test
    /// checks it).
    private static let described = allCases.map(\.description)

    private var description: Properties {
        let shared: [TrainingOptions.Hyperparameter] = [.weightDecay, .clipNorm]
        switch self {
        case .sgd:
            return Properties(stateSlots: [], countsSteps: false, stepsBySign: false, hyperparameters: shared)
        case .momentum, .nesterov:
            return Properties(stateSlots: [.velocity], countsSteps: false, stepsBySign: false,
                              hyperparameters: [.momentum] + shared)
        case .adam, .adamW:
            return Properties(stateSlots: [.firstMoment, .secondMoment], countsSteps: true, stepsBySign: false,
                              hyperparameters: [.beta1, .beta2, .epsilon] + shared)
        case .rprop:
            return Properties(stateSlots: [.previousGradient, .stepSize], countsSteps: false, stepsBySign: true,
                              hyperparameters: [.rpropIncrease, .rpropDecrease, .rpropMinStep, .rpropMaxStep,
                                                .rpropInitialStep] + shared)
        }
    }

    /// One per-parameter array of an optimizer's state.
    public enum StateSlot: Sendable {
        /// Momentum's and Nesterov's v.
        case velocity
        /// Adam's m and v.
        case firstMoment, secondMoment
        /// RPROP's previous gradient and step sizes Δ.
        case previousGradient, stepSize

        /// Its value before the first step.
        func initialValue(_ options: TrainingOptions) -> Float {
            self == .stepSize ? Float(options.rpropInitialStep) : 0
        }

        /// Whether `value` could have come from training (checked on loading): Adam's second
        /// moments are ≥ 0 and RPROP's steps > 0 (not bounded by Δmax, which may have been
        /// lowered since); anything finite elsewhere.
        func admits(_ value: Float) -> Bool {
            switch self {
            case .secondMoment: return value >= 0
            case .stepSize: return value > 0
            case .velocity, .firstMoment, .previousGradient: return true
            }
        }
    }
}
