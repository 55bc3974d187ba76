/// Layer l of the stack (l ≥ 1): n_l units fed by the n_(l-1) units of the layer below,
/// with W^l (n_l × n_(l-1), row-major) and b^l (n_l) stored at fixed offsets of the
/// network's flat parameter buffer.
struct Layer {
    let inputWidth: Int
    let width: Int
    let activation: Activation
    let weightOffset: Int
    let biasOffset: Int

    var weightCount: Int { width * inputWidth }
    var parameterEnd: Int { biasOffset + width }
}
