/// Version 2's sections, after the optimizer's state: `u32 count`, then for each a
/// `u32 tag`, a `u32 length` and `length` bytes. A tag names what the payload holds, for
/// ever; a tag this library does not know was written by a newer one, so the file is
/// refused as an unsupported version rather than read in part (or as damaged, if its
/// checksum fails).
extension ModelFormat {
    /// What a version 2 file's sections hold beside the options.
    struct Sections {
        var schedule: ScheduleState
        var inputScaling: FeatureScaling?
        var targetScaling: FeatureScaling?
        var dropout: Dropout?
    }

    /// Reads the sections into `options` (the schedule) and returns the rest.
    static func readSections(
        _ reader: inout ByteReader, into options: inout TrainingOptions, inputWidth: Int, outputWidth: Int,
        hiddenLayers: Int
    ) throws(BackpropError) -> Sections {
        var schedule: ScheduleState?
        var scalings: [UInt32: FeatureScaling] = [:]
        var dropout: Dropout?
        let count = try reader.u32()
        for _ in 0 ..< count {
            let tag = try reader.u32()
            let length = Int(try reader.u32())
            try reader.expectRemaining(length)
            switch tag {
            case ScheduleSection.tag:
                guard schedule == nil else { throw corrupt("the schedule section appears twice") }
                guard length == ScheduleSection.length else {
                    throw corrupt("the schedule section has \(length) bytes; expected \(ScheduleSection.length)")
                }
                schedule = try ScheduleSection.read(&reader, into: &options)
            case ScalingSection.inputTag, ScalingSection.targetTag:
                let width = tag == ScalingSection.inputTag ? inputWidth : outputWidth
                let what = tag == ScalingSection.inputTag ? "input" : "target"
                guard scalings[tag] == nil else { throw corrupt("the \(what) scaling section appears twice") }
                guard length == ScalingSection.length(width: width) else {
                    throw corrupt("the \(what) scaling section has \(length) bytes; \(width) \(what)s need \(ScalingSection.length(width: width))")
                }
                scalings[tag] = try ScalingSection.read(&reader, width: width, tag: tag)
            case DropoutSection.tag:
                guard dropout == nil else { throw corrupt("the dropout section appears twice") }
                guard length == DropoutSection.length(hiddenLayers: hiddenLayers) else {
                    throw corrupt("the dropout section has \(length) bytes; \(hiddenLayers) hidden layers need \(DropoutSection.length(hiddenLayers: hiddenLayers))")
                }
                dropout = try DropoutSection.read(&reader, hiddenLayers: hiddenLayers)
            default:
                throw reader.newerField(
                    "the model file has a section with tag \(tag), which this library does not know (a newer version wrote it)")
            }
        }
        guard let schedule else { throw corrupt("a version 2 file without its schedule section") }
        return Sections(schedule: schedule, inputScaling: scalings[ScalingSection.inputTag],
                        targetScaling: scalings[ScalingSection.targetTag], dropout: dropout)
    }

    /// The scalings a version 2 file of `network` holds, with their tags.
    private static func scalings(of network: Network) -> [(tag: UInt32, scaling: FeatureScaling)] {
        [(ScalingSection.inputTag, network.inputScaling), (ScalingSection.targetTag, network.targetScaling)]
            .compactMap { entry in entry.1.map { (entry.0, $0) } }
    }

    static func sectionBytes(of network: Network) -> Int {
        4 + 8 + ScheduleSection.length
            + scalings(of: network).reduce(0) { $0 + 8 + ScalingSection.length(width: $1.scaling.shift.count) }
            + (network.dropout.map { 8 + DropoutSection.length(hiddenLayers: $0.rates.count) } ?? 0)
    }

    static func writeSections(of network: Network, to writer: inout ByteWriter) {
        let scalings = scalings(of: network)
        writer.u32(UInt32(1 + scalings.count + (network.dropout == nil ? 0 : 1)))
        ScheduleSection.write(network.trainingOptions.schedule, network.scheduleState, to: &writer)
        for (tag, scaling) in scalings { ScalingSection.write(scaling, tag: tag, to: &writer) }
        if let dropout = network.dropout { DropoutSection.write(dropout, to: &writer) }
    }
}

/// Tags 2 and 3: the input scaling (a^0 = (x − shift) ⊙ scale, n_0 features) and the target
/// scaling (n_L features): `f32 × n shift · f32 × n scale`, all finite (target scales
/// nonzero); each present only when the model has it.
enum ScalingSection {
    static let inputTag: UInt32 = 2, targetTag: UInt32 = 3

    static func length(width: Int) -> Int { 8 * width }

