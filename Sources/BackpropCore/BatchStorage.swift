/// The per-batch memory of a network: a^0 … a^L (a^0 holds `forward`'s copy of the
/// inputs, since the library keeps no caller pointer past a call, or `fit`'s gathered
/// batch; a training step reads its caller's inputs in place), z^L for the loss, and two
/// δ buffers used in turn
/// while walking down the layers. Sized for `capacity` samples and only ever grown, so a
/// steady-state training step allocates nothing.
struct BatchStorage {
    let capacity: Int
    let activations: [UnsafeMutablePointer<Float>]
    let outputZ: UnsafeMutablePointer<Float>
    let deltas: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)

    init(layerSizes: [Int], capacity: Int) throws(BackpropError) {
        let deltaWidth = layerSizes.dropFirst().max() ?? 1
        var sizes = layerSizes
        sizes.append(layerSizes[layerSizes.count - 1])
        sizes.append(deltaWidth)
        sizes.append(deltaWidth)
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
    }

    func free() {
        activations.forEach(Memory.free)
        Memory.free(outputZ)
        Memory.free(deltas.0)
        Memory.free(deltas.1)
    }
}
