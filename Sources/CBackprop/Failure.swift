import BackpropCore
import CBackpropABI
import CPUFeatures

/// A failed C call: the status it returns and the message bp_last_error() will show.
struct Failure: Error {
    let status: bp_status
    let message: String

    init(_ status: bp_status, _ message: String) {
        self.status = status
        self.message = message
    }

    init(_ error: BackpropError) {
        message = error.message
        switch error.kind {
        case .invalidArgument: status = BP_ERROR_INVALID_ARGUMENT
        case .invalidArchitecture: status = BP_ERROR_INVALID_ARCHITECTURE
        case .sizeMismatch: status = BP_ERROR_SIZE_MISMATCH
        case .sizeOverflow: status = BP_ERROR_SIZE_OVERFLOW
        case .nonFinite: status = BP_ERROR_NON_FINITE
        case .state: status = BP_ERROR_STATE
        case .outOfMemory: status = BP_ERROR_OUT_OF_MEMORY
        case .diverged: status = BP_ERROR_DIVERGED
        case .bufferTooSmall: status = BP_ERROR_BUFFER_TOO_SMALL
        case .io: status = BP_ERROR_IO
        case .notAModel: status = BP_ERROR_NOT_A_MODEL
        case .unsupportedVersion: status = BP_ERROR_UNSUPPORTED_VERSION
        case .truncated: status = BP_ERROR_TRUNCATED
        case .checksumMismatch: status = BP_ERROR_CHECKSUM_MISMATCH
        case .corruptModel: status = BP_ERROR_CORRUPT_MODEL
        case .unsupportedModel: status = BP_ERROR_UNSUPPORTED_MODEL
        case .peerFailed: status = BP_ERROR_PEER_FAILED
        }
    }
}

/// The body of every fallible entry point: BP_ERROR_UNSUPPORTED_CPU on a CPU below the
/// build's baseline (`CPUSupport`), else BP_OK when `body` returns, otherwise the
/// failure's status, with its message kept for bp_last_error(). It runs in the library's
/// floating-point mode (`FloatingPointMode`), and the caller's is restored either way.
func entryPoint(_ body: () throws -> Void) -> bp_status {
    entryPoint { (_: FloatingPointMode.Saved) in try body() }
}

/// `entryPoint` for a body that calls back into caller code, which it runs in the
/// caller's floating-point mode (`FloatingPointMode.asCaller` with the mode it is given).
func entryPoint(_ body: (FloatingPointMode.Saved) throws -> Void) -> bp_status {
    // Before any core code, which a baseline build compiles for more than this CPU may have.
    // (bp_last_error() then returns bp_cpu_refusal()'s message.)
    if bp_cpu_refusal() != nil { return BP_ERROR_UNSUPPORTED_CPU }
    return FloatingPointMode.run { callerMode in
        let failure: Failure
        do {
            try body(callerMode)
            return BP_OK
        } catch let error as Failure {
            failure = error
        } catch let error as BackpropError {
            failure = Failure(error)
        } catch {
            failure = Failure(BP_ERROR_INVALID_ARGUMENT, "\(error)")
        }
        LastError.record(failure.message)
        return failure.status
    }
}

/// `entryPoint` for a call that creates a network into `out`: *out is NULL after every
/// failure, a refused CPU included, and the new handle after success.
func creatingEntryPoint(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ body: () throws -> Network) -> bp_status {
    out?.pointee = nil
    return entryPoint {
        let out = try required(out, "out")
        out.pointee = Handle.make(try body())
    }
}

/// A pointer argument that must not be NULL.
func required<Pointee>(_ pointer: UnsafePointer<Pointee>?, _ name: String) throws(Failure) -> UnsafePointer<Pointee> {
    guard let pointer else { throw Failure(BP_ERROR_NULL_ARGUMENT, "\(name) is NULL") }
    return pointer
}

func required<Pointee>(_ pointer: UnsafeMutablePointer<Pointee>?, _ name: String) throws(Failure)
    -> UnsafeMutablePointer<Pointee>
{
    guard let pointer else { throw Failure(BP_ERROR_NULL_ARGUMENT, "\(name) is NULL") }
    return pointer
}

func requiredBytes(_ pointer: UnsafeRawPointer?, _ name: String) throws(Failure) -> UnsafeRawPointer {
    guard let pointer else { throw Failure(BP_ERROR_NULL_ARGUMENT, "\(name) is NULL") }
    return pointer
}

/// A size_t argument. Swift sees size_t as Int, so values above Int.max arrive negative:
/// far beyond anything the library can hold.
func size(_ value: Int, _ name: String) throws(Failure) -> Int {
    guard value >= 0 else {
        throw Failure(BP_ERROR_SIZE_OVERFLOW, "\(name) is \(UInt(bitPattern: value)), beyond any size the library supports")
    }
    return value
}
