import BackpropCore

/// What a network's outputs mean, which decides how labels become targets and how outputs
/// are read as predictions.
enum OutputKind: Equatable {
    /// K > 1 units, one per class: labels are the classes 0 … K−1, one-hot encoded; the
    /// prediction is the unit with the largest output.
    case classes(Int)
    /// One unit trained with cross-entropy: labels are 0 or 1; the prediction is 1 when the
    /// output is at least 0.5.
    case binary
    /// One unit trained with MSE: the label is the target value itself.
    case regression

    init(outputSize: Int, loss: Loss) {
        if outputSize > 1 {
            self = .classes(outputSize)
        } else {
            self = loss == .crossEntropy ? .binary : .regression
        }
    }

    init(_ network: Network) {
        self.init(outputSize: network.outputSize, loss: network.loss)
    }

    /// How many classes the predictions tell apart; nil for regression.
    var classCount: Int? {
        switch self {
        case .classes(let count): return count
        case .binary: return 2
        case .regression: return nil
        }
    }

    /// The targets for `labels`, row-major: one-hot rows for classes, the labels otherwise.
    func targets(for labels: [Float], location: (Int) -> String) throws(CLIError) -> [Float] {
        switch self {
        case .regression:
            return labels
        case .binary:
            for (index, label) in labels.enumerated() where label != 0 && label != 1 {
                throw .failure("\(location(index)): label \(Format.plain(label)) is not 0 or 1, the classes of a network with a single cross-entropy output")
            }
            return labels
        case .classes(let count):
            var targets = [Float](repeating: 0, count: labels.count * count)
            for (index, label) in labels.enumerated() {
                guard label >= 0, label < Float(count), label == label.rounded() else {
                    throw .failure("\(location(index)): label \(Format.plain(label)) is out of range: the output layer has \(count) units, so labels must be the classes 0 to \(count - 1)")
                }
                targets[index * count + Int(label)] = 1
            }
            return targets
        }
    }

    /// The class predicted from one sample's outputs by the library's rule
    /// (`ClassifierRule`, the one its accuracy uses); nil for regression.
    func predictedClass(_ outputs: ArraySlice<Float>) -> Int? {
        if case .regression = self { return nil }
        return outputs.withUnsafeBufferPointer { row in
            row.baseAddress.map { ClassifierRule.predictedClass($0, width: row.count) } ?? 0
        }
    }
}

extension Network {
    /// a^L for every sample, row-major (count × outputSize).
    func outputs(for samples: Samples) throws(BackpropError) -> [Float] {
        var outputs = [Float](repeating: 0, count: try outputCount(batch: samples.count))
        try samples.features.withUnsafeBufferPointer { (inputs) throws(BackpropError) in
            try outputs.withUnsafeMutableBufferPointer { (result) throws(BackpropError) in
                try predict(inputs, batch: samples.count, outputs: result)
            }
        }
        return outputs
    }

    /// "4,16,3", as `--layers` takes it.
    var layerList: String {
        layerSizes.map(String.init).joined(separator: ",")
    }

    /// "relu,softmax", as `--activations` takes it.
    var activationList: String {
        activations.map(\.name).joined(separator: ",")
    }
}
