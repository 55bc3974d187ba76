#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BackpropKernels
#if canImport(BackpropKernelsAVX512)
import BackpropKernelsAVX512
#endif
import CPUFeatures

/// The register tile the packed GEMM multiplies with, chosen once per process: AVX-512's
/// 8 × 32 where the CPU and OS have AVX-512, else the portable 6 × 16. The environment
/// variable BACKPROP_KERNELS=portable forces the portable tile (to compare, or to rule
/// the AVX-512 one out); nothing else changes the choice. Both tiles compute every element
/// with the same chain of multiply-adds, so the choice never changes a result.
public enum GEMMKernel: Sendable {
    #if canImport(BackpropKernelsAVX512)
    case avx512
    #endif
    case portable

    public static let selected: GEMMKernel = {
        let requested = getenv("BACKPROP_KERNELS").map { String(cString: $0) }
        #if canImport(BackpropKernelsAVX512)
        if requested != "portable" && bp_cpu_has_avx512() != 0 { return .avx512 }
        #endif
        return .portable
    }()

    /// "avx512" or "portable", the name `bp_kernels` reports.
    public var name: StaticString {
        switch self {
        #if canImport(BackpropKernelsAVX512)
        case .avx512: "avx512"
        #endif
        case .portable: "portable"
        }
    }

    /// Rows of a tile (mr).
    var mr: Int {
        switch self {
        #if canImport(BackpropKernelsAVX512)
        case .avx512: AVX512Tile.rows
        #endif
        case .portable: PortableTile.rows
        }
    }

    /// Columns of a tile (nr).
    var nr: Int {
        switch self {
        #if canImport(BackpropKernelsAVX512)
        case .avx512: AVX512Tile.columns
        #endif
        case .portable: PortableTile.columns
        }
    }

    /// One tile of C, or only its left half (nr/2 columns): see `RegisterTile.multiply`.
    @inline(__always)
    func multiplyTile(
        leftHalf: Bool, k: Int, a: UnsafePointer<Float>, rowStep: Int, kStep: Int, b: UnsafePointer<Float>, alpha: Float,
        accumulate: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        switch self {
        #if canImport(BackpropKernelsAVX512)
        case .avx512:
            AVX512Tile.multiplyTile(leftHalf: leftHalf, k: k, a: a, rowStep: rowStep, kStep: kStep, b: b, alpha: alpha,
                                    accumulate: accumulate, bias: bias, c: c, ldc: ldc)
        #endif
        case .portable:
            PortableTile.multiplyTile(leftHalf: leftHalf, k: k, a: a, rowStep: rowStep, kStep: kStep, b: b, alpha: alpha,
                                      accumulate: accumulate, bias: bias, c: c, ldc: ldc)
        }
    }

    /// Floats per vector of the tile's accumulators.
    var vectorWidth: Int { nr / 2 }

    /// The sparse product's inner loop in this tile's instructions: see
    /// `RegisterTile.combine(width:)`.
    @inline(__always)
    func combineRows(
        width: Int, rows: Int, entries: UnsafeRawPointer, listStride: Int, counts: UnsafePointer<Int32>,
        panel: UnsafePointer<Float>, panelWidth: Int, alpha: Float, accumulate: Bool, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        switch self {
        #if canImport(BackpropKernelsAVX512)
        case .avx512:
            AVX512Tile.combineRows(width: width, rows: rows, entries: entries, listStride: listStride, counts: counts,
                                   panel: panel, panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias,
                                   c: c, ldc: ldc)
        #endif
        case .portable:
            PortableTile.combineRows(width: width, rows: rows, entries: entries, listStride: listStride, counts: counts,
                                     panel: panel, panelWidth: panelWidth, alpha: alpha, accumulate: accumulate, bias: bias,
                                     c: c, ldc: ldc)
        }
    }
}
