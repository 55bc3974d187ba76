// Trains a 2-32-32-2 ReLU/softmax network on the two-spirals problem with the seed's
// mini-batch gradient descent, printing the loss and accuracy as it learns.
import BackpropCore
import SyntheticData

let train = TwoSpirals(pointsPerClass: 500, seed: 1)
let test = TwoSpirals(pointsPerClass: 500, seed: 2)
let targets = Classification.oneHot(train.labels, classes: 2)

do {
    let network = try Network(
        layerSizes: [2, 32, 32, 2], activations: [.relu, .relu, .softmax], loss: .crossEntropy, seed: 7)
    print("two spirals: \(train.count) training and \(test.count) test points; \(network)")
    var generator = SplitMix64(seed: 11)
    let epochs = 1000
    for epoch in 1 ... epochs {
        let loss = try Classification.trainEpoch(
            network, inputs: train.inputs, targets: targets, batchSize: 32, learningRate: 0.1, generator: &generator)
        if epoch % 100 == 0 || epoch == 1 {
            let accuracy = try Classification.accuracy(of: network, inputs: train.inputs, labels: train.labels)
            print("epoch \(epoch)/\(epochs)  loss \(loss)  train accuracy \(accuracy * 100)%")
        }
    }
    let accuracy = try Classification.accuracy(of: network, inputs: test.inputs, labels: test.labels)
    print("final test accuracy: \(accuracy * 100)%")
} catch {
    print("error: \(error)")
}
