import BackpropCore

/// Row-major inputs and their targets, ready for `Network.fit`.
struct LabelledRows {
    let inputs: [Float]
    let targets: [Float]
    let inputWidth: Int
    let targetWidth: Int

    var count: Int { inputs.count / inputWidth }

    /// Holds out `fraction` of the rows, chosen by `seed`, as a validation set; the rest
    /// keep their order.
    func split(holdingOut fraction: Double, seed: UInt64) throws(CLIError) -> (training: LabelledRows, validation: LabelledRows) {
        let heldOut = Int((fraction * Double(count)).rounded())
        guard heldOut >= 1, heldOut < count else {
            throw .failure("--validation-split \(fraction) of \(count) samples holds out \(heldOut); at least one sample must be held out and one left to train on")
        }
        var generator = SplitMix64(seed: seed)
        var order = Array(0 ..< count)
        // A partial Fisher–Yates shuffle: only the held-out slots need drawing.
        for slot in 0 ..< heldOut {
            order.swapAt(slot, slot + Int(generator.next() % UInt64(count - slot)))
        }
        let validation = order[..<heldOut]
        let isHeldOut = Set(validation)
        return (rows((0 ..< count).filter { !isHeldOut.contains($0) }), rows(validation))
    }

    private func rows<Indices: Collection<Int>>(_ indices: Indices) -> LabelledRows {
        var inputs: [Float] = []
        var targets: [Float] = []
        inputs.reserveCapacity(indices.count * inputWidth)
        targets.reserveCapacity(indices.count * targetWidth)
        for row in indices {
            inputs += self.inputs[row * inputWidth ..< (row + 1) * inputWidth]
            targets += self.targets[row * targetWidth ..< (row + 1) * targetWidth]
        }
        return LabelledRows(inputs: inputs, targets: targets, inputWidth: inputWidth, targetWidth: targetWidth)
    }
}
