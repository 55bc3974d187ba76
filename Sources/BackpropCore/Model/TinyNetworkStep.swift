/// One sample's training step through a tiny network: every layer, the inputs included,
/// has at most fifteen units and an elementwise σ (workload D, 2-8-1, is one). For such a
/// network the general path's costs are its bookkeeping, not its arithmetic: batch
/// storage, partial vectors assembled lane by lane, scalar results read back as vectors,
/// and a separate pass for the update. Here each a^l and δ^l is one SIMD16 vector, lane j
/// for unit j (lanes past the width kept at zero), W^l is also kept by columns, and plain
/// SGD's update is computed straight from δ^l and a^(l-1): ∂C/∂θ is written out only
/// when someone reads it, which a training loop rarely does.
///
/// The arithmetic is the general path's, lane by lane: z_j = b_j + (even + odd), two fma
/// chains over the even and the odd k of W_jk a_k (`MatrixVector`'s short dot product),
/// an fma chain over j for (W^T δ)_k (from 0, in order), the same σ, σ' and C',
/// and θ' = fma(−η, g, θ) as `VectorKernels.subtractScaled`. So both paths give
/// bit-identical results (NaN payloads aside, in the gradients of a diverged step). With
/// sixteen inputs the general path's products switch to vector sums in another order,
/// hence the limit of fifteen.
final class TinyNetworkStep {
    typealias V = SIMD16<Float>
    static let maxWidth = 15
    /// Floats past the end of θ (zeros) and of ∂C/∂θ, so that a whole vector can be
    /// loaded from any row of W^l or b^l, and stored into any row of them.
    static let padding = 16

    private let layers: UnsafeMutableBufferPointer<Layer>
    private let loss: Loss
    /// a^0 … a^L, then z^1 … z^L, y and δ^1 … δ^L, one vector each. Only the z^l that
    /// are read are written: z^L for the cost, and those of layers whose σ' reads z.
    private let slots: UnsafeMutablePointer<Float>
    /// Column k of every W^l, one vector each, and the columns of the next θ.
    private var columns: UnsafeMutablePointer<Float>
    private var nextColumns: UnsafeMutablePointer<Float>
    /// Whether `columns` holds the current θ; the network clears it whenever θ changes
    /// by another way than `trainWithPlainSGD`.
    private var columnsAreCurrent = false

    /// nil when some layer is wider than `maxWidth` or its σ couples units (softmax), for
    /// the losses with a parameter (Huber's δ, which the general path reads from the
    /// options; L1 beside it), or when the few bytes it needs are not available: the
    /// general path then serves.
    init?(layers: [Layer], loss: Loss) {
        guard loss == .meanSquaredError || loss == .crossEntropy,
              let first = layers.first, first.inputWidth <= Self.maxWidth,
              layers.allSatisfy({ $0.width <= Self.maxWidth && $0.activation.isElementwise })
        else { return nil }
        let slotFloats = (3 * layers.count + 2) * V.scalarCount
        let columnFloats = layers.reduce(0) { $0 + $1.inputWidth } * V.scalarCount
        let floats = slotFloats + 2 * columnFloats
        guard let copy = try? Memory.allocate(Layer.self, count: layers.count, for: "the layers") else { return nil }
        guard let slots = try? Memory.allocateFloats(floats, for: "a tiny network's vectors") else {
            Memory.free(copy)
            return nil
        }
        slots.initialize(repeating: 0, count: floats)
        self.layers = UnsafeMutableBufferPointer(start: copy, count: layers.count)
        _ = self.layers.initialize(from: layers)
        self.loss = loss
        self.slots = slots
        columns = slots + slotFloats
        nextColumns = columns + columnFloats
    }

    deinit {
        if let base = layers.baseAddress { Memory.free(base) }
        Memory.free(slots)
    }

    private var top: Layer { layers[layers.count - 1] }
    private func a(_ l: Int) -> UnsafeMutablePointer<Float> { slots + l * V.scalarCount }
    /// z of layers[l], i.e. z^(l+1).
    private func z(_ l: Int) -> UnsafeMutablePointer<Float> { a(layers.count + 1 + l) }
    private var y: UnsafeMutablePointer<Float> { a(2 * layers.count + 1) }
    /// δ of layers[l], i.e. δ^(l+1).
    private func delta(_ l: Int) -> UnsafeMutablePointer<Float> { a(2 * layers.count + 2 + l) }

