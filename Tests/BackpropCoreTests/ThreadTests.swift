import XCTest
import BackpropCore

final class ThreadTests: XCTestCase {
    /// Products big enough to be split across threads give bit-identical training for
    /// 1, 2 and 3 threads (each element of C is computed by one thread in one order).
    func testTrainingIsBitIdenticalForAnyThreadCount() throws {
        var generator = SplitMix64(seed: 4)
        let batch = 64
        let x = (0 ..< batch * 256).map { _ in Float(generator.nextUnit()) }
        let y = (0 ..< batch).flatMap { row in (0 ..< 10).map { Float($0 == row % 10 ? 1 : 0) } }
        func train(threads: Int) throws -> [UInt32] {
            let network = try Network(layerSizes: [256, 512, 256, 10], activations: [.relu, .relu, .softmax],
                                      loss: .crossEntropy, seed: 12)
            try network.setThreadCount(threads)
            XCTAssertEqual(network.threadCount, threads)
            for _ in 0 ..< 3 { try network.trainStep(inputs: x, targets: y, batch: batch, learningRate: 0.05) }
            return network.parameterArray().map(\.bitPattern)
        }
        let single = try train(threads: 1)
        XCTAssertEqual(try train(threads: 2), single)
        XCTAssertEqual(try train(threads: 3), single)
    }

    func testThreadCountIsValidated() throws {
        let network = try Network(layerSizes: [2, 2], activations: [.linear], loss: .meanSquaredError, seed: 0)
        XCTAssertThrowsError(try network.setThreadCount(-1))
        XCTAssertThrowsError(try network.setThreadCount(Network.maxThreadCount + 1))
        try network.setThreadCount(0)
        XCTAssertGreaterThanOrEqual(network.threadCount, 1)
    }
}
