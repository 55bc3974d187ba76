import XCTest
import BackpropCore

/// The input scaling's section of a model file: a round trip, and damaged sections refused.
final class InputScalingTests: XCTestCase {
    func network() throws -> Network {
        let network = try Network(layerSizes: [3, 4, 1], activations: [.tanh, .linear], loss: .meanSquaredError, seed: 2)
        try network.setInputScaling(try FeatureScaling(shift: [1, 2, 3], scale: [0.5, -2, 4]))
        return network
    }

    func decode(_ bytes: [UInt8]) throws -> Network {
        try bytes.withUnsafeBytes { (raw) throws(BackpropError) in try Network.decode(raw) }
    }

    /// The file with `change` made and its CRC-32 recomputed.
    func damaged(_ bytes: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var copy = bytes
        change(&copy)
        let crc = ScheduleTests.crc32(copy.dropLast(4))
        for k in 0 ..< 4 { copy[copy.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        return copy
    }

    func testTheScalingSurvivesAModelFile() throws {
        let net = try network()
        let copy = try decode(net.encoded())
        XCTAssertEqual(copy.inputScaling, net.inputScaling)
        XCTAssertEqual(try copy.forward([0.5, 1, 1.5], batch: 1), try net.forward([0.5, 1, 1.5], batch: 1))
    }

    func testDamagedSectionsAreRefused() throws {
        let bytes = try network().encoded()
        let section = bytes.count - 4 - 24 - 8  // tag 2 comes last: 8 bytes of header, 3 + 3 floats
        let cases: [(String, [UInt8])] = [
            ("a NaN shift", damaged(bytes) { $0[section + 8 + 3] = 0x7F; $0[section + 8 + 2] = 0xC0 }),
            ("the wrong length", damaged(bytes) { $0[section + 4] = 20 }),
            ("the section twice", damaged(bytes) { $0[section] = 1 }),
        ]
        XCTAssertNoThrow(try decode(bytes))
        for (name, data) in cases {
            XCTAssertThrowsError(try decode(data), name) { error in
                XCTAssertEqual((error as? BackpropError)?.kind, .corruptModel, name)
            }
        }
    }

    func testTheWidthMustBeTheInputLayers() throws {
        let net = try network()
        XCTAssertThrowsError(try net.setInputScaling(try FeatureScaling(shift: [0, 0], scale: [1, 1])))
        XCTAssertThrowsError(try FeatureScaling(shift: [0, .infinity, 0], scale: [1, 1, 1]))
        XCTAssertThrowsError(try FeatureScaling(shift: [0], scale: [1, 1]))
        XCTAssertEqual(net.inputScaling?.shift, [1, 2, 3], "refused scalings change nothing")
    }
}