    /// What σ' of layers[l] reads: a^(l+1) or z^(l+1).
    @inline(__always)
    private func derivativeOperand(_ l: Int) -> V {
        layers[l].activation.derivativeReads == .output ? load(a(l + 1)) : load(z(l))
    }

    @inline(__always)
    private func load(_ floats: UnsafePointer<Float>) -> V { UnsafeRawPointer(floats).loadUnaligned(as: V.self) }

    @inline(__always)
    private func store(_ value: V, _ floats: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(floats).storeBytes(of: value, as: V.self)
    }

    /// `value` with the lanes from `width` on set to zero.
    @inline(__always)
    private func lanes(_ value: V, below width: Int) -> V {
        let lane = V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        return value.replacing(with: 0, where: lane .>= V(repeating: Float(width)))
    }

    /// Copies the sample's inputs, already checked, into a^0 (element by element: a call
    /// to memmove costs more than a few floats).
    func gather(inputs x: UnsafePointer<Float>, scaling: FeatureScaling?) {
        let a0 = a(0)
        guard let scaling else {
            for k in 0 ..< layers[0].inputWidth { a0[k] = x[k] }
            return
        }
        scaling.apply(x, into: a0, rows: 1)
    }

    /// Copies the sample's targets into y's slot; false when one is NaN or infinite.
    func gather(targets: UnsafePointer<Float>, scaling: FeatureScaling?) -> Bool {
        guard VectorKernels.copyCheckingFinite(targets, into: y, count: top.width) else { return false }
        scaling?.apply(y, into: y, rows: 1)
        return true
    }

    /// θ was changed by another way than `trainWithPlainSGD`.
    func parametersChanged() {
        columnsAreCurrent = false
    }

    /// Forward and backward on the gathered sample: writes ∂C/∂θ into `gradients` (with
    /// `padding` floats past its end) and returns the sample's cost C.
    func run(parameters theta: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) -> Float {
        let cost = propagate(theta)
        writeGradients(into: gradients)
        return cost
    }

    /// Forward and backward, then plain SGD's θ' = θ − η ∂C/∂θ into `next` (with `padding`
    /// floats past its end) and the columns of θ' beside the current ones. Returns the cost
    /// and whether every θ' is finite; `adoptNextColumns` once θ' is adopted. ∂C/∂θ stays
    /// in the slots (δ^l and a^(l-1)) until `writeGradients` writes it out.
    func trainWithPlainSGD(
        parameters theta: UnsafePointer<Float>, into next: UnsafeMutablePointer<Float>, learningRate eta: Float
    ) -> (cost: Float, finite: Bool) {
        let cost = propagate(theta)
        return (cost, writeUpdate(theta, into: next, negativeEta: V(repeating: -eta)))
    }

    /// The columns written by the last `trainWithPlainSGD` now describe θ.
    func adoptNextColumns() {
        swap(&columns, &nextColumns)
        columnsAreCurrent = true
    }

    /// Forward and backward: leaves a^l and δ^l in their slots and returns the cost.
    private func propagate(_ theta: UnsafePointer<Float>) -> Float {
        if !columnsAreCurrent { gatherColumns(theta) }
        columnsAreCurrent = true
        propagateForward(theta)
        return propagateBackward(theta)
    }

    /// Column k of each W^l into a vector of its own (lanes past the width stay zero).
    private func gatherColumns(_ theta: UnsafePointer<Float>) {
        var columnsOfLayer = columns
        for layer in layers {
            var w = theta + layer.weightOffset
            for j in 0 ..< layer.width {
                var target = columnsOfLayer + j
                for _ in 0 ..< layer.inputWidth {
                    target.pointee = w.pointee
                    w += 1
                    target += V.scalarCount
                }
            }
            columnsOfLayer += layer.inputWidth * V.scalarCount
        }
    }

