/// The binary model format, versions 1 and 2; docs/format.md is its specification. All
/// integers and floats are little-endian whatever the host, and a CRC-32 of every
/// preceding byte closes the file:
///
///     magic "\x89BPM\r\n\x1a\n" · u32 version · u32 loss · u32 N · N × u64 layer size
///     · (N−1) × u32 activation · u32 gradient state · u64 P · P × f32 parameters
///     · [P × f32 gradients, when the state is not 0]
///     · u32 optimizer · u32 K · K × (u32 key, f64 value) · u64 step · u32 S · S × P × f32
///     · [version 2: u32 section count · sections, each u32 tag · u32 length · payload]
///     · u32 CRC-32
///
/// Version 2 adds the learning-rate schedule's options to the option table, and sections
/// for its state, the input and target scalings and dropout; a model that uses none of it is written as version
/// 1, byte for byte as before, so older libraries still read it. Decoding bounds every count by the bytes
/// actually present before using it.
enum ModelFormat {
    static let magic: [UInt8] = [0x89, 0x42, 0x50, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The newest version, the one this library reads besides the first.
    static let latestVersion: UInt32 = 2

    /// The oldest version that holds everything `network` has: version 1 unless it has a
    /// schedule, scalings, dropout, or options that version 1 has no key for. (Codes are not versions: a
    /// reader refuses an activation or loss code it does not know, whatever the version.)
    static func version(for network: Network) -> UInt32 {
        let options = network.trainingOptions
        let firstKeys = optionKeys(1).map(\.option)
        let onlyFirst = options.schedule == .constant && network.scheduleState == ScheduleState()
            && network.inputScaling == nil && network.targetScaling == nil && network.dropout == nil
            && TrainingOptions.Hyperparameter.allCases.allSatisfy { firstKeys.contains($0) || options[$0] == $0.defaultValue }
        return onlyFirst ? 1 : 2
    }

    /// The exact number of bytes `encode` writes for `network`.
    static func encodedSize(of network: Network) -> Int {
        let layers = network.layerSizes.count, version = version(for: network)
        let floats = network.gradientState == .none ? network.parameterCount : 2 * network.parameterCount
        let optimizer = 4 + 4 + 12 * writtenKeys(version, network.trainingOptions).count + 8 + 4
            + 4 * network.optimizerState.arrays.count * network.parameterCount
        let sections = version == 1 ? 0 : sectionBytes(of: network)
        return magic.count + 4 + 4 + 4 + 8 * layers + 4 * (layers - 1) + 4 + 8 + 4 * floats + optimizer + sections + 4
    }

    /// Writes the model into `buffer`, which holds exactly `encodedSize(of: network)` bytes.
    static func encode(_ network: Network, into buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var writer = ByteWriter(base: base)
        let version = version(for: network)
        writer.bytes(magic)
        writer.u32(version)
        writer.u32(UInt32(network.loss.rawValue))
        writer.u32(UInt32(network.layerSizes.count))
        network.layerSizes.forEach { writer.u64(UInt64($0)) }
        network.activations.forEach { writer.u32(UInt32($0.rawValue)) }
        writer.u32(code(of: network.gradientState))
        writer.u64(UInt64(network.parameterCount))
        writer.floats(network.parameters, count: network.parameterCount)
        if network.gradientState != .none {
            writer.floats(network.gradients, count: network.parameterCount)
        }
        let options = network.trainingOptions
        let state = network.optimizerState
        writer.u32(UInt32(options.optimizer.rawValue))
        let keys = writtenKeys(version, options)
        writer.u32(UInt32(keys.count))
        for (key, hyperparameter) in keys {
            writer.u32(key)
            writer.u64(options[hyperparameter].bitPattern)
        }
        writer.u64(UInt64(state.step))
        writer.u32(UInt32(state.arrays.count))
        for array in state.arrays {
            writer.floats(array, count: network.parameterCount)
        }
        if version >= 2 { writeSections(of: network, to: &writer) }
        writer.u32(CRC32.checksum(UnsafeRawBufferPointer(start: base, count: writer.offset)))
    }

    /// A network from a model's bytes, or the first thing wrong with them.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(BackpropError) -> Network {
        var reader = ByteReader(bytes: bytes)
        try reader.expectMagic(magic)
        let version = try reader.u32()
        guard (1 ... latestVersion).contains(version) else {
            throw BackpropError(.unsupportedVersion,
                "the model file has format version \(version); this library reads versions 1 to \(latestVersion)")
        }
        let lossCode = try reader.u32()
        let layerCount = Int(try reader.u32())
        guard (2 ... Network.maxLayerCount).contains(layerCount) else {
            throw corrupt("the layer count is \(layerCount); expected 2 to \(Network.maxLayerCount)")
        }
        var sizes: [Int] = []
        for index in 0 ..< layerCount {
            let size = try reader.u64()
            guard (1 ... UInt64(Network.maxLayerSize)).contains(size) else {
                throw corrupt("layer \(index) has \(size) units; expected 1 to \(Network.maxLayerSize)")
            }
            sizes.append(Int(size))
        }
        var activationCodes: [UInt32] = []
        for _ in 1 ..< layerCount { activationCodes.append(try reader.u32()) }
        let stateCode = try reader.u32()
        guard let state = gradientState(code: stateCode) else {
            throw corrupt("the gradient state is \(stateCode); expected 0 to 3")
        }
        let parameterCount = try reader.u64()
        let expectedCount = zip(sizes.dropFirst(), sizes).reduce(0) { $0 + $1.0 * $1.1 + $1.0 }
        guard parameterCount == UInt64(expectedCount) else {
            throw corrupt("the file holds \(parameterCount) parameters; these layer sizes have \(expectedCount)")
        }
        let floatCount = state == .none ? expectedCount : 2 * expectedCount
        try reader.expectRemaining(4 * floatCount)
        let parameters = reader.offset
        let gradients = parameters + 4 * expectedCount
        reader.offset += 4 * floatCount
        var (options, step, stateArrays) = try readOptimizer(&reader, version: version, parameterCount: expectedCount)
        let sections = version >= 2
            ? try readSections(&reader, into: &options, inputWidth: sizes[0], outputWidth: sizes[sizes.count - 1],
                               hiddenLayers: sizes.count - 2)
            : Sections(schedule: ScheduleState())
        try reader.verifyChecksum(at: reader.offset)

        let network = try architecture(sizes: sizes, activationCodes: activationCodes, lossCode: lossCode)
        reader.copyFloats(at: parameters, count: expectedCount, into: network.parameters)
        if state != .none {
            reader.copyFloats(at: gradients, count: expectedCount, into: network.gradients)
        }
        guard VectorKernels.allFinite(network.parameters, count: expectedCount) else {
            throw corrupt("the parameters include NaN or infinite values")
        }
        network.restore(gradientState: state)
        let optimizerState = try OptimizerState(for: options, count: expectedCount)
        optimizerState.step = step
        for (array, start) in zip(optimizerState.arrays, stateArrays) {
            reader.copyFloats(at: start, count: expectedCount, into: array)
        }
        guard optimizerState.isPlausible() else {
            throw corrupt("the \(options.optimizer) optimizer's state holds impossible values")
        }
        network.restore(options: options, state: optimizerState, schedule: sections.schedule)
        network.inputScaling = sections.inputScaling
        network.dropout = sections.dropout
        do {
            try network.setTargetScaling(sections.targetScaling)  // a classifier's is impossible
        } catch {
            throw corrupt(error.message)
        }
        return network
    }

