import XCTest
import BackpropCore
import SyntheticData

/// Learning is checked by reaching a stated loss or accuracy.
final class LearningTests: XCTestCase {
    func testXORReachesLossBelowOneHundredth() throws {
        let network = try Network(layerSizes: [2, 4, 1], activations: [.sigmoid, .sigmoid], loss: .meanSquaredError, seed: 42)
        let inputs: [Float] = [0, 0, 0, 1, 1, 0, 1, 1]
        let targets: [Float] = [0, 1, 1, 0]
        var loss = Float.infinity
        for _ in 0 ..< 5000 {
            loss = try network.trainStep(inputs: inputs, targets: targets, batch: 4, learningRate: 2)
        }
        XCTAssertLessThan(loss, 0.01)
        let outputs = try network.forward(inputs, batch: 4)
        XCTAssertEqual(outputs.map { $0 > 0.5 ? 1 : 0 }, [0, 1, 1, 0])
    }

    func testTwoSpiralsReachesNinetySevenPercentOnHeldOutPoints() throws {
        let train = TwoSpirals(pointsPerClass: 500, seed: 1)
        let test = TwoSpirals(pointsPerClass: 500, seed: 2)
        let network = try Network(
            layerSizes: [2, 32, 32, 2], activations: [.relu, .relu, .softmax], loss: .crossEntropy, seed: 7)
        var options = FitOptions()
        options.epochs = 1000
        options.batchSize = 32
        options.learningRate = 0.1
        options.seed = 11
        try network.fit(inputs: train.inputs, targets: Classification.oneHot(train.labels, classes: 2), options: options)
        let accuracy = try network.evaluate(inputs: test.inputs, targets: Classification.oneHot(test.labels, classes: 2)).accuracy
        XCTAssertGreaterThanOrEqual(accuracy, 0.97)
    }
}
