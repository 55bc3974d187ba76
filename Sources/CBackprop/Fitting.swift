import BackpropCore
import CBackpropABI
import CPUFeatures

/// The sizes bp_fit_options has had: the first, up to user_data; the second, with the
/// sample weights; the current one, with the data-parallel hooks. A caller's struct_size
/// says which it was built with.
private let firstOptionsSize = MemoryLayout<bp_fit_options>.offset(of: \bp_fit_options.sample_weights) ?? 0
private let weightedOptionsSize = MemoryLayout<bp_fit_options>.offset(of: \bp_fit_options.gradient_hook) ?? 0
private let optionsSizes = [firstOptionsSize, weightedOptionsSize, MemoryLayout<bp_fit_options>.size]

/// The defaults, with struct_size set to `size`, one of `optionsSizes`.
private func defaultOptions(size: Int) -> bp_fit_options {
    let defaults = FitOptions()
    return bp_fit_options(
        struct_size: size, epochs: defaults.epochs, batch_size: defaults.batchSize,
        learning_rate: defaults.learningRate, shuffle: defaults.shuffle ? 1 : 0, seed: defaults.seed,
        validation_inputs: nil, validation_targets: nil, validation_count: 0,
        patience: defaults.patience, min_delta: defaults.minDelta, restore_best: defaults.restoreBest ? 1 : 0,
        target_loss: 0, progress: nil, user_data: nil, sample_weights: nil, validation_weights: nil,
        gradient_hook: nil, reduce_hook: nil)
}

/// Writes the first `size` bytes of the defaults: never more than the caller's struct holds.
private func writeDefaults(_ options: UnsafeMutablePointer<bp_fit_options>, size: Int) {
    var defaults = defaultOptions(size: size)
    withUnsafePointer(to: &defaults) { UnsafeMutableRawPointer(options).copyMemory(from: $0, byteCount: size) }
}

/// The symbol that programs built before the struct grew call: it fills the first layout
/// only, the one their struct has. The header maps bp_fit_options_init() to the sized call.
@_cdecl("bp_fit_options_init")
public func bp_fit_options_init(_ options: UnsafeMutablePointer<bp_fit_options>?) {
    guard let options, bp_cpu_refusal() == nil else { return }
    writeDefaults(options, size: firstOptionsSize)
}

/// Fills the largest layout that `size` holds: a newer header's larger struct gets the
/// fields this library knows, and a size between two layouts the smaller one.
@_cdecl("bp_fit_options_init_sized")
public func bp_fit_options_init_sized(_ options: UnsafeMutablePointer<bp_fit_options>?, _ size: Int) {
    guard let options, bp_cpu_refusal() == nil, let layout = optionsSizes.last(where: { $0 <= size }) else { return }
    writeDefaults(options, size: layout)
}

@_cdecl("bp_fit")
public func bp_fit(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?, _ count: Int,
    _ options: UnsafePointer<bp_fit_options>?, _ history: UnsafeMutablePointer<bp_epoch_report>?,
    _ historyCapacity: Int, _ epochsRun: UnsafeMutablePointer<Int>?
) -> bp_status {
    entryPoint { callerMode in
        epochsRun?.pointee = 0
        // The handle's check is kept for after the options are read: with their reduce
        // hook, a bad handle is announced to the other processes like any other refusal.
        let handle = Result { try Handle.network(net) }
        let c: bp_fit_options
        do {
            c = try callerOptions(try required(options, "options"))
        } catch {
            _ = try handle.get()  // a bad handle is reported first, as it always was
            throw error
        }
        let hooks = FitHooks(c, callerMode: callerMode)
        let collective = hooks.collective
        let network: Network, data: DataSet, validation: DataSet?, capacity: Int, settings: FitOptions
        do {
            network = try handle.get()
            try hooks.validate()
            data = try dataSet(network, inputs, targets, count, names: ("inputs", "targets", "count"),
                               weights: c.sample_weights)
            validation = c.validation_count == 0 ? nil : try dataSet(
                network, c.validation_inputs, c.validation_targets, c.validation_count,
                names: ("options->validation_inputs", "options->validation_targets", "options->validation_count"),
                weights: c.validation_weights)
            capacity = try size(historyCapacity, "history_capacity")
            settings = try fitOptions(c)
        } catch {
            collective?.announceFailure()  // so that the other processes refuse too
            throw error
        }
        // Reports are stored as epochs finish, so a run that ends in an error still
        // leaves the history of the epochs it completed.
        try hooks.passingTheirStatus {
            try network.fit(data, validation: validation, options: settings, collective: collective) { report in
                var copy = cReport(report)
                if let history, report.epoch <= capacity { history[report.epoch - 1] = copy }
                epochsRun?.pointee = report.epoch
                guard let callback = c.progress else { return true }
                return FloatingPointMode.asCaller(callerMode) { callback(&copy, c.user_data) } != 0
            }
        }
    }
}

/// The caller's options: struct_size first, which says how much of the struct the caller
/// has, and only that much is read; the fields after it keep their defaults.
private func callerOptions(_ pointer: UnsafePointer<bp_fit_options>) throws -> bp_fit_options {
    let structSize = UnsafeRawPointer(pointer).load(as: Int.self)
    guard optionsSizes.contains(structSize) else {
        let sizes = optionsSizes.map(String.init).joined(separator: ", ")
        throw Failure(BP_ERROR_INVALID_ARGUMENT,
            "options->struct_size is \(UInt(bitPattern: structSize)); expected one of \(sizes) (call bp_fit_options_init())")
    }
    var c = defaultOptions(size: structSize)
    withUnsafeMutablePointer(to: &c) { UnsafeMutableRawPointer($0).copyMemory(from: UnsafeRawPointer(pointer), byteCount: structSize) }
    return c
}

