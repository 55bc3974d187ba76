// Trains a 2-32-32-2 ReLU/softmax network on the two-spirals problem with the seed's
// mini-batch gradient descent, printing the loss and accuracy as it learns.
import BackpropCore
import SyntheticData

let train = TwoSpirals(pointsPerClass: 500, seed: 1)
let test = TwoSpirals(pointsPerClass: 500, seed: 2)
let held = (inputs: test.inputs, targets: Classification.oneHot(test.labels, classes: 2))

func percent(_ fraction: Float) -> String {
    let tenths = Int((fraction * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
}

do {
    let network = try Network(
        layerSizes: [2, 32, 32, 2], activations: [.relu, .relu, .softmax], loss: .crossEntropy, seed: 7)
    print("two spirals: \(train.count) training and \(test.count) held-out points; \(network)")
    var options = FitOptions()
    options.epochs = 1000
    options.batchSize = 32
    options.learningRate = 0.1
    options.seed = 11
    try network.fit(
        inputs: train.inputs, targets: Classification.oneHot(train.labels, classes: 2), validation: held, options: options
    ) { report in
        if report.epoch == 1 || report.epoch % 100 == 0 {
            print("epoch \(report.epoch)/\(options.epochs)  loss \(report.trainLoss)  held-out accuracy \(percent(report.validationAccuracy))")
        }
        return true
    }
    let accuracy = try network.evaluate(inputs: held.inputs, targets: held.targets).accuracy
    print("final held-out accuracy: \(percent(accuracy))")
} catch {
    print("error: \(error)")
}
