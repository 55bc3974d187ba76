/// SplitMix64 (Steele, Lea & Flood, 2014): the generator behind every seeded choice the
/// library makes. Integer-only, so a seed gives the same stream on every platform.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits: exact, so bit-identical everywhere.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform double in [-limit, limit).
    public mutating func nextSymmetric(limit: Double) -> Double {
        (2 * nextUnit() - 1) * limit
    }
}