    /// The optimizer section: its options, Adam's step count and the offsets of its state
    /// arrays, whose number must be what the optimizer keeps.
    private static func readOptimizer(_ reader: inout ByteReader, version: UInt32, parameterCount: Int)
        throws(BackpropError) -> (TrainingOptions, Int, [Int])
    {
        var options = TrainingOptions()
        let optimizerCode = try reader.u32()
        guard let optimizer = Optimizer(code: optimizerCode) else {
            throw corrupt("the optimizer code is \(optimizerCode); expected one of \(codeList(Optimizer.self))")
        }
        options.optimizer = optimizer
        let keys = optionKeys(version)
        let keyCount = try reader.u32()
        // Version 2 may gain keys (numbered after these): a count past them is checked key by key.
        guard keyCount <= UInt32(version == 1 ? keys.count : maxOptionCount) else {
            throw corrupt("the file lists \(keyCount) options; version \(version) knows \(keys.count)")
        }
        var seen = Set<UInt32>()
        for _ in 0 ..< keyCount {
            let key = try reader.u32()
            let value = Double(bitPattern: try reader.u64())
            guard let option = keys.first(where: { $0.key == key })?.option else {
                if version >= 2 && key >= UInt32(keys.count) && key < UInt32(maxOptionCount) {
                    throw reader.newerField(
                        "the model file has option \(key), which this library does not know (a newer version wrote it)")
                }
                throw corrupt("unknown option \(key) for version \(version)")
            }
            guard seen.insert(key).inserted else { throw corrupt("option \(key) is listed twice") }
            options[option] = value
        }
        try validated(options)
        let step = try reader.u64()
        guard step <= UInt64(Int.max) else { throw corrupt("the optimizer step count \(step) is impossible") }
        // A step count with no optimizer to use it is impossible too.
        guard step == 0 || options.optimizer.properties.countsSteps else {
            throw corrupt("a \(options.optimizer) optimizer has a step count of \(step)")
        }
        let arrayCount = Int(try reader.u32())
        let expectedArrays = options.optimizer.properties.stateSlots.count
        guard arrayCount == expectedArrays else {
            throw corrupt("the optimizer keeps \(expectedArrays) state arrays but the file has \(arrayCount)")
        }
        var starts: [Int] = []
        for _ in 0 ..< arrayCount {
            try reader.expectRemaining(4 * parameterCount)
            starts.append(reader.offset)
            reader.offset += 4 * parameterCount
        }
        return (options, Int(step), starts)
    }

