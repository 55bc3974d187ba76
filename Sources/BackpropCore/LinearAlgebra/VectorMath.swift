/// Vectorised elementary functions on SIMD16<Float>, so activations run 16 lanes at a
/// time instead of one libm call per element. Accurate to a few ulp; exp saturates
/// exactly (0 below −87.3, +∞ above 88.7), and sigmoid reaches exactly 0 (below −87.3)
/// and 1.
enum VectorMath {
    typealias V = SIMD16<Float>
    typealias Bits = SIMD16<UInt32>

    /// exp's finite range: e^x is 0 below it (subnormals aside) and +∞ above.
    private static let lowestExponent: Float = -87.336_54, highestExponent: Float = 88.722_83

    /// e^x by Cody–Waite reduction x = n·ln2 + r with |r| ≤ ln2/2, Cephes expf's
    /// polynomial for e^r, and 2^n written straight into the exponent bits.
    @inline(__always)
    static func exp(_ x: V) -> V {
        // Clamped by compare-and-blend: SIMD's `clamped` and `pointwiseMin` run lane by lane.
        let lowest = lowestExponent, highest = highestExponent
        let (r, scale) = reduce(x.replacing(with: lowest, where: x .< lowest).replacing(with: highest, where: x .> highest))
        let (r2, p) = polynomial(r)
        let er = (r + 1).addingProduct(r2, p)
        return (er * scale).replacing(with: 0, where: x .< lowest)
    }

    /// e^x − 1 without the cancellation of e^x − 1 near 0 (ELU's negative side): with
    /// x = n·ln2 + r, e^x − 1 = 2^n (e^r − 1) + (2^n − 1), where e^r − 1 = r + r² P(r) is
    /// exp's polynomial without its leading 1, and 2^n − 1 is exact for the n that matter
    /// (n = 0 for |x| ≤ ln2/2). −1 below exp's range.
    @inline(__always)
    static func expm1(_ x: V) -> V {
        let lowest = lowestExponent, highest = highestExponent
        let (r, scale) = reduce(x.replacing(with: lowest, where: x .< lowest).replacing(with: highest, where: x .> highest))
        let (r2, p) = polynomial(r)
        return (scale - 1).addingProduct(scale, r.addingProduct(r2, p)).replacing(with: -1, where: x .< lowest)
    }

    /// r² and Cephes expf's P(r), e^r = 1 + r + r² P(r) for |r| ≤ ln2/2, by Estrin's scheme
    /// (three multiply-adds deep instead of Horner's five).
    @inline(__always)
    private static func polynomial(_ r: V) -> (r2: V, p: V) {
        let r2 = r * r
        let p01 = V(repeating: 5.000_000_12e-1).addingProduct(r, V(repeating: 1.666_666_55e-1))
        let p23 = V(repeating: 4.166_579_59e-2).addingProduct(r, V(repeating: 8.333_451_9e-3))
        let p45 = V(repeating: 1.398_199_95e-3).addingProduct(r, V(repeating: 1.987_569_15e-4))
        return (r2, p01.addingProduct(r2, p23.addingProduct(r2, p45)))
    }

    /// ln(1 + t) for t in [0, 1] (softplus's ln(1 + e^−|z|)), with exact reductions, so that
    /// a tiny t keeps its digits: 1 + t = 1 + f with f = t below ½, and 2 (1 + f) with
    /// f = (t − 1)/2 from ½ (exact by Sterbenz's lemma). ln(1 + f) = f − s (f − R) with
    /// s = f / (2 + f), |s| ≤ 0.2, and R = 2s²/3 + 2s⁴/5 + … + 2s¹⁰/11 (the next term is
    /// below 2⁻²⁴ of the result), as fdlibm's log reduces.
    @inline(__always)
    static func log1pOfUnit(_ t: V) -> V {
        let upper = t .>= 0.5
        let f = t.replacing(with: (t - 1) * 0.5, where: upper)
        let s = f / (2 + f)
        let s2 = s * s
        var r = V(repeating: 2.0 / 11)
        r = V(repeating: 2.0 / 9).addingProduct(r, s2)
        r = V(repeating: 2.0 / 7).addingProduct(r, s2)
        r = V(repeating: 2.0 / 5).addingProduct(r, s2)
        r = V(repeating: 2.0 / 3).addingProduct(r, s2)
        let logOnePlusF = f - s * (f - r * s2)
        return logOnePlusF + V(repeating: 0).replacing(with: 0.693_147_18, where: upper)
    }