    /// z^l = W^l a^(l-1) + b^l, a^l = σ(z^l); z^L is kept for the cost, and z^l wherever
    /// σ' reads it.
    private func propagateForward(_ theta: UnsafePointer<Float>) {
        var column = UnsafePointer(columns)
        for l in 0 ..< layers.count {
            let layer = layers[l]
            var even = V(), odd = V()
            var k = 0
            while k + 2 <= layer.inputWidth {
                even.addProduct(V(repeating: a(l)[k]), load(column))
                odd.addProduct(V(repeating: a(l)[k + 1]), load(column + V.scalarCount))
                column += 2 * V.scalarCount
                k += 2
            }
            if k < layer.inputWidth {
                even.addProduct(V(repeating: a(l)[k]), load(column))
                column += V.scalarCount
            }
            let weighted = load(theta + layer.biasOffset) + (even + odd)
            if l == layers.count - 1 || layer.activation.derivativeReads == .weightedInput { store(weighted, z(l)) }
            store(lanes(layer.activation.elementwise(weighted), below: layer.width), a(l + 1))
        }
    }

    /// δ^L = C'(a^L) ⊙ σ'(z^L) and δ^(l-1) = ((W^l)^T δ^l) ⊙ σ'(z^(l-1)) down the layers;
    /// returns the cost.
    private func propagateBackward(_ theta: UnsafePointer<Float>) -> Float {
        let output = a(layers.count)
        var error = loss.outputError(a: load(output), y: load(y), operand: derivativeOperand(layers.count - 1),
                                     activation: top.activation, huberDelta: V(repeating: 1))  // unread: see init
        let cost = loss.sampleCost(z: z(layers.count - 1), a: output, y: y, width: top.width, activation: top.activation,
                                   huberDelta: 1)
        var l = layers.count - 1
        while l >= 1 {  // l = L…1; a stride's iterator was not inlined here
            defer { l -= 1 }
            let layer = layers[l]
            store(error, delta(l))
            var backpropagated = V()
            var row = theta + layer.weightOffset
            for j in 0 ..< layer.width {
                backpropagated.addProduct(V(repeating: delta(l)[j]), load(row))
                row += layer.inputWidth
            }
            let product = layers[l - 1].activation.derivativeProduct(backpropagated, operand: derivativeOperand(l - 1))
            error = lanes(product, below: layer.inputWidth)
        }
        store(error, delta(0))
        return Float(cost)
    }

    /// ∂C/∂W^l = δ^l (a^(l-1))^T row by row and ∂C/∂b^l = δ^l of the last step, from its
    /// slots, into `gradients` (with `padding` floats past its end). Each row is a whole
    /// vector, stored in ascending order: the lanes past a row land where a later store
    /// writes, or in the padding.
    func writeGradients(into gradients: UnsafeMutablePointer<Float>) {
        for l in 0 ..< layers.count {
            let layer = layers[l]
            let below = load(a(l))
            var offset = layer.weightOffset
            for j in 0 ..< layer.width {
                store(weightGradient(row: j, of: l, below: below), gradients + offset)
                offset += layer.inputWidth
            }
            store(load(delta(l)), gradients + layer.biasOffset)
        }
    }

    /// Row j of ∂C/∂W^l, δ_j a^(l-1) (`below`), in the lanes of a^(l-1).
    @inline(__always)
    private func weightGradient(row j: Int, of l: Int, below: V) -> V {
        V(repeating: delta(l)[j]) * below
    }

    /// θ' = θ + (−η) ∂C/∂θ, stored like `writeGradients`' rows, and the columns of W'^l.
    /// Returns whether every θ' is finite (the lanes past a row carry θ's own values, which
    /// are finite, unless δ_j is not, and then the row's own lanes are not either).
    private func writeUpdate(_ theta: UnsafePointer<Float>, into next: UnsafeMutablePointer<Float>, negativeEta: V)
        -> Bool
    {
        var zeros = V()
        var column = UnsafePointer(columns), nextColumn = nextColumns
        for l in 0 ..< layers.count {
            let layer = layers[l]
            let below = load(a(l))
            var offset = layer.weightOffset
            for j in 0 ..< layer.width {
                let updated = load(theta + offset).addingProduct(negativeEta, weightGradient(row: j, of: l, below: below))
                store(updated, next + offset)
                zeros += updated * 0
                offset += layer.inputWidth
            }
            let error = load(delta(l))
            let updated = load(theta + layer.biasOffset).addingProduct(negativeEta, error)
            store(updated, next + layer.biasOffset)
            zeros += updated * 0
            for k in 0 ..< layer.inputWidth {
                store(load(column).addingProduct(negativeEta, error * V(repeating: a(l)[k])), nextColumn)
                column += V.scalarCount
                nextColumn += V.scalarCount
            }
        }
        return VectorMath.sum(zeros).isFinite
    }
}
