import CFloatingPoint

/// The floating-point mode the library computes in: round to nearest, no exception traps,
/// and subnormal floats flushed to zero (FTZ and DAZ on x86-64, FZ on AArch64).
///
/// Why: once training converges, gradients and the products of tiny activations underflow
/// to subnormals, which x86 cores handle in microcode, up to a hundred times slower; a
/// 2-8-1 network trained by single steps fell from 8.6M to 2.5M steps/s. Flushing them
/// changes results only where a value would have been below 1.2e-38, and makes them
/// independent of the caller's mode: a caller that rounds differently or has already set
/// FTZ gets the same bits.
///
/// Each C entry point runs in this mode and gives the calling thread its own mode back,
/// status flags included, even when it fails; the pool's workers set it once. Swift
/// callers of the core can do the same with `run(_:)`.
public enum FloatingPointMode {
    /// The calling thread's mode, to hand back after a call or during a callback.
    public struct Saved: Sendable {
        @usableFromInline let control: UInt64
        @usableFromInline init(control: UInt64) { self.control = control }
    }

    /// Runs `body` in the library's mode and restores the caller's mode afterwards, and
    /// returns what `body` returns (a C status, an exit status). The library's mode is
    /// written on entry only when the caller's differs; the caller's is written back
    /// unconditionally (see `restore`). About 7% of a 2-8-1 network's single-sample step
    /// on an AMD Zen 4, measured with perf. Inlinable, so that the C layer's entry points
    /// pay no call for it.
    @inlinable
    public static func run(_ body: (Saved) -> Int32) -> Int32 {
        let saved = Saved(control: bp_fp_control())
        let library = bp_fp_library_control()
        if saved.control != library { bp_fp_set_control(library) }
        defer { restore(saved) }
        return body(saved)
    }

    /// Runs `body`, which is caller code (a callback), in the caller's `saved` mode, and
    /// returns to the library's mode afterwards.
    @inlinable
    public static func asCaller<Result>(_ saved: Saved, _ body: () throws -> Result) rethrows -> Result {
        restore(saved)
        defer { bp_fp_set_control(bp_fp_library_control()) }
        return try body()
    }

    /// Sets the library's mode for the rest of this thread's life (the pool's workers).
    static func enterForGood() {
        bp_fp_set_control(bp_fp_library_control())
    }

    /// Written without reading the register first: reading it (for its status flags)
    /// waits for every floating-point operation in flight, which cost a tiny network's
    /// step more than the write.
    @inlinable
    static func restore(_ saved: Saved) {
        bp_fp_set_control(saved.control)
    }
}
