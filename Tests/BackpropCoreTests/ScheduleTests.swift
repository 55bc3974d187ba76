import XCTest
import BackpropCore

/// Learning-rate schedules: each schedule's rate epoch by epoch against its formula written
/// here, fit and stepping by hand agreeing, the plateau rule, state across model files, and
/// the options' ranges.
final class ScheduleTests: XCTestCase {
    static let x: [Float] = (0 ..< 24).map { Float($0 % 7) / 7 - 0.4 }
    static let y: [Float] = (0 ..< 12).map { Float($0 % 2) }

    /// CRC-32 (IEEE 802.3, zlib's), bit by bit: the reference, not the library's table.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func decode(_ bytes: [UInt8]) throws -> Network {
        try bytes.withUnsafeBytes { (raw) throws(BackpropError) in try Network.decode(raw) }
    }

    func network(_ configure: (inout TrainingOptions) -> Void) throws -> Network {
        let network = try Network(layerSizes: [2, 4, 1], activations: [.tanh, .sigmoid], loss: .meanSquaredError, seed: 3)
        var options = network.trainingOptions
        configure(&options)
        try network.setTrainingOptions(options)
        return network
    }

    /// The rates fit reports for `epochs` epochs at base rate 0.1 on 12 samples.
    func fittedRates(_ network: Network, epochs: Int) throws -> [Float] {
        var options = FitOptions()
        options.epochs = epochs
        options.batchSize = 5
        options.learningRate = 0.1
        options.shuffle = false  // so that two fits visit the samples as one longer fit does
        var rates: [Float] = []
        try Self.x.withUnsafeBufferPointer { x in
            try Self.y.withUnsafeBufferPointer { y in
                try network.fit(DataSet(inputs: x, targets: y, count: 12), options: options) { report in
                    rates.append(report.learningRate)
                    return true
                }
            }
        }
        return rates
    }

    func testEachScheduleFollowsItsFormula() throws {
        let eta0 = Double(Float(0.1))  // the rate as fit receives it
        let cases: [(String, (inout TrainingOptions) -> Void, (Int) -> Double)] = [
            ("constant", { _ in }, { _ in eta0 }),
            ("step", { $0.schedule = .step; $0.gamma = 0.5; $0.stepEpochs = 3 },
             { e in eta0 * pow(0.5, Double(e / 3)) }),
            ("exponential", { $0.schedule = .exponential; $0.gamma = 0.9 }, { e in eta0 * pow(0.9, Double(e)) }),
            ("cosine", { $0.schedule = .cosine; $0.warmupEpochs = 2; $0.cycleEpochs = 8; $0.minLearningRate = 0.01 },
             { e in
                 if e < 2 { return eta0 * Double(e + 1) / 2 }
                 if e >= 8 { return 0.01 }
                 return 0.01 + (eta0 - 0.01) * (1 + cos(Double.pi * Double(e - 2) / 6)) / 2
             }),
            ("invscaling", { $0.schedule = .invscaling; $0.powerT = 0.5 }, { e in eta0 / pow(Double(12 * e) + 1, 0.5) }),
        ]
        for (name, configure, formula) in cases {
            let rates = try fittedRates(try network(configure), epochs: 10)
            XCTAssertEqual(rates, (0 ..< 10).map { Float(formula($0)) }, name)
        }
    }

    func testCosineWithoutACycleSpansTheFit() throws {
        let rates = try fittedRates(try network { $0.schedule = .cosine }, epochs: 5)
        XCTAssertEqual(rates, (0 ..< 5).map { Float(Double(Float(0.1)) * (1 + cos(Double.pi * Double($0) / 5)) / 2) })
        XCTAssertThrowsError(try network { $0.schedule = .cosine }.scheduledLearningRate(base: 0.1)) { error in
            XCTAssertEqual((error as? BackpropError)?.kind, .invalidArgument)
        }
    }

    func testPlateauReducesAfterMoreThanPatienceEpochsWithoutImprovement() throws {
        let net = try network {
            $0.schedule = .plateau; $0.plateauFactor = 0.5; $0.plateauPatience = 1; $0.plateauThreshold = 0.1
            $0.minLearningRate = 0.02
        }
        // best 1.0; 0.95 is not 0.1 better; two such epochs (more than patience 1) halve m.
        let losses: [Float] = [1.0, 0.95, 0.95, 0.5, .nan, 0.45, 0.44, 0.43, 0.42, 0.41]
        var rates: [Float] = []
        for loss in losses {
            rates.append(try net.scheduledLearningRate(base: 0.1))
            try net.endEpoch(samples: 12, monitoredLoss: loss)
        }
        rates.append(try net.scheduledLearningRate(base: 0.1))
        // m: 1, 1, 1, 0.5 (after 2 bad), 0.5 (0.5 improves), 0.5, 0.25 (NaN, 0.45), 0.25, 0.125→ floor 0.02...
        let want: [Float] = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]
        XCTAssertEqual(rates, want)
        XCTAssertEqual(net.scheduleState.epochs, losses.count)
    }

    func testFitAndSteppingByHandAgree() throws {
        let configure: (inout TrainingOptions) -> Void = { $0.schedule = .step; $0.gamma = 0.5; $0.stepEpochs = 2 }
        let fitted = try fittedRates(try network(configure), epochs: 6)
        let byHand = try network(configure)
        var rates: [Float] = []
        for _ in 0 ..< 6 {
            rates.append(try byHand.scheduledLearningRate(base: 0.1))
            try byHand.endEpoch(samples: 12, monitoredLoss: 1)
        }
        XCTAssertEqual(rates, fitted)
    }

    func testTrainingResumesOnScheduleFromAModelFile() throws {
        let configure: (inout TrainingOptions) -> Void = {
            $0.optimizer = .adam; $0.schedule = .cosine; $0.warmupEpochs = 1; $0.cycleEpochs = 7
        }
        let straight = try network(configure)
        let straightRates = try fittedRates(straight, epochs: 6)
        let first = try network(configure)
        var rates = try fittedRates(first, epochs: 3)
        let bytes = first.encoded()
        XCTAssertEqual(bytes[8], 2, "a model with a schedule is written as version 2")
        let resumed = try decode(bytes)
        XCTAssertEqual(resumed.scheduleState, first.scheduleState)
        XCTAssertEqual(resumed.trainingOptions, first.trainingOptions)
        rates += try fittedRates(resumed, epochs: 3)
        XCTAssertEqual(rates, straightRates)
        XCTAssertEqual(resumed.parameterArray(), straight.parameterArray())
    }

    func testTheFirstVersionIsKeptWithoutASchedule() throws {
        let plain = try network { $0.optimizer = .momentum }
        _ = try fittedRates(plain, epochs: 2)
        XCTAssertEqual(plain.encoded()[8], 1)
        let tuned = try network { $0.gamma = 0.5 }  // a schedule option, on the constant schedule
        XCTAssertEqual(tuned.encoded()[8], 2)
        XCTAssertEqual(try decode(tuned.encoded()).trainingOptions.gamma, 0.5)
    }

    func testChoosingAScheduleStartsItAndChangingAnOptionKeepsIt() throws {
        let net = try network { $0.schedule = .exponential; $0.gamma = 0.5 }
        for _ in 0 ..< 3 { try net.endEpoch(samples: 4, monitoredLoss: 1) }
        var options = net.trainingOptions
        options.gamma = 0.25
        try net.setTrainingOptions(options)
        XCTAssertEqual(try net.scheduledLearningRate(base: 1), Float(pow(0.25, 3.0)))
        options.schedule = .step
        try net.setTrainingOptions(options)
        XCTAssertEqual(net.scheduleState, ScheduleState())
        try net.initialize(.pytorch, seed: 1)
        XCTAssertEqual(net.scheduleState, ScheduleState())
    }

    func testOptionRangesAreChecked() throws {
        let refused: [(TrainingOptions.Hyperparameter, Double)] = [
            (.gamma, 0), (.gamma, 1.5), (.stepEpochs, 0), (.stepEpochs, 2.5), (.stepEpochs, 2e6),
            (.warmupEpochs, -1), (.cycleEpochs, 0.5), (.powerT, -0.1), (.plateauFactor, 1), (.plateauFactor, 0),
            (.plateauPatience, 1.5), (.plateauThreshold, -1), (.minLearningRate, -1),
        ]
        let net = try network { _ in }
        for (option, value) in refused {
            var options = TrainingOptions()
            options[option] = value
            XCTAssertThrowsError(try net.setTrainingOptions(options), "\(option.name) = \(value)")
            XCTAssertEqual(net.trainingOptions, TrainingOptions(), "a refused value changes nothing")
        }
        var options = TrainingOptions()
        options.cycleEpochs = 5
        options.warmupEpochs = 5
        XCTAssertThrowsError(try net.setTrainingOptions(options), "a warm-up as long as the cycle")
        options.warmupEpochs = 4
        XCTAssertNoThrow(try net.setTrainingOptions(options))
    }

    func testSectionsAreCheckedOnLoading() throws {
        let net = try network { $0.schedule = .plateau }
        try net.endEpoch(samples: 3, monitoredLoss: 2)
        let bytes = net.encoded()
        let section = bytes.count - 4 - 40 - 8  // the schedule section's tag: docs/format.md
        // The first option record's key: after the header, 3 sizes, 2 activations, the
        // gradient state, P and the parameters, then the optimizer code and option count.
        let firstOption = 20 + 8 * 3 + 4 * 2 + 4 + 8 + 4 * net.parameterCount + 8
        func damaged(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var copy = bytes
            change(&copy)
            let crc = Self.crc32(copy.dropLast(4))
            for k in 0 ..< 4 { copy[copy.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
            return copy
        }
        let cases: [(String, [UInt8], BackpropError.Kind)] = [
            ("unknown tag", damaged { $0[section] = 9 }, .unsupportedVersion),
            ("wrong length", damaged { $0[section + 4] = 39 }, .corruptModel),
            ("unknown schedule", damaged { $0[section + 8] = 6 }, .corruptModel),
            ("state of a constant schedule", damaged { $0[section + 8] = 0 }, .corruptModel),
            ("no sections", damaged { $0[section - 4] = 0 }, .corruptModel),
            // An option key after the ones this library knows: a newer library's.
            ("a newer option", damaged { $0[firstOption] = 30 }, .unsupportedVersion),
            ("an impossible option", damaged { $0[firstOption + 1] = 1 }, .corruptModel),  // key 256
            ("an option twice", damaged { $0[firstOption] = 1 }, .corruptModel),
        ]
        // The same newer-looking fields with the checksum left as it was: a damaged file.
        var flippedTag = bytes, flippedKey = bytes
        flippedTag[section] = 9
        flippedKey[firstOption] = 30
        for (name, data) in [("a flipped tag", flippedTag), ("a flipped key", flippedKey)] {
            XCTAssertThrowsError(try decode(data), name) { error in
                XCTAssertEqual((error as? BackpropError)?.kind, .checksumMismatch, name)
            }
        }
        XCTAssertNoThrow(try decode(bytes))
        for (name, data, kind) in cases {
            XCTAssertThrowsError(try decode(data), name) { error in
                XCTAssertEqual((error as? BackpropError)?.kind, kind, name)
            }
        }
    }

    func testCountsSaturateInsteadOfOverflowing() throws {
        let net = try network { $0.schedule = .invscaling }
        try net.endEpoch(samples: Int.max, monitoredLoss: 1)
        try net.endEpoch(samples: Int.max, monitoredLoss: 1)
        XCTAssertEqual(net.scheduleState.samples, ScheduleState.countLimit)
        XCTAssertEqual(net.scheduleState.epochs, 2)
        XCTAssertEqual(try decode(net.encoded()).scheduleState, net.scheduleState, "a saturated count is a valid file")
    }

    /// A file of the library before the counts saturated may hold any count up to Int.max:
    /// it still loads, with the count capped.
    func testCountsBeyondTheLimitFromEarlierFilesLoadCapped() throws {
        let net = try network { $0.schedule = .invscaling }
        try net.endEpoch(samples: 3, monitoredLoss: 1)
        var bytes = net.encoded()
        let samples = bytes.count - 4 - 40 + 4 + 8  // the schedule payload's samples field: docs/format.md
        for k in 0 ..< 8 { bytes[samples + k] = UInt8(truncatingIfNeeded: UInt64(Int.max) >> (8 * UInt64(k))) }
        let crc = Self.crc32(bytes.dropLast(4))
        for k in 0 ..< 4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        XCTAssertEqual(try decode(bytes).scheduleState.samples, ScheduleState.countLimit)
    }

    func testThePlateauMultiplierStaysPositiveThroughEveryReduction() throws {
        let net = try network { $0.schedule = .plateau; $0.plateauFactor = 0.01; $0.plateauPatience = 0 }
        // 0.01^n underflows a Double after about 162 reductions; 400 epochs make 399.
        for _ in 0 ..< 400 { try net.endEpoch(samples: 1, monitoredLoss: 1) }
        XCTAssertEqual(net.scheduleState.multiplier, ScheduleState.multiplierFloor)
        XCTAssertEqual(try net.scheduledLearningRate(base: 0.1), 0)
        XCTAssertEqual(try decode(net.encoded()).scheduleState, net.scheduleState, "it still saves and loads")
    }

    func testACosineCycleFromFitsEpochsMustOutlastTheWarmUp() throws {
        let net = try network { $0.schedule = .cosine; $0.warmupEpochs = 3 }
        XCTAssertThrowsError(try fittedRates(net, epochs: 3)) { error in
            XCTAssertEqual((error as? BackpropError)?.kind, .invalidArgument)
        }
        XCTAssertEqual(net.scheduleState, ScheduleState(), "a refused fit changes nothing")
        XCTAssertEqual(try fittedRates(net, epochs: 4).count, 4)
    }
}
