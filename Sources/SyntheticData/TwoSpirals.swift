#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BackpropCore

/// The two-spirals problem (Lang & Witbrock, 1988): two interleaved spirals in the plane,
/// one per class, which a network can only separate with a strongly non-linear boundary.
public struct TwoSpirals {
    /// Row-major points, two coordinates each, roughly within [-1, 1]².
    public let inputs: [Float]
    /// The class (0 or 1) of each point.
    public let labels: [Int]

    public var count: Int { labels.count }

    /// `pointsPerClass` points on each spiral, three turns long, each coordinate jittered by
    /// up to ±`noise`; the same seed gives the same points.
    public init(pointsPerClass: Int, noise: Double = 0.02, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var inputs: [Float] = []
        var labels: [Int] = []
        for index in 0 ..< pointsPerClass {
            let t = (Double(index) + generator.nextUnit()) / Double(pointsPerClass)
            let radius = 0.05 + 0.95 * t
            for label in 0 ..< 2 {
                let angle = 6 * Double.pi * t + Double(label) * Double.pi
                inputs.append(Float(radius * cos(angle) + generator.nextSymmetric(limit: noise)))
                inputs.append(Float(radius * sin(angle) + generator.nextSymmetric(limit: noise)))
                labels.append(label)
            }
        }
        self.inputs = inputs
        self.labels = labels
    }
}
