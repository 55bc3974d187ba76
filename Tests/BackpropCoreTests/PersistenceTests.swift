import XCTest
import BackpropCore

final class PersistenceTests: XCTestCase {
    private func trainedNetwork(_ optimizer: Optimizer) throws -> Network {
        let network = try Network(layerSizes: [3, 5, 2], activations: [.relu, .softmax], loss: .crossEntropy, seed: 8)
        var options = TrainingOptions()
        options.optimizer = optimizer
        try network.setTrainingOptions(options)
        for _ in 0 ..< 3 {
            try network.trainStep(inputs: [0.1, 0.5, -0.3, 0.9, -0.1, 0.2], targets: [1, 0, 0, 1], batch: 2, learningRate: 0.1)
        }
        return network
    }

    /// Decoding what was encoded gives a network that continues exactly as the original,
    /// optimizer state and pending gradients included.
    func testRoundTripIsBitIdenticalAndResumesExactly() throws {
        for optimizer in Optimizer.allCases {
            let original = try trainedNetwork(optimizer)
            _ = try original.forward([0.3, 0.3, 0.3], batch: 1)
            try original.backward([0, 1], batch: 1)
            let copy = try original.encoded().withUnsafeBytes { (bytes) throws(BackpropError) in try Network.decode(bytes) }
            XCTAssertEqual(copy.encoded(), original.encoded(), "\(optimizer)")
            XCTAssertEqual(try copy.gradientArray(), try original.gradientArray())
            try original.update(learningRate: 0.1)
            try copy.update(learningRate: 0.1)
            for network in [original, copy] {
                try network.trainStep(inputs: [0.2, -0.4, 0.6], targets: [0, 1], batch: 1, learningRate: 0.05)
            }
            XCTAssertEqual(copy.parameterArray().map(\.bitPattern), original.parameterArray().map(\.bitPattern), "\(optimizer)")
        }
    }

    /// A backward pass whose loss overflows while its gradients stay finite (MSE of a linear
    /// output 1e20 away) is refused by update, also after a save and load.
    func testGradientsOfADivergedLossStayRefusedAcrossSaveAndLoad() throws {
        let network = try Network(layerSizes: [1, 1], activations: [.linear], loss: .meanSquaredError, seed: 0)
        _ = try network.forward([1], batch: 1)
        let loss = try network.backward([1e20], batch: 1)
        XCTAssertEqual(loss, .infinity)
        XCTAssertTrue(try network.gradientArray().allSatisfy(\.isFinite))
        let copy = try network.encoded().withUnsafeBytes { (bytes) throws(BackpropError) in try Network.decode(bytes) }
        for candidate in [network, copy] {
            XCTAssertThrowsError(try candidate.update(learningRate: 1e-30)) {
                XCTAssertEqual(($0 as? BackpropError)?.kind, .diverged)
            }
        }
        XCTAssertEqual(copy.parameterArray(), network.parameterArray())
    }

    func testEveryDamagedByteIsDetected() throws {
        let bytes = try trainedNetwork(.adam).encoded()
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x40
            XCTAssertThrowsError(try damaged.withUnsafeBytes { (b) throws(BackpropError) in try Network.decode(b) },
                                 "byte \(index)")
        }
        for length in 0 ..< bytes.count {
            XCTAssertThrowsError(try bytes.prefix(length).withUnsafeBytes { (b) throws(BackpropError) in try Network.decode(b) }) {
                let kind = ($0 as? BackpropError)?.kind
                XCTAssertTrue(kind == .truncated || kind == .corruptModel, "length \(length): \(String(describing: kind))")
            }
        }
    }

    func testFilesSaveAtomicallyAndLoadBack() throws {
        let directory = NSTemporaryDirectory() + "backprop-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.bpm"
        let network = try trainedNetwork(.momentum)
        try network.save(to: path)
        XCTAssertEqual(try Network.load(from: path).encoded(), network.encoded())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.bpm"])
        XCTAssertThrowsError(try Network.load(from: directory + "/missing.bpm")) {
            XCTAssertEqual(($0 as? BackpropError)?.kind, .io)
        }
        XCTAssertThrowsError(try network.save(to: directory + "/no/such/dir/model.bpm")) {
            XCTAssertEqual(($0 as? BackpropError)?.kind, .io)
        }
        XCTAssertEqual(try Network.load(from: path).encoded(), network.encoded())
    }
}