    /// The network the header describes; an architecture the library refuses means the
    /// file was not written by it.
    private static func architecture(sizes: [Int], activationCodes: [UInt32], lossCode: UInt32) throws(BackpropError)
        -> Network
    {
        let activations = try activationCodes.enumerated().map { (element) throws(BackpropError) in try activation(element) }
        do {
            return try Network(layerSizes: sizes, activations: activations, loss: loss(code: lossCode), seed: 0)
        } catch where error.kind == .invalidArchitecture {
            throw corrupt(error.message)
        }
    }

    /// The options' ranges, as a corrupt file's fault.
    static func validated(_ options: TrainingOptions) throws(BackpropError) {
        do {
            try options.validate()
        } catch {
            throw corrupt(error.message)
        }
    }

    static func corrupt(_ message: String) -> BackpropError {
        BackpropError(.corruptModel, "the model file is corrupt: \(message)")
    }

    // MARK: Codes

    /// The activation, loss, optimizer and schedule codes are the C API's (`BP_*`, the
    /// enums' raw values), fixed by the header. The option keys are the format's own,
    /// fixed by each version (docs/format.md), and written in this order: version 1 has
    /// the optimizers' eleven, version 2 adds the schedules' nine and the Huber loss's δ.
    static let optionKeys: [(key: UInt32, option: TrainingOptions.Hyperparameter)] = [
        (0, .momentum), (1, .beta1), (2, .beta2), (3, .epsilon), (4, .weightDecay), (5, .clipNorm),
        (6, .rpropIncrease), (7, .rpropDecrease), (8, .rpropMinStep), (9, .rpropMaxStep), (10, .rpropInitialStep),
        (11, .gamma), (12, .stepEpochs), (13, .warmupEpochs), (14, .cycleEpochs), (15, .minLearningRate),
        (16, .powerT), (17, .plateauFactor), (18, .plateauPatience), (19, .plateauThreshold), (20, .huberDelta),
    ]

    /// The most options a version 2 file may list, known to this library or added later.
    static let maxOptionCount = 256

    /// The keys a file of `version` holds: version 1's eleven; version 2's first twenty,
    /// and the keys added to it since only when their values differ from the defaults, so
    /// that a model written before a key existed is written again byte for byte.
    static func writtenKeys(_ version: UInt32, _ options: TrainingOptions)
        -> [(key: UInt32, option: TrainingOptions.Hyperparameter)]
    {
        let keys = optionKeys(version)
        let always = version == 1 ? 11 : 20
        return Array(keys.prefix(always)) + keys.dropFirst(always).filter { options[$0.option] != $0.option.defaultValue }
    }

    /// The keys a file of `version` may hold.
    static func optionKeys(_ version: UInt32) -> ArraySlice<(key: UInt32, option: TrainingOptions.Hyperparameter)> {
        optionKeys.prefix(version == 1 ? 11 : optionKeys.count)
    }

    private static func code(of state: Network.GradientState) -> UInt32 {
        switch state {
        case .none: return 0
        case .pending: return 1
        case .applied: return 2
        case .diverged: return 3
        }
    }

    private static func gradientState(code: UInt32) -> Network.GradientState? {
        switch code {
        case 0: return Network.GradientState.none
        case 1: return .pending
        case 2: return .applied
        case 3: return .diverged
        default: return nil
        }
    }

    /// "0, 1, 2", the codes a field of this kind may hold.
    static func codeList<Code: PublicCode>(_: Code.Type) -> String {
        Code.allCases.map { "\($0.rawValue)" }.joined(separator: ", ")
    }

    private static func activation(_ element: (offset: Int, element: UInt32)) throws(BackpropError) -> Activation {
        guard let activation = Activation(code: element.element) else {
            throw corrupt("layer \(element.offset + 1) has activation code \(element.element); expected one of \(codeList(Activation.self))")
        }
        return activation
    }

    private static func loss(code: UInt32) throws(BackpropError) -> Loss {
        guard let loss = Loss(code: code) else {
            throw corrupt("the loss code is \(code); expected one of \(codeList(Loss.self))")
        }
        return loss
    }
}

extension PublicCode {
    /// The case whose code is `code`, as a model file stores it (a u32).
    init?(code: UInt32) {
        guard let value = Int32(exactly: code), let match = Self(rawValue: value) else { return nil }
        self = match
    }
}
