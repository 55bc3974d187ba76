/// Version 2's sections, after the optimizer's state: `u32 count`, then for each a
/// `u32 tag`, a `u32 length` and `length` bytes. A tag names what the payload holds, for
/// ever; a tag this library does not know was written by a newer one, so the file is
/// refused as an unsupported version rather than read in part.
extension ModelFormat {
    /// Reads the sections into `options` (the schedule) and returns the schedule's state.
    static func readSections(_ reader: inout ByteReader, into options: inout TrainingOptions)
        throws(BackpropError) -> ScheduleState
    {
        var schedule: ScheduleState?
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
            default:
                throw BackpropError(.unsupportedVersion,
                    "the model file has a section with tag \(tag), which this library does not know (a newer version wrote it)")
            }
        }
        guard let schedule else { throw corrupt("a version 2 file without its schedule section") }
        return schedule
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
