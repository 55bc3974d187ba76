import XCTest
import BackpropCore
import SyntheticData

final class FitTests: XCTestCase {
    private let data = TwoSpirals(pointsPerClass: 100, seed: 3)
    private var targets: [Float] { Classification.oneHot(data.labels, classes: 2) }

    private func network() throws -> Network {
        try Network(layerSizes: [2, 16, 2], activations: [.tanh, .softmax], loss: .crossEntropy, seed: 5)
    }

    func testTheSameSeedGivesTheSameNetworkAndHistory() throws {
        var options = FitOptions()
        options.epochs = 5
        options.seed = 99
        let (a, b, c) = (try network(), try network(), try network())
        let historyA = try a.fit(inputs: data.inputs, targets: targets, options: options)
        let historyB = try b.fit(inputs: data.inputs, targets: targets, options: options)
        XCTAssertEqual(historyA.map(\.trainLoss), historyB.map(\.trainLoss))
        XCTAssertEqual(a.parameterArray(), b.parameterArray())
        options.seed = 100
        try c.fit(inputs: data.inputs, targets: targets, options: options)
        XCTAssertNotEqual(a.parameterArray(), c.parameterArray())
    }

    func testTheCallbackStopsTrainingAndSeesEveryEpoch() throws {
        var options = FitOptions()
        options.epochs = 50
        var seen: [Int] = []
        let history = try network().fit(inputs: data.inputs, targets: targets, options: options) { report in
            seen.append(report.epoch)
            return report.epoch < 3
        }
        XCTAssertEqual(seen, [1, 2, 3])
        XCTAssertEqual(history.count, 3)
    }

    func testValidationIsReportedAndTheTargetLossStopsTraining() throws {
        let xor: (inputs: [Float], targets: [Float]) = ([0, 0, 0, 1, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1, 1, 0])
        let net = try Network(layerSizes: [2, 8, 2], activations: [.tanh, .softmax], loss: .crossEntropy, seed: 5)
        var options = FitOptions()
        options.epochs = 5000
        options.batchSize = 4
        options.learningRate = 0.5
        options.targetLoss = 0.05
        let history = try net.fit(inputs: xor.inputs, targets: xor.targets, validation: xor, options: options)
        XCTAssertLessThan(history.count, 5000)
        XCTAssertLessThanOrEqual(history.last!.validationLoss, 0.05)
        XCTAssertGreaterThan(history[history.count - 2].validationLoss, 0.05)
        XCTAssertEqual(history.last!.validationAccuracy, 1)
        XCTAssertGreaterThan(history.last!.validationLoss, 0)
        XCTAssertTrue((0 ... 1).contains(history.last!.validationAccuracy))
        XCTAssertTrue(history.allSatisfy { $0.trainLoss.isFinite })
    }

    /// A learning rate so large that training oscillates: early stopping ends it and
    /// restores the parameters of the epoch with the lowest monitored loss.
    func testEarlyStoppingRestoresTheBestEpoch() throws {
        let net = try network()
        var options = FitOptions()
        options.epochs = 200
        options.learningRate = 3
        options.patience = 3
        var snapshots: [[Float]] = []
        let history = try net.fit(inputs: data.inputs, targets: targets, validation: (data.inputs, targets),
                                  options: options) { _ in
            snapshots.append(net.parameterArray())
            return true
        }
        let best = history.indices.min { history[$0].validationLoss < history[$1].validationLoss }!
        XCTAssertLessThan(history.count, 200)
        XCTAssertEqual(history.count - 1 - best, 3, "stopped after three epochs without improvement")
        XCTAssertEqual(net.parameterArray(), snapshots[best])
    }

    /// The summary says why training ended and whether the best epoch was restored.
    func testTheSummaryNamesTheReasonTrainingStopped() throws {
        let net = try network()
        try data.inputs.withUnsafeBufferPointer { (x) throws(BackpropError) in
            try targets.withUnsafeBufferPointer { (y) throws(BackpropError) in
                let set = DataSet(inputs: x, targets: y, count: data.count)
                var options = FitOptions()
                options.epochs = 3
                XCTAssertEqual(try net.fit(set, options: options).stop, .completed)
                XCTAssertEqual(try net.fit(set, options: options) { $0.epoch < 2 }.stop, .callback)
                options.epochs = 1000
                options.targetLoss = 10
                let target = try net.fit(set, options: options)
                XCTAssertEqual([target.epochs, target.bestEpoch], [1, 1])
                XCTAssertEqual(target.stop, .targetLoss)
                XCTAssertFalse(target.restoredBest)
                options.targetLoss = nil
                options.learningRate = 3
                options.patience = 2
                let summary = try net.fit(set, validation: set, options: options)
                XCTAssertEqual(summary.stop, .earlyStopping)
                XCTAssertEqual(summary.epochs - summary.bestEpoch, 2)
                XCTAssertTrue(summary.restoredBest)
            }
        }
    }

    func testBadOptionsAndDataAreRefusedBeforeTraining() throws {
        let net = try network()
        let before = net.parameterArray()
        var options = FitOptions()
        options.epochs = 0
        XCTAssertThrowsError(try net.fit(inputs: data.inputs, targets: targets, options: options))
        options = FitOptions()
        options.learningRate = -1
        XCTAssertThrowsError(try net.fit(inputs: data.inputs, targets: targets, options: options))
        var poisoned = targets
        poisoned[poisoned.count - 1] = .nan
        XCTAssertThrowsError(try net.fit(inputs: data.inputs, targets: poisoned, options: FitOptions())) {
            XCTAssertEqual(($0 as? BackpropError)?.kind, .nonFinite)
        }
        XCTAssertEqual(net.parameterArray(), before)
    }

    func testDivergenceStopsWithTheParametersOfTheLastGoodStep() throws {
        let net = try Network(layerSizes: [1, 1], activations: [.linear], loss: .meanSquaredError, seed: 0)
        var options = FitOptions()
        options.epochs = 1000
        options.batchSize = 1
        options.learningRate = 10
        var last: [Float] = []
        XCTAssertThrowsError(try net.fit(inputs: [3, -2], targets: [1, 1], options: options) { _ in
            last = net.parameterArray()
            return true
        }) { XCTAssertEqual(($0 as? BackpropError)?.kind, .diverged) }
        XCTAssertTrue(net.parameterArray().allSatisfy(\.isFinite))
        XCTAssertFalse(last.isEmpty)
    }
}
