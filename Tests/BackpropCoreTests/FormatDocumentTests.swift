import Foundation
import XCTest
import BackpropCore

/// docs/format.md's code tables against the code: every activation, loss and optimizer
/// code with its name and constant (the header's side is `HeaderCodeTests`), each
/// optimizer's state arrays, and the option keys, checked in the bytes of a saved model.
final class FormatDocumentTests: XCTestCase {
    struct Row { let code: Int32, name: String, constant: String, rest: String }

    /// The rows `| code | name | `CONSTANT` | … |` of the table under `### <heading>`.
    static func table(_ heading: String) -> [Row] {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/format.md").standardized
        guard let text = try? String(contentsOf: document, encoding: .utf8),
              let start = text.range(of: "\n### \(heading)\n") else { return [] }
        let section = text[start.upperBound...].prefix { $0 != "#" }
        return section.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5, let code = Int32(cells[1]) else { return nil }
            return Row(code: code, name: cells[2], constant: cells[3].trimmingCharacters(in: CharacterSet(charactersIn: "`")),
                       rest: cells[4...].joined(separator: "|"))
        }
    }

    func assertTable<Code: PublicCode>(_ heading: String, _ type: Code.Type, file: StaticString = #filePath,
                                       line: UInt = #line) -> [(Row, Code)] {
        let rows = Self.table(heading)
        XCTAssertEqual(rows.map(\.code), Code.allCases.map(\.rawValue), "codes of ### \(heading)", file: file, line: line)
        return rows.compactMap { row in
            guard let value = Code(rawValue: row.code) else { return nil }
            XCTAssertEqual(row.name, value.name, "### \(heading), code \(row.code)", file: file, line: line)
            XCTAssertEqual(row.constant, value.constantName, "### \(heading), code \(row.code)", file: file, line: line)
            return (row, value)
        }
    }

    func testActivations() {
        for (row, activation) in assertTable("Activations", Activation.self) where activation != .softmax {
            XCTAssertEqual(row.rest.split(separator: "|").first.map(String.init), activation.derivativeReads == .output ? "a" : "z",
                           "what σ' of \(activation.name) is computed from")
        }
    }

    func testSchedules() {
        XCTAssertEqual(assertTable("Schedules", LearningRateSchedule.self).count, LearningRateSchedule.allCases.count)
    }

    func testLosses() {
        XCTAssertEqual(assertTable("Losses", Loss.self).count, Loss.allCases.count)
    }

    func testOptimizersAndTheirStateArrays() {
        for (row, optimizer) in assertTable("Optimizers", Optimizer.self) {
            let arrays = row.rest.split(separator: "|").first.map(String.init) ?? ""
            let documented = arrays == "none" ? 0 : arrays.split(separator: ",").count
            XCTAssertEqual(documented, optimizer.properties.stateSlots.count, "state arrays of \(optimizer.name)")
        }
    }

    /// The documented keys are the ones a saved model holds: each option set to a value of
    /// its own, then found after its key in the file's option records.
    func testOptionKeysAreTheFilesKeys() throws {
        let rows = Self.table("Option keys")
        XCTAssertEqual(rows.count, TrainingOptions.Hyperparameter.allCases.count)
        var options = TrainingOptions()
        options.optimizer = .rprop
        let values: [TrainingOptions.Hyperparameter: Double] = [
            .momentum: 0.5, .beta1: 0.6, .beta2: 0.7, .epsilon: 1e-3, .weightDecay: 0.01, .clipNorm: 2,
            .rpropIncrease: 1.3, .rpropDecrease: 0.4, .rpropMinStep: 1e-5, .rpropMaxStep: 40, .rpropInitialStep: 0.2,
            .gamma: 0.3, .stepEpochs: 3, .warmupEpochs: 2, .cycleEpochs: 7, .minLearningRate: 1e-4, .powerT: 0.25,
            .plateauFactor: 0.2, .plateauPatience: 4, .plateauThreshold: 1e-3, .huberDelta: 0.5,
        ]
        XCTAssertEqual(Set(values.keys), Set(TrainingOptions.Hyperparameter.allCases), "a value for every option")
        for (option, value) in values { options[option] = value }
        let network = try Network(layerSizes: [2, 3, 1], activations: [.tanh, .sigmoid], loss: .meanSquaredError, seed: 1)
        try network.setTrainingOptions(options)
        let records = Self.optionRecords(network.encoded(), layers: 3, parameters: network.parameterCount)
        XCTAssertEqual(records.map(\.key), rows.map { UInt32($0.code) }, "the file's keys, in order")
        for (row, record) in zip(rows, records) {
            let option = TrainingOptions.Hyperparameter(name: row.name)
            XCTAssertEqual(row.constant, option?.constantName, "key \(row.code)")
            XCTAssertEqual(option.flatMap { values[$0] }, record.value, "the value after key \(row.code) is \(row.name)'s")
        }
    }

    /// The (key, value) records of a model without gradients (docs/format.md's layout).
    static func optionRecords(_ bytes: [UInt8], layers: Int, parameters: Int) -> [(key: UInt32, value: Double)] {
        func u32(_ offset: Int) -> UInt32 { (0 ..< 4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
        func u64(_ offset: Int) -> UInt64 { (0 ..< 8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) } }
        let optimizer = 20 + 8 * layers + 4 * (layers - 1) + 4 + 8 + 4 * parameters
        let count = Int(u32(optimizer + 4))
        guard bytes.count >= optimizer + 8 + 12 * count else { return [] }
        return (0 ..< count).map { index in
            let record = optimizer + 8 + 12 * index
            return (u32(record), Double(bitPattern: u64(record + 4)))
        }
    }
}