    static func write(_ scaling: FeatureScaling, tag: UInt32, to writer: inout ByteWriter) {
        writer.u32(tag)
        writer.u32(UInt32(length(width: scaling.shift.count)))
        for values in [scaling.shift, scaling.scale] {
            values.withUnsafeBufferPointer { if let base = $0.baseAddress { writer.floats(base, count: $0.count) } }
        }
    }

    static func read(_ reader: inout ByteReader, width: Int, tag: UInt32) throws(BackpropError) -> FeatureScaling {
        var shift = [Float](repeating: 0, count: width), scale = [Float](repeating: 0, count: width)
        shift.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { reader.copyFloats(at: reader.offset, count: width, into: base) } }
        scale.withUnsafeMutableBufferPointer {
            if let base = $0.baseAddress { reader.copyFloats(at: reader.offset + 4 * width, count: width, into: base) }
        }
        reader.offset += length(width: width)
        if tag == targetTag, let index = scale.firstIndex(of: 0) {
            throw ModelFormat.corrupt("the target scale[\(index)] is 0")
        }
        do {
            return try FeatureScaling(shift: shift, scale: scale)
        } catch {
            throw ModelFormat.corrupt(error.message)
        }
    }
}

/// Tag 1: the learning-rate schedule and where it stands (its options are in the option
/// table): `u32 schedule · u64 epochs · u64 samples · f64 multiplier · f32 best loss ·
/// u64 epochs without improvement`.
enum ScheduleSection {
    static let tag: UInt32 = 1
    static let length = 4 + 8 + 8 + 8 + 4 + 8

    static func write(_ schedule: LearningRateSchedule, _ state: ScheduleState, to writer: inout ByteWriter) {
        writer.u32(tag)
        writer.u32(UInt32(length))
        writer.u32(UInt32(schedule.rawValue))
        writer.u64(UInt64(state.epochs))
        writer.u64(UInt64(state.samples))
        writer.u64(state.multiplier.bitPattern)
        writer.u32(state.bestLoss.bitPattern)
        writer.u64(UInt64(state.epochsWithoutImprovement))
    }

    static func read(_ reader: inout ByteReader, into options: inout TrainingOptions)
        throws(BackpropError) -> ScheduleState
    {
        let code = try reader.u32()
        guard let schedule = LearningRateSchedule(code: code) else {
            throw ModelFormat.corrupt(
                "the schedule code is \(code); expected one of \(ModelFormat.codeList(LearningRateSchedule.self))")
        }
        options.schedule = schedule
        try ModelFormat.validated(options)
        var state = ScheduleState()
        state.epochs = try count(&reader, "schedule epoch count")
        state.samples = try count(&reader, "schedule sample count")
        state.multiplier = Double(bitPattern: try reader.u64())
        state.bestLoss = Float(bitPattern: try reader.u32())
        state.epochsWithoutImprovement = try count(&reader, "count of epochs without improvement")
        state.saturateCounts()  // a library before the limit wrote any count up to Int.max
        guard state.isPlausible(), schedule != .constant || state == ScheduleState() else {
            throw ModelFormat.corrupt("the \(schedule.name) schedule's state holds impossible values")
        }
        return state
    }

    private static func count(_ reader: inout ByteReader, _ name: String) throws(BackpropError) -> Int {
        let value = try reader.u64()
        guard value <= UInt64(Int.max) else { throw ModelFormat.corrupt("the \(name) \(value) is impossible") }
        return Int(value)
    }
}

/// Tag 4: dropout (when the model has it): `u64 seed · u64 passes · f32 × (L−1) rates`,
/// each rate in [0, 1) and at least one above 0.
enum DropoutSection {
    static let tag: UInt32 = 4

    static func length(hiddenLayers: Int) -> Int { 16 + 4 * hiddenLayers }

    static func write(_ dropout: Dropout, to writer: inout ByteWriter) {
        writer.u32(tag)
        writer.u32(UInt32(length(hiddenLayers: dropout.rates.count)))
        writer.u64(dropout.seed)
        writer.u64(dropout.passes)
        for rate in dropout.rates { writer.u32(rate.bitPattern) }
    }

    static func read(_ reader: inout ByteReader, hiddenLayers: Int) throws(BackpropError) -> Dropout {
        let seed = try reader.u64(), passes = try reader.u64()
        var rates: [Float] = []
        for _ in 0 ..< hiddenLayers { rates.append(Float(bitPattern: try reader.u32())) }
        let read: Dropout?
        do {
            read = try Dropout(rates: rates, seed: seed)
        } catch {
            throw ModelFormat.corrupt(error.message)
        }
        guard var dropout = read else { throw ModelFormat.corrupt("the dropout section's rates are all 0") }
        dropout.passes = passes
        return dropout
    }
}
