/// Inverted dropout of the hidden layers while training (Srivastava et al., 2014). Each
/// training forward pass keeps unit i of hidden layer l with probability 1 − p_l and
/// scales what it keeps by 1 / (1 − p_l):
///
///     ã^l = a^l ⊙ m^l,   m^l_i = 1 / (1 − p_l) if kept, else 0
///
/// so that inference, which drops nothing, sees activations of the same expected size.
/// Layer l + 1 reads ã^l, and the backward pass follows the same masks:
/// δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l) ⊙ m^l and ∂C/∂W^(l+1) = δ^(l+1) (ã^l)^T.
///
/// A mask element is a hash of (seed, pass, layer, element), not a draw from a stream, so
/// a pass's masks do not depend on how its work is split over threads, and a network
/// loaded from a model file (which stores the pass count) draws the masks the saved one
/// would have drawn.
public struct Dropout: Sendable, Equatable {
    /// p_l of the hidden layers 1 … L−1, each in [0, 1).
    public let rates: [Float]
    public let seed: UInt64
    /// Training forward passes so far: the next pass draws its masks for this count.
    public internal(set) var passes: UInt64 = 0

    /// Dropout with `rates` (one per hidden layer) and masks drawn from `seed`; nil when
    /// every rate is 0, since such dropout changes nothing and should cost nothing.
    public init?(rates: [Float], seed: UInt64) throws(BackpropError) {
        for (index, rate) in rates.enumerated() {
            guard rate.isFinite else { throw BackpropError(.nonFinite, "the dropout rate of hidden layer \(index + 1) is \(rate)") }
            guard rate >= 0 && rate < 1 else {
                throw BackpropError(.invalidArgument,
                    "the dropout rate of hidden layer \(index + 1) is \(rate); it must be in [0, 1)")
            }
        }
        guard rates.contains(where: { $0 > 0 }) else { return nil }
        self.rates = rates
        self.seed = seed
    }

    /// Whether element `element` (row × width + unit) of hidden layer `layer` (1-based)
    /// is kept by pass `pass`: the top 32 bits of its hash against p · 2^32.
    public static func keeps(rate: Float, seed: UInt64, pass: UInt64, layer: Int, element: Int) -> Bool {
        hash(layerKey(seed: seed, pass: pass, layer: layer), element: element) >> 32 >= threshold(rate)
    }

    static func threshold(_ rate: Float) -> UInt64 { UInt64((Double(rate) * 0x1p32).rounded()) }

    static func layerKey(seed: UInt64, pass: UInt64, layer: Int) -> UInt64 {
        SplitMix64.mix(seed &+ SplitMix64.mix(pass &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(layer)))
    }

    static func hash(_ key: UInt64, element: Int) -> UInt64 {
        SplitMix64.mix(key &+ UInt64(element) &* 0xD1B5_4A32_D192_ED03)
    }

    /// Writes m^l of this pass for `count` elements of hidden layer `layer` (1-based) and
    /// ã^l = a^l ⊙ m^l.
    func drop(
        _ a: UnsafePointer<Float>, into dropped: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
        count: Int, layer: Int
    ) {
        let rate = rates[layer - 1]
        let key = Self.layerKey(seed: seed, pass: passes, layer: layer), threshold = Self.threshold(rate)
        let scale = 1 / (1 - rate)
        for element in 0 ..< count {
            mask[element] = Self.hash(key, element: element) >> 32 >= threshold ? scale : 0
        }
        for element in 0 ..< count { dropped[element] = a[element] * mask[element] }
    }

    mutating func endPass() { passes &+= 1 }

    /// δ^l ⊙= m^l, the backward pass's half of dropout.
    static func mask(_ delta: UnsafeMutablePointer<Float>, by mask: UnsafePointer<Float>, count: Int) {
        for element in 0 ..< count { delta[element] *= mask[element] }
    }
}

/// ã^l and m^l of the hidden layers that drop units, for `capacity` samples: allocated
/// with the first training pass that drops and only ever grown, so a steady-state step
/// allocates nothing.
struct DropoutBuffers {
    let capacity: Int
    /// (ã^l, m^l) of hidden layers[index], nil for the layers whose rate is 0 and the output.
    let layers: [(dropped: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>)?]

    init(widths: [Int], rates: [Float], capacity: Int) throws(BackpropError) {
        var buffers: [(dropped: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>)?] = []
        do throws(BackpropError) {
            for (width, rate) in zip(widths, rates + [0]) {  // the output layer never drops
                guard rate > 0 else { buffers.append(nil); continue }
                let (perLayer, overflow) = width.multipliedReportingOverflow(by: capacity)
                let (count, doubled) = perLayer.multipliedReportingOverflow(by: 2)  // ã^l and m^l
                guard !overflow, !doubled else {
                    throw BackpropError(.sizeOverflow, "dropout masks for \(capacity) samples do not fit in memory")
                }
                let memory = try Memory.allocateFloats(count, for: "dropout masks for \(capacity) samples")
                buffers.append((memory, memory + count / 2))
            }
        } catch {
            buffers.forEach { $0.map { Memory.free($0.dropped) } }
            throw error
        }
        self.capacity = capacity
        layers = buffers
    }

    func free() {
        layers.forEach { $0.map { Memory.free($0.dropped) } }
    }
}

extension Network {
    /// Drops units of the hidden layers in training passes (`trainStep`, `fit` and
    /// `forward(training: true)`), with `rates` p_1 … p_(L−1), one per hidden layer, each in
    /// [0, 1), and masks drawn from `seed`. All 0 turns dropout off. The masks start again
    /// from pass 0. Kept activations of a training pass are discarded.
    public func setDropout(rates: [Float], seed: UInt64) throws(BackpropError) {
        try expect(rates.count, equals: layers.count - 1, name: "the dropout rates (one per hidden layer)")
        let chosen = try Dropout(rates: rates, seed: seed)
        dropoutBuffers?.free()
        dropoutBuffers = nil
        if forwardDropped {
            forwardBatch = nil
            forwardDropped = false
        }
        dropout = chosen
    }

    /// p_l of each hidden layer, 0 where nothing is dropped.
    public var dropoutRates: [Float] { dropout?.rates ?? Array(repeating: 0, count: layers.count - 1) }
}
