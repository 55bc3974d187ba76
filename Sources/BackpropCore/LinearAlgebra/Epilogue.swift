/// What a product does to C beyond α A B, fused into the GEMM so that C is not walked
/// again for it: start from a bias row (z^l = W^l a^(l-1) + b^l), and once an element's
/// sum is complete, apply an activation (a^l = σ(z^l), in place or beside z^l when σ'
/// will read z^l) or multiply by the derivative of one (δ^l = (W^(l+1))^T δ^(l+1) ⊙ σ'(z^l)). Finishing runs on each tile while it is
/// still in L1, so it costs no memory traffic of its own.
///
/// Its pointers are relative to C's origin; `moved` shifts them along with C.
struct Epilogue {
    /// When set, C(i, j) starts from bias[j] instead of its previous value or zero.
    let bias: UnsafePointer<Float>?
    let finish: Finish

    enum Finish {
        case none
        /// C ← σ(C), for an elementwise σ.
        case activation(Activation)
        /// A ← σ(C), C kept, for an elementwise σ; A is a matrix laid out like C.
        case activationBeside(Activation, a: UnsafeMutablePointer<Float>)
        /// C ← C ⊙ σ'(z), with σ' taken from what it reads (a = σ(z) or z: `operand`, a
        /// matrix laid out like C).
        case derivative(Activation, operand: UnsafePointer<Float>)
    }

    static var none: Epilogue { Epilogue(bias: nil, finish: .none) }

    /// The epilogue of the part of C that starts at (row, column).
    func moved(row: Int, column: Int, ldc: Int) -> Epilogue {
        let finish: Finish
        switch self.finish {
        case .none, .activation:
            finish = self.finish
        case .activationBeside(let sigma, let a):
            finish = .activationBeside(sigma, a: a + row * ldc + column)
        case .derivative(let sigma, let operand):
            finish = .derivative(sigma, operand: operand + row * ldc + column)
        }
        return Epilogue(bias: bias.map { $0 + column }, finish: finish)
    }

    /// Applies `finish` to the complete `rows` × `width` elements at c (leading dimension
    /// ldc), which is C's origin moved as this epilogue was.
    func apply(to c: UnsafeMutablePointer<Float>, rows: Int, width: Int, ldc: Int) {
        switch finish {
        case .none:
            return
        case .activation(let sigma):
            for row in 0 ..< rows { sigma.apply(z: c + row * ldc, a: c + row * ldc, rows: 1, width: width) }
        case .activationBeside(let sigma, let a):
            for row in 0 ..< rows { sigma.apply(z: c + row * ldc, a: a + row * ldc, rows: 1, width: width) }
        case .derivative(let sigma, let operand):
            for row in 0 ..< rows { sigma.multiplyByDerivative(c + row * ldc, operand: operand + row * ldc, count: width) }
        }
    }
}
