import BackpropCore

/// Why a command failed, which decides its exit status and what it prints.
enum CLIError: Error {
    /// The command line is wrong: exit status 2, and the command's usage is printed.
    case usage(String)
    /// A file, the data or the library failed: exit status 1.
    case failure(String)

    var exitStatus: Int32 {
        switch self {
        case .usage: return 2
        case .failure: return 1
        }
    }

    var message: String {
        switch self {
        case .usage(let message), .failure(let message): return message
        }
    }
}

/// Runs a library call whose arguments all come from the command line, so that the
/// library's objections (a softmax hidden layer, a momentum of 2) are usage errors.
func withFlagValues<Result>(_ body: () throws(BackpropError) -> Result) throws(CLIError) -> Result {
    do {
        return try body()
    } catch {
        throw .usage(error.message)
    }
}
