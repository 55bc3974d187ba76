/// The per-batch memory of a network: a^0 … a^L (a^0 holds `forward`'s copy of the
/// inputs, since the library keeps no caller pointer past a call, or `fit`'s gathered
/// batch; a training step reads its caller's inputs in place), z^L for the loss, z^l of
/// the hidden layers whose σ' reads z (`Activation.derivativeReads`), and two δ buffers
/// used in turn while walking down the layers. Sized for `capacity` samples and only ever
/// grown, so a steady-state training step allocates nothing.
struct BatchStorage {
    let capacity: Int
    let activations: [UnsafeMutablePointer<Float>]
    let outputZ: UnsafeMutablePointer<Float>
    /// z of layers[index] for the hidden layers whose σ' reads it, nil for the others.
    let hiddenZ: [UnsafeMutablePointer<Float>?]
    let deltas: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    /// The batch's targets as the loss sees them, when the network scales its targets.
    let scaledTargets: UnsafeMutablePointer<Float>

    init(layerSizes: [Int], activations sigmas: [Activation], capacity: Int) throws(BackpropError) {
        let deltaWidth = layerSizes.dropFirst().max() ?? 1
        let keepsZ = sigmas.dropLast().map { $0.derivativeReads == .weightedInput }
        var sizes = layerSizes
        sizes.append(layerSizes[layerSizes.count - 1])
        sizes.append(deltaWidth)
        sizes.append(deltaWidth)
        for (index, keeps) in keepsZ.enumerated() where keeps { sizes.append(layerSizes[index + 1]) }
        sizes.append(layerSizes[layerSizes.count - 1])  // the scaled targets
        let (floats, overflow) = sizes.reduce(0, +).multipliedReportingOverflow(by: capacity)
        guard !overflow else {
            throw BackpropError(.sizeOverflow, "a batch of \(capacity) samples does not fit in memory")
        }
        try Memory.checkBudget(floats: floats, for: "a batch of \(capacity) samples")
        var buffers: [UnsafeMutablePointer<Float>] = []
        buffers.reserveCapacity(sizes.count)
        for width in sizes {
            do throws(BackpropError) {
                let (count, overflow) = width.multipliedReportingOverflow(by: capacity)
                guard !overflow else {
                    throw BackpropError(.sizeOverflow, "a batch of \(capacity) samples of \(width) units does not fit in memory")
                }
                buffers.append(try Memory.allocateFloats(count, for: "a batch of \(capacity) samples"))
            } catch {
                buffers.forEach(Memory.free)
                throw error
            }
        }
        self.capacity = capacity
        activations = Array(buffers[0 ..< layerSizes.count])
        outputZ = buffers[layerSizes.count]
        deltas = (buffers[layerSizes.count + 1], buffers[layerSizes.count + 2])
        var kept = buffers[(layerSizes.count + 3) ..< buffers.count - 1].makeIterator()
        hiddenZ = keepsZ.map { $0 ? kept.next() : nil }
        scaledTargets = buffers[buffers.count - 1]
    }

    /// What σ' of layers[index] reads for the backward pass: a^l, or z^l when the
    /// activation asks for it (kept for such layers only).
    func derivativeOperand(of index: Int, activation: Activation) -> UnsafePointer<Float> {
        guard activation.derivativeReads == .weightedInput else { return UnsafePointer(activations[index + 1]) }
        guard index < hiddenZ.count, let z = hiddenZ[index] else { return UnsafePointer(outputZ) }  // the output layer's
        return UnsafePointer(z)
    }

    func free() {
        activations.forEach(Memory.free)
        Memory.free(outputZ)
        Memory.free(deltas.0)
        Memory.free(deltas.1)
        hiddenZ.forEach { $0.map(Memory.free) }
        Memory.free(scaledTargets)
    }
}
