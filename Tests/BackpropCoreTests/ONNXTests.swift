import XCTest
import BackpropCore

/// ONNX export and import at the core's API: every activation and loss round trips to the
/// same network, and malformed protobuf is refused with the error its defect calls for.
/// The Python tests compare exports with onnxruntime and import other exporters' models.
final class ONNXTests: XCTestCase {
    private func roundTrip(_ network: Network, loss: Loss? = nil) throws -> Network {
        let bytes = try network.onnxModel()
        return try bytes.withUnsafeBytes { try Network.importONNX($0, loss: loss) }
    }

    private func importing(_ bytes: [UInt8]) throws -> Network {
        try bytes.withUnsafeBytes { try Network.importONNX($0, loss: nil) }
    }

    func testEveryActivationAndLossRoundTripsToTheSameNetwork() throws {
        let inputs: [Float] = [0.5, -1.5, 2, -0.25, 0, 1.25, -3, 0.75]
        for (index, hidden) in Activation.allCases.filter({ $0 != .softmax }).enumerated() {
            for output in Activation.allCases {
                for loss in Loss.allCases where loss != .crossEntropy || output == .softmax || output == .sigmoid {
                    let network = try Network(layerSizes: [2, 3, 4, 2], activations: [hidden, .tanh, output], loss: loss,
                                              seed: UInt64(index))
                    let back = try roundTrip(network)
                    let what = "\(hidden), \(output), \(loss)"
                    XCTAssertEqual(back.layerSizes, network.layerSizes, what)
                    XCTAssertEqual(back.activations, network.activations, what)
                    XCTAssertEqual(back.loss, loss, "the loss comes from the metadata: \(what)")
                    XCTAssertEqual(back.parameterArray().map(\.bitPattern), network.parameterArray().map(\.bitPattern), what)
                    XCTAssertEqual(try back.forward(inputs, batch: 4), try network.forward(inputs, batch: 4), what)
                }
            }
        }
    }

    func testScalingsRoundTripAndAnExplicitLossWins() throws {
        let network = try Network(layerSizes: [3, 4, 2], activations: [.relu, .linear], loss: .huber, seed: 3)
        try network.setInputScaling(FeatureScaling(shift: [1, -2, 0.5], scale: [0.5, 2, 4]))
        try network.setTargetScaling(FeatureScaling(shift: [10, -1], scale: [0.25, 3]))
        let back = try roundTrip(network, loss: .l1)
        XCTAssertEqual(back.inputScaling, network.inputScaling)
        XCTAssertEqual(back.targetScaling, network.targetScaling)
        XCTAssertEqual(back.loss, .l1)
        let x: [Float] = [0.3, 2, -1, 4, -0.5, 0.25]
        XCTAssertEqual(try back.forward(x, batch: 2), try network.forward(x, batch: 2))
    }

    func testMalformedProtobufIsRefusedByItsDefect() {
        let cases: [(String, [UInt8], BackpropError.Kind)] = [
            ("no bytes: a model without a graph", [], .notAModel),
            ("only an IR version", [0x08, 0x08], .notAModel),
            ("a graph of 5 bytes with none present", [0x3A, 0x05], .truncated),
            ("a length beyond 2^63", [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .truncated),
            ("a varint of eleven bytes", [0x08] + [UInt8](repeating: 0x80, count: 10) + [0x01], .corruptModel),
            ("a varint past 64 bits", [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .corruptModel),
            ("a group (wire type 3)", [0x0B], .corruptModel),
            ("field number 0", [0x00, 0x00], .corruptModel),
            ("a number cut short", [0x08, 0x80], .truncated),
            ("a fixed32 cut short", [0x0D, 0x01, 0x02], .truncated),
            ("an empty graph", [0x3A, 0x00], .unsupportedModel),
        ]
        for (what, bytes, kind) in cases {
            XCTAssertThrowsError(try importing(bytes), what) { error in
                XCTAssertEqual((error as? BackpropError)?.kind, kind, "\(what): \(error)")
            }
        }
    }

    /// A cut inside a field fails; a cut between the model's last fields (the operator set
    /// and metadata follow the graph) may import, and then to the same parameters.
    func testEveryTruncationOfAnExportIsAnErrorOrTheSameNetwork() throws {
        let network = try Network(layerSizes: [3, 4, 2], activations: [.gelu, .softmax], loss: .crossEntropy, seed: 1)
        let bytes = try network.onnxModel()
        var kinds: Set<String> = [], imported = 0
        for cut in 0 ..< bytes.count {
            do {
                let back = try importing(Array(bytes[..<cut]))
                XCTAssertEqual(back.parameterArray(), network.parameterArray(), "cut at \(cut)")
                imported += 1
            } catch {
                kinds.insert("\((error as? BackpropError)?.kind ?? .invalidArgument)")
            }
        }
        XCTAssertTrue(kinds.isSubset(of: ["truncated", "notAModel", "unsupportedModel", "corruptModel"]), "\(kinds)")
        XCTAssertTrue(kinds.contains("truncated"), "\(kinds)")
        XCTAssertLessThan(imported, 200, "only cuts after the graph import")
    }
}
