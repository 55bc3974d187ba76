/// SplitMix64 (Steele, Lea & Flood, 2014): the generator behind every seeded choice the
/// library makes. Integer-only, so a seed gives the same stream on every platform.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The generator's output function: a bijection of 64-bit words whose every output bit
    /// depends on every input bit, so it also hashes counters (`Dropout`'s masks).
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
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

extension SplitMix64 {
    /// A standard normal double by Marsaglia's polar method. Built from +, −, ×, ÷ and √
    /// only (all correctly rounded by IEEE 754), with a logarithm of its own: libm's `log`
    /// may differ in the last bit between platforms, which would break "the same seed gives
    /// the same network everywhere".
    public mutating func nextGaussian() -> Double {
        while true {
            let u = 2 * nextUnit() - 1, v = 2 * nextUnit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                return u * (-2 * Self.naturalLogarithm(s) / s).squareRoot()
            }
        }
    }

    /// ln x for a positive, finite, normal x, as fdlibm reduces it: x = (1 + f) · 2^e with
    /// 1 + f in [√½, √2), s = f / (2 + f), and ln(1 + f) = 2 atanh(s) = f − s (f − R) with
    /// R = 2s²/3 + 2s⁴/5 + … (|s| < 0.172: the terms past s^30 are below 2^-76 of f), so the
    /// exact f carries the result and the roundings fall on a small correction.
    @_spi(Testing) public static func naturalLogarithm(_ x: Double) -> Double {
        var m = x.significand  // [1, 2), exact
        var e = Double(x.exponent)
        if m > 2.0.squareRoot() {
            m /= 2
            e += 1
        }
        let f = m - 1  // exact (Sterbenz)
        let s = f / (2 + f), s2 = s * s
        var r = 0.0
        for k in stride(from: 31, through: 3, by: -2) { r = s2 * (2 / Double(k) + r) }
        let lnM = f - s * (f - r)
        // ln 2 in two parts (fdlibm's), so that e · ln 2 keeps its precision.
        let ln2High = 6.931_471_803_691_238_164_90e-01, ln2Low = 1.908_214_929_270_587_700_02e-10
        return e * ln2High + (e * ln2Low + lnM)
    }
}
