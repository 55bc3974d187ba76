import BackpropKernels

/// The 6 × 16 tile in SIMD8 accumulators: twelve, which with two B vectors and a
/// broadcast fit the sixteen registers of AVX2. It is specialized here, so it is built for
/// the library's target CPU and runs wherever the library does.
enum PortableTile: RegisterTile {
    typealias Vector = SIMD8<Float>
    static var rows: Int { 6 }
}
