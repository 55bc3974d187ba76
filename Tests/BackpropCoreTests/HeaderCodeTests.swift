import Foundation
import XCTest
import BackpropCore

/// The codes of include/backprop.h are written once, as the raw values of the core's enums
/// (`PublicCode`). This test parses every `#define BP_* <integer>` of the header and fails
/// on any drift: a case without its constant, a constant without its case, or a value
/// that differs.
final class HeaderCodeTests: XCTestCase {
    /// The header's integer constants, by name, in the order they appear.
    static let constants: [(name: String, value: Int32)] = {
        guard let text = headerText else { return [] }
        let pattern = try? NSRegularExpression(pattern: #"^#define\s+(BP_[A-Z0-9_]+)\s+(-?[0-9]+)\b"#, options: .anchorsMatchLines)
        let range = NSRange(text.startIndex..., in: text)
        return (pattern?.matches(in: text, range: range) ?? []).compactMap { match in
            guard let name = Range(match.range(at: 1), in: text), let value = Range(match.range(at: 2), in: text),
                  let number = Int32(text[value]) else { return nil }
            return (String(text[name]), number)
        }
    }()

    static let headerText: String? = {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../include/backprop.h").standardized
        return try? String(contentsOf: header, encoding: .utf8)
    }()

    /// The header's `#define BP_A BP_B` lines: B by A.
    static let aliases: [String: String] = {
        guard let text = headerText,
              let pattern = try? NSRegularExpression(pattern: #"^#define\s+(BP_[A-Z0-9_]+)\s+(BP_[A-Z0-9_]+)\s*$"#, options: .anchorsMatchLines)
        else { return [:] }
        var aliases: [String: String] = [:]
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let name = Range(match.range(at: 1), in: text), let target = Range(match.range(at: 2), in: text) else { continue }
            aliases[String(text[name])] = String(text[target])
        }
        return aliases
    }()

    /// The activation constants are the header's `BP_<NAME>` values listed between the
    /// banner of activation functions and the loss functions.
    static var activationConstants: [String: Int32] {
        var names: [String: Int32] = [:]
        let all = constants.map(\.name)
        guard let first = all.firstIndex(of: "BP_SIGMOID"), let loss = all.firstIndex(where: { $0.hasPrefix("BP_LOSS_") })
        else { return names }
        for (name, value) in constants[first ..< loss] { names[name] = value }
        return names
    }

    static func constants(prefixed prefix: String) -> [String: Int32] {
        Dictionary(constants.filter { $0.name.hasPrefix(prefix) }.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    func testTheHeaderParses() {
        XCTAssertGreaterThan(Self.constants.count, 40, "the header's #define BP_* lines")
    }

    func testActivationsMatchTheHeader() {
        check(Activation.self, against: Self.activationConstants)
    }

    func testLossesMatchTheHeader() {
        check(Loss.self, against: Self.constants(prefixed: "BP_LOSS_"))
    }

    func testOptimizersMatchTheHeader() {
        check(Optimizer.self, against: Self.constants(prefixed: "BP_OPTIMIZER_"))
    }

    func testSchedulesMatchTheHeader() {
        check(LearningRateSchedule.self, against: Self.constants(prefixed: "BP_SCHEDULE_"))
    }

    func testReductionsMatchTheHeader() {
        check(Collective.Operation.self, against: Self.constants(prefixed: "BP_REDUCE_"))
    }

    func testInitializationsMatchTheHeader() {
        check(Initialization.self, against: Self.constants(prefixed: "BP_INIT_"))
        XCTAssertEqual(Self.aliases["BP_INIT_RECOMMENDED"], Initialization.recommended.constantName,
                       "BP_INIT_RECOMMENDED in the header vs Initialization.recommended")
    }

    func testOptionKeysMatchTheHeader() {
        var options = Self.constants(prefixed: "BP_OPTION_")
        XCTAssertEqual(options.removeValue(forKey: "BP_OPTION_OPTIMIZER"), TrainingOptions.optimizerKey)
        XCTAssertEqual(options.removeValue(forKey: "BP_OPTION_SCHEDULE"), TrainingOptions.scheduleKey)
        check(TrainingOptions.Hyperparameter.self, against: options)
    }

    private func check<Code: PublicCode>(_: Code.Type, against header: [String: Int32], line: UInt = #line) {
        let swift = Dictionary(uniqueKeysWithValues: Code.allCases.map { ($0.constantName, $0.rawValue) })
        XCTAssertFalse(header.isEmpty, "the header has \(Code.kind) constants", line: line)
        for (name, value) in header {
            XCTAssertEqual(swift[name], value, "\(name) = \(value) in the header; the Swift \(Code.kind) has \(swift[name].map(String.init) ?? "no such case")", line: line)
        }
        for (name, value) in swift where header[name] == nil {
            XCTFail("\(name) (\(value)) of the Swift \(Code.kind) is not in the header", line: line)
        }
    }
}
