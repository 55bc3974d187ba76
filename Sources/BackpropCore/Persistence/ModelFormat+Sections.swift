/// Version 2's sections, after the optimizer's state: `u32 count`, then for each a
/// `u32 tag`, a `u32 length` and `length` bytes. A tag names what the payload holds, for
/// ever; a tag this library does not know was written by a newer one, so the file is
/// refused as an unsupported version rather than read in part.
extension ModelFormat {
    /// Reads the sections into `options` (the schedule); returns the schedule's state and
    /// the input scaling, if the file has one.
    static func readSections(_ reader: inout ByteReader, into options: inout TrainingOptions, inputWidth: Int)
        throws(BackpropError) -> (ScheduleState, InputScaling?)
    {
        var schedule: ScheduleState?
        var scaling: InputScaling?
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
            case InputScalingSection.tag:
                guard scaling == nil else { throw corrupt("the input scaling section appears twice") }
                guard length == InputScalingSection.length(width: inputWidth) else {
                    throw corrupt("the input scaling section has \(length) bytes; \(inputWidth) inputs need \(InputScalingSection.length(width: inputWidth))")
                }
                scaling = try InputScalingSection.read(&reader, width: inputWidth)
            default:
                throw BackpropError(.unsupportedVersion,
                    "the model file has a section with tag \(tag), which this library does not know (a newer version wrote it)")
            }
        }
        guard let schedule else { throw corrupt("a version 2 file without its schedule section") }
        return (schedule, scaling)
    }

    /// The sections a version 2 file of `network` holds.
    static func sectionCount(of network: Network) -> Int { network.inputScaling == nil ? 1 : 2 }

    static func sectionBytes(of network: Network) -> Int {
        4 + 8 + ScheduleSection.length + (network.inputScaling == nil ? 0 : 8 + InputScalingSection.length(width: network.inputSize))
    }

    static func writeSections(of network: Network, to writer: inout ByteWriter) {
        writer.u32(UInt32(sectionCount(of: network)))
        ScheduleSection.write(network.trainingOptions.schedule, network.scheduleState, to: &writer)
        if let scaling = network.inputScaling { InputScalingSection.write(scaling, to: &writer) }
    }
}

/// Tag 2: the input scaling, a^0 = (x − shift) ⊙ scale: `n_0 × f32 shift · n_0 × f32 scale`,
/// all finite; present only when the model has one.
enum InputScalingSection {
    static let tag: UInt32 = 2

    static func length(width: Int) -> Int { 8 * width }

    static func write(_ scaling: InputScaling, to writer: inout ByteWriter) {
        writer.u32(tag)
        writer.u32(UInt32(length(width: scaling.shift.count)))
        for values in [scaling.shift, scaling.scale] {
            values.withUnsafeBufferPointer { if let base = $0.baseAddress { writer.floats(base, count: $0.count) } }
        }
    }

    static func read(_ reader: inout ByteReader, width: Int) throws(BackpropError) -> InputScaling {
        var shift = [Float](repeating: 0, count: width), scale = [Float](repeating: 0, count: width)
        shift.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { reader.copyFloats(at: reader.offset, count: width, into: base) } }
        scale.withUnsafeMutableBufferPointer {
            if let base = $0.baseAddress { reader.copyFloats(at: reader.offset + 4 * width, count: width, into: base) }
        }
        reader.offset += length(width: width)
        do {
            return try InputScaling(shift: shift, scale: scale)
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