    /// x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite: ln2 in two parts, so r is exact to a
    /// float's precision) and 2^n, for x in exp's finite range.
    @inline(__always)
    private static func reduce(_ x: V) -> (r: V, scale: V) {
        // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer, kept in the low mantissa bits.
        let magic = V(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, V(repeating: 1.442_695_04))
        let n = shifted - magic
        let r = x.addingProduct(n, V(repeating: -0.693_359_375)).addingProduct(n, V(repeating: 2.121_944_4e-4))
        let exponent = (unsafeBitCast(shifted, to: Bits.self) &- unsafeBitCast(magic, to: Bits.self) &+ 127) &<< 23
        return (r, unsafeBitCast(exponent, to: V.self))
    }

    /// The sum of the lanes, folded in halves: the generic `SIMD.sum()` is not specialised
    /// for SIMD16 and costs a call plus a scalar loop.
    @inline(__always)
    static func sum(_ x: V) -> Float {
        let eight = x.lowHalf + x.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// |x|, by clearing the sign bits.
    @inline(__always)
    static func magnitude(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: Bits.self) & 0x7FFF_FFFF, to: V.self)
    }

    /// 1 / (1 + e), or e / (1 + e) for x < 0, with e = e^−|x| ≤ 1, so nothing overflows.
    /// A tiny network's step waits on each σ in turn, so its latency is what counts here:
    /// e^r is the Padé approximant P(r)/P(−r) of degree 3 (error below 1e-8 for |r| ≤ ln2/2),
    /// two parallel chains two multiply-adds deep, and e = 2^n·P/Q folds into the one
    /// division σ needs anyway: σ = Q / (Q + 2^n·P), or 2^n·P / (Q + 2^n·P) for x < 0.
    @inline(__always)
    static func sigmoid(_ x: V) -> V {
        let negative = unsafeBitCast(unsafeBitCast(x, to: Bits.self) | 0x8000_0000, to: V.self)
        let lowest = lowestExponent
        let (r, scale) = reduce(negative.replacing(with: lowest, where: negative .< lowest))
        let r2 = r * r
        let half = V(repeating: 0.5), tenth = V(repeating: 0.1), cubic = V(repeating: 1.0 / 120)
        let p = V(repeating: 1).addingProduct(r, half).addingProduct(r2, tenth.addingProduct(r, cubic))
        let q = V(repeating: 1).addingProduct(r, -half).addingProduct(r2, tenth.addingProduct(r, -cubic))
        let scaled = (p * scale).replacing(with: 0, where: negative .< lowest)
        return q.replacing(with: scaled, where: x .< 0) / q.addingProduct(p, scale)
    }

    /// tanh x: Cephes tanhf's odd polynomial below |x| = 0.625, where 1 − 2/(e^2x + 1)
    /// would lose digits to cancellation, and sign(x)·(1 − e)/(1 + e), e = e^−2|x|, above.
    @inline(__always)
    static func tanh(_ x: V) -> V {
        let m = magnitude(x)
        let e = exp(-2 * m)
        let large = (1 - e) / (1 + e)
        let z = x * x
        var p = V(repeating: -5.704_988_72e-3)
        p = V(repeating: 2.063_908_88e-2).addingProduct(p, z)
        p = V(repeating: -5.373_971_55e-2).addingProduct(p, z)
        p = V(repeating: 1.333_144_22e-1).addingProduct(p, z)
        p = V(repeating: -3.333_328_19e-1).addingProduct(p, z)
        let small = m.addingProduct(m * z, p)
        let result = large.replacing(with: small, where: m .< 0.625)
        let sign = unsafeBitCast(x, to: Bits.self) & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(result, to: Bits.self) | sign, to: V.self)
    }

    /// Φ(z) and φ(z), the standard normal distribution and density, which GELU's σ and σ'
    /// read. Φ(z) = ½ erfc(−z/√2), with erfc(x) = t e^(−x² + P(t)), t = 1 / (1 + x/2), for
    /// x = |z|/√2 ≥ 0 (Numerical Recipes' erfcc: relative error below 1.2e-7 everywhere) and
    /// Φ = 1 − ½ erfc for z ≥ 0. x² = z²/2 is kept exact, as the rounded z·z plus the
    /// remainder an fma leaves, and e^(−x²) is one exp of an exact argument: an argument
    /// near −87 rounded to a float would cost Φ's tail six digits. φ(z) = e^(−z²/2)/√(2π)
    /// shares that exp. Beyond |z| = 14, Φ is exactly 0 or 1 and φ is 0, as in float32.
    @inline(__always)
    static func normalDistribution(_ z: V) -> (cdf: V, density: V) {
        let square = z * z
        let remainder = (-square).addingProduct(z, z)  // z² − square, exactly
        let halfSquare = 0.5 * square, halfRemainder = 0.5 * remainder
        let gaussian = exp(-halfSquare)  // e^(−z²/2) but for the remainder
        let x = magnitude(z) * V(repeating: 0.707_106_77)
        let t = 1 / V(repeating: 1).addingProduct(x, V(repeating: 0.5))
        var p = V(repeating: 0.170_872_77)
        p = V(repeating: -0.822_152_23).addingProduct(p, t)
        p = V(repeating: 1.488_515_87).addingProduct(p, t)
        p = V(repeating: -1.135_203_98).addingProduct(p, t)
        p = V(repeating: 0.278_868_07).addingProduct(p, t)
        p = V(repeating: -0.186_288_06).addingProduct(p, t)
        p = V(repeating: 0.096_784_18).addingProduct(p, t)
        p = V(repeating: 0.374_091_96).addingProduct(p, t)
        p = V(repeating: 1.000_023_68).addingProduct(p, t)
        p = V(repeating: -1.265_512_23).addingProduct(p, t)
        let halfErfc = 0.5 * t * gaussian * exp(p - halfRemainder)
        let far = magnitude(z) .> 14
        let positive = z .>= 0
        let cdf = halfErfc.replacing(with: 1 - halfErfc, where: positive)
            .replacing(with: 0, where: far).replacing(with: 1, where: far .& positive)
        let density = (gaussian * V(repeating: 0.398_942_3)).addingProduct(gaussian * halfRemainder,
                                                                          V(repeating: -0.398_942_3))
        return (cdf, density.replacing(with: 0, where: far))
    }

    /// Φ(z) (see `normalDistribution`).
    @inline(__always)
    static func normalCDF(_ z: V) -> V { normalDistribution(z).cdf }

    /// Applies `f` to `count` floats at `source`, writing `target` (which may equal
    /// `source`); the last partial vector is padded with zeros and only its valid lanes
    /// are stored.
    @inline(__always)
    static func map(
        _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int, _ f: (V) -> V
    ) {
        let input = UnsafeRawPointer(source)
        let output = UnsafeMutableRawPointer(target)
        var i = 0
        while i + 16 <= count {
            output.storeBytes(of: f(input.loadUnaligned(fromByteOffset: i * 4, as: V.self)), toByteOffset: i * 4, as: V.self)
            i += 16
        }
        guard i < count else { return }
        let result = f(partial(source + i, count: count - i))
        for lane in 0 ..< count - i { target[i + lane] = result[lane] }
    }

    /// `map` for a function of two arrays: target[i] = f(x[i], y[i]). The last partial
    /// vector goes element by element through lane 0, which for a few floats (a tiny
    /// layer's whole width) is cheaper than assembling a padded vector.
    @inline(__always)
    static func map(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int,
        _ f: (V, V) -> V
    ) {
        let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
        let output = UnsafeMutableRawPointer(target)
        var i = 0
        while i + 16 <= count {
            let result = f(rx.loadUnaligned(fromByteOffset: i * 4, as: V.self), ry.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            output.storeBytes(of: result, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count {
            target[i] = f(V(repeating: x[i]), V(repeating: y[i]))[0]
            i += 1
        }
    }

    /// `map` for a function of three arrays: target[i] = f(x[i], y[i], w[i]), the last
    /// partial vector element by element as in the two-array `map`.
    @inline(__always)
    static func map(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        into target: UnsafeMutablePointer<Float>, count: Int, _ f: (V, V, V) -> V
    ) {
        let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y), rw = UnsafeRawPointer(w)
        let output = UnsafeMutableRawPointer(target)
        var i = 0
        while i + 16 <= count {
            let result = f(rx.loadUnaligned(fromByteOffset: i * 4, as: V.self), ry.loadUnaligned(fromByteOffset: i * 4, as: V.self),
                           rw.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            output.storeBytes(of: result, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count {
            target[i] = f(V(repeating: x[i]), V(repeating: y[i]), V(repeating: w[i]))[0]
            i += 1
        }
    }

    /// The first `count` (< 16) floats at `source`, zero-padded.
    @inline(__always)
    static func partial(_ source: UnsafePointer<Float>, count: Int) -> V {
        var vector = V()
        for lane in 0 ..< count { vector[lane] = source[lane] }
        return vector
    }
}
