import BackpropCore
import CBackpropABI

/// bp_fit_options' data-parallel hooks as the core's `Collective`: each runs in the
/// caller's floating-point mode, and the first non-OK status one returns stops training
/// and becomes bp_fit()'s status.
final class FitHooks {
    private let gradientHook: bp_gradient_hook?
    private let reduceHook: bp_reduce_hook?
    private let userData: UnsafeMutableRawPointer?
    private let callerMode: FloatingPointMode.Saved
    /// The status a hook returned, with bp_last_error()'s message for it, and the error
    /// the core was given for it.
    private var stop: (failure: Failure, raised: BackpropError)?

    init(_ options: bp_fit_options, callerMode: FloatingPointMode.Saved) {
        gradientHook = options.gradient_hook
        reduceHook = options.reduce_hook
        userData = options.user_data
        self.callerMode = callerMode
    }

    /// A reduce hook serves only the processes of a data-parallel fit, whose gradients a
    /// gradient hook reduces.
    func validate() throws {
        guard gradientHook != nil || reduceHook == nil else {
            throw Failure(BP_ERROR_INVALID_ARGUMENT,
                "options->reduce_hook is set without options->gradient_hook; a data-parallel fit needs both (or the gradient hook alone)")
        }
    }

    /// The hooks as the core calls them, nil without any. With a reduce hook alone there is
    /// one too, that `validate`'s refusal can reach the other processes.
    var collective: Collective? {
        guard gradientHook != nil || reduceHook != nil else { return nil }
        return Collective(reduceGradients: reduceGradients, reduce: reduceHook == nil ? nil : reduce)
    }

    /// Runs `body` (the fit), returning a hook's own status in place of the error the
    /// core raised for it. Only in its place: a process that failed on its own and then
    /// failed to tell the others returns its own error.
    func passingTheirStatus(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as BackpropError {
            if let stop, stop.raised == error { throw stop.failure }
            throw error
        }
    }

    private func reduceGradients(_ gradients: UnsafeMutableBufferPointer<Float>, _ batch: Collective.Batch)
        throws(BackpropError)
    {
        guard let gradientHook else { return }
        let status = FloatingPointMode.asCaller(callerMode) {
            gradientHook(gradients.baseAddress, gradients.count, batch.samples, batch.weight, batch.loss, userData)
        }
        try check(status, "options->gradient_hook")
    }

    private func reduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: Collective.Operation)
        throws(BackpropError)
    {
        guard let reduceHook else { return }
        let status = FloatingPointMode.asCaller(callerMode) {
            reduceHook(values.baseAddress, values.count, operation.rawValue, userData)
        }
        try check(status, "options->reduce_hook")
    }

    private func check(_ status: bp_status, _ hook: String) throws(BackpropError) {
        guard status != BP_OK else { return }
        let message = "\(hook) returned \(status) (\(bp_status_string(status).map { String(cString: $0) } ?? "unknown status")); training stopped"
        let raised = BackpropError(.state, message)  // replaced by `stop` in `passingTheirStatus`
        stop = (Failure(status, message), raised)
        throw raised
    }
}