@_cdecl("bp_evaluate")
public func bp_evaluate(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?, _ count: Int,
    _ loss: UnsafeMutablePointer<Float>?, _ accuracy: UnsafeMutablePointer<Float>?
) -> bp_status {
    evaluate(net, inputs, targets, nil, count, loss, accuracy, weighted: false)
}

@_cdecl("bp_evaluate_weighted")
public func bp_evaluate_weighted(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?,
    _ weights: UnsafePointer<Float>?, _ count: Int, _ loss: UnsafeMutablePointer<Float>?,
    _ accuracy: UnsafeMutablePointer<Float>?
) -> bp_status {
    evaluate(net, inputs, targets, weights, count, loss, accuracy, weighted: true)
}

private func evaluate(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?,
    _ weights: UnsafePointer<Float>?, _ count: Int, _ loss: UnsafeMutablePointer<Float>?,
    _ accuracy: UnsafeMutablePointer<Float>?, weighted: Bool
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let w = weighted ? try required(weights, "weights") : nil
        let data = try dataSet(network, inputs, targets, count, names: ("inputs", "targets", "count"), weights: w)
        let result = try network.evaluate(data)
        loss?.pointee = result.loss
        accuracy?.pointee = result.accuracy
    }
}

private func dataSet(
    _ network: Network, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?, _ count: Int,
    names: (String, String, String), weights: UnsafePointer<Float>?
) throws -> DataSet {
    let x = try required(inputs, names.0)
    let y = try required(targets, names.1)
    let rows = try size(count, names.2)
    guard rows > 0 else {
        throw Failure(BP_ERROR_INVALID_ARGUMENT, "\(names.2) is 0; the data set needs at least one sample")
    }
    return DataSet(inputs: try network.inputRows(x, batch: rows), targets: try network.targetRows(y, batch: rows), count: rows,
                   weights: weights.map { UnsafeBufferPointer(start: $0, count: rows) })
}

private func fitOptions(_ c: bp_fit_options) throws -> FitOptions {
    var options = FitOptions()
    options.epochs = try size(c.epochs, "options->epochs")
    options.batchSize = try size(c.batch_size, "options->batch_size")
    options.learningRate = c.learning_rate
    options.shuffle = c.shuffle != 0
    options.seed = c.seed
    options.patience = try size(c.patience, "options->patience")
    options.minDelta = c.min_delta
    options.restoreBest = c.restore_best != 0
    // NaN is passed on, for the core to refuse as non-finite.
    options.targetLoss = c.target_loss > 0 || c.target_loss.isNaN ? c.target_loss : nil
    return options
}

private func cReport(_ report: EpochReport) -> bp_epoch_report {
    bp_epoch_report(epoch: report.epoch, train_loss: report.trainLoss, validation_loss: report.validationLoss,
                    validation_accuracy: report.validationAccuracy, learning_rate: report.learningRate)
}

@_cdecl("bp_scheduled_learning_rate")
public func bp_scheduled_learning_rate(
    _ net: OpaquePointer?, _ baseRate: Float, _ rate: UnsafeMutablePointer<Float>?
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let out = try required(rate, "rate")
        out.pointee = try network.scheduledLearningRate(base: baseRate)
    }
}

@_cdecl("bp_end_epoch")
public func bp_end_epoch(_ net: OpaquePointer?, _ samples: Int, _ monitoredLoss: Float) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        try network.endEpoch(samples: try size(samples, "samples"), monitoredLoss: monitoredLoss)
    }
}

@_cdecl("bp_evaluate_metrics")
public func bp_evaluate_metrics(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?,
    _ weights: UnsafePointer<Float>?, _ count: Int, _ metrics: UnsafeMutablePointer<bp_metrics>?,
    _ confusion: UnsafeMutablePointer<Double>?, _ confusionCount: Int
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let out = try required(metrics, "metrics")
        guard UnsafeRawPointer(out).load(as: Int.self) == MemoryLayout<bp_metrics>.size else {
            throw Failure(BP_ERROR_INVALID_ARGUMENT,
                "metrics->struct_size is \(UInt(bitPattern: UnsafeRawPointer(out).load(as: Int.self))); expected \(MemoryLayout<bp_metrics>.size) (set it to sizeof(bp_metrics))")
        }
        let cells = try confusion.map { _ throws(Failure) in try size(confusionCount, "confusion_count") }
        let data = try dataSet(network, inputs, targets, count, names: ("inputs", "targets", "count"), weights: weights)
        let result = try network.metrics(data)
        if let confusion, let cells {
            guard !result.confusion.isEmpty else {
                throw Failure(BP_ERROR_INVALID_ARGUMENT, "confusion is not NULL but the network is not a classifier")
            }
            guard cells == result.confusion.count else {
                throw Failure(BP_ERROR_SIZE_MISMATCH,
                    "confusion_count is \(cells); this classifier's matrix has \(result.classCount) × \(result.classCount) = \(result.confusion.count) cells")
            }
            for (index, value) in result.confusion.enumerated() { confusion[index] = value }
        }
        out.pointee = bp_metrics(
            struct_size: MemoryLayout<bp_metrics>.size, loss: result.loss, accuracy: result.accuracy,
            mean_absolute_error: result.meanAbsoluteError, root_mean_squared_error: result.rootMeanSquaredError,
            r2: result.r2)
    }
}
