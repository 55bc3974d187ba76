/// One sample's forward and backward pass through a tiny network: every layer, the inputs
/// included, has at most fifteen units and an elementwise σ (workload D, 2-8-1, is one).
/// For such a network the general path's costs are its bookkeeping, not its arithmetic:
/// batch storage, partial vectors assembled lane by lane, scalar results read back as
/// vectors. Here each a^l and δ^l is one SIMD16 vector, lane j for unit j, kept in a
/// register between layers and in a slot of its own for the products.
///
/// The arithmetic is the general path's, lane by lane: z_j = b_j + fma chain over k of
/// W_jk a_k (from 0, in order of k), the same chain for (W^T δ)_k, the same σ, σ' and C'.
/// So both paths give bit-identical results. With sixteen inputs the general path's
/// products switch to vector sums in another order, hence the limit of fifteen.
struct TinyNetworkStep {
    typealias V = SIMD16<Float>
    static let maxWidth = 15
    /// Floats of zeros past the end of θ, so that a whole vector can be loaded from any row
    /// of W^l or from b^l.
    static let parameterPadding = 16

    private let layers: UnsafeMutableBufferPointer<Layer>
    private let loss: Loss
    /// a^0 … a^L, then z^L, y and δ, one vector each.
    private let slots: UnsafeMutablePointer<Float>
    /// The columns of every W^l, one vector each, rebuilt from θ at each step.
    private let columns: UnsafeMutablePointer<Float>

    /// nil when some layer is wider than `maxWidth` or its σ couples units (softmax), or
    /// when the few bytes it needs are not available: the general path then serves.
    init?(layers: [Layer], loss: Loss) {
        guard let first = layers.first, first.inputWidth <= Self.maxWidth,
              layers.allSatisfy({ $0.width <= Self.maxWidth && $0.activation.isElementwise })
        else { return nil }
        let slotFloats = (layers.count + 4) * V.scalarCount
        let columnFloats = layers.reduce(0) { $0 + $1.inputWidth } * V.scalarCount
        guard let copy = try? Memory.allocate(Layer.self, count: layers.count, for: "the layers") else { return nil }
        guard let slots = try? Memory.allocateFloats(slotFloats + columnFloats, for: "a tiny network's vectors") else {
            Memory.free(copy)
            return nil
        }
        // Lanes past a layer's width are never stored outside the slots; zeros keep them finite.
        slots.initialize(repeating: 0, count: slotFloats + columnFloats)
        self.layers = UnsafeMutableBufferPointer(start: copy, count: layers.count)
        _ = self.layers.initialize(from: layers)
        self.loss = loss
        self.slots = slots
        columns = slots + slotFloats
    }

    func free() {
        if let base = layers.baseAddress { Memory.free(base) }
        Memory.free(slots)
    }

    private var top: Layer { layers[layers.count - 1] }
    private func a(_ l: Int) -> UnsafeMutablePointer<Float> { slots + l * V.scalarCount }
    private var z: UnsafeMutablePointer<Float> { a(layers.count + 1) }
    private var y: UnsafeMutablePointer<Float> { a(layers.count + 2) }
    private var delta: UnsafeMutablePointer<Float> { a(layers.count + 3) }

    @inline(__always)
    private func load(_ floats: UnsafePointer<Float>) -> V { UnsafeRawPointer(floats).loadUnaligned(as: V.self) }

    @inline(__always)
    private func store(_ value: V, _ slot: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(slot).storeBytes(of: value, as: V.self)
    }

    /// Copies the sample's inputs into a^0; false when one is NaN or infinite.
    func gather(inputs x: UnsafePointer<Float>) -> Bool {
        VectorKernels.copyCheckingFinite(x, into: a(0), count: layers[0].inputWidth)
    }

    /// Copies the sample's targets into y's slot; false when one is NaN or infinite.
    func gather(targets: UnsafePointer<Float>) -> Bool {
        VectorKernels.copyCheckingFinite(targets, into: y, count: top.width)
    }

    /// Forward and backward on the gathered sample: writes ∂C/∂θ into `gradients` and
    /// returns the sample's cost C. θ must have `parameterPadding` floats past its end.
    func run(parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) -> Float {
        gatherColumns(parameters)
        propagateForward(parameters)
        return propagateBackward(parameters, gradients: gradients)
    }

    /// Column k of each W^l into a vector of its own. Only θ feeds these copies, so they
    /// run ahead of the forward pass instead of on its critical path.
    private func gatherColumns(_ theta: UnsafePointer<Float>) {
        var column = columns
        for layer in layers {
            let w = theta + layer.weightOffset
            for k in 0 ..< layer.inputWidth {
                for j in 0 ..< layer.width { column[j] = w[j * layer.inputWidth + k] }
                column += V.scalarCount
            }
        }
    }

    /// z^l = W^l a^(l-1) + b^l, a^l = σ(z^l); z^L is kept for the cost.
    private func propagateForward(_ theta: UnsafePointer<Float>) {
        var column = UnsafePointer(columns)
        for l in 0 ..< layers.count {
            let layer = layers[l]
            var product = V()
            for k in 0 ..< layer.inputWidth {
                product.addProduct(V(repeating: a(l)[k]), load(column))
                column += V.scalarCount
            }
            let weighted = load(theta + layer.biasOffset) + product
            if l == layers.count - 1 { store(weighted, z) }
            store(layer.activation.elementwise(weighted), a(l + 1))
        }
    }

    /// δ^L = C'(a^L) ⊙ σ'(z^L), then down the layers ∂C/∂b^l = δ^l, ∂C/∂W^l = δ^l (a^(l-1))^T
    /// and δ^(l-1) = ((W^l)^T δ^l) ⊙ σ'(z^(l-1)).
    private func propagateBackward(_ theta: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) -> Float {
        let output = a(layers.count)
        var error = load(output) - load(y)
        if loss == .meanSquaredError { error = top.activation.derivativeProduct(error, a: load(output)) }
        let cost = loss.sampleCost(z: z, a: output, y: y, width: top.width, activation: top.activation)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            store(error, delta)
            (gradients + layer.biasOffset).update(from: delta, count: layer.width)
            MatrixVector.outerProduct(delta, rows: layer.width, a(l), columns: layer.inputWidth, alpha: 1,
                                      into: gradients + layer.weightOffset)
            guard l > 0 else { break }
            var backpropagated = V()
            for j in 0 ..< layer.width {
                backpropagated.addProduct(V(repeating: delta[j]), load(theta + layer.weightOffset + j * layer.inputWidth))
            }
            error = layers[l - 1].activation.derivativeProduct(backpropagated, a: load(a(l)))
        }
        return Float(cost)
    }
}
