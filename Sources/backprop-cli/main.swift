// backprop-cli: trains multilayer perceptrons on CSV or MNIST IDX data, and predicts,
// evaluates and describes the saved models. This file dispatches to the commands.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BackpropCore

let version = "\(BackpropCore.Version.string)"
let commands: [any Command.Type] = [Train.self, Predict.self, Evaluate.self, Info.self, Export.self, Import.self]

let toolUsage = """
    usage: backprop-cli <command> [options]

    Trains multilayer perceptrons by backpropagation on CSV or MNIST IDX data, and uses
    the saved models.

    commands:
    \(commands.map { "  " + Format.padded($0.name, to: 10) + $0.summary }.joined(separator: "\n"))

    Run 'backprop-cli <command> --help' for a command's options.
      -h, --help   print this help
      --version    print the version (\(version))

    Exit status: 0 on success, 1 when a file, the data or training failed, 2 for a wrong
    command line.
    """

/// Runs a command line and returns the exit status.
@MainActor
func run(_ words: [String]) -> Int32 {
    guard let first = words.first else {
        Output.error(toolUsage)
        return 2
    }
    switch first {
    case "-h", "--help", "help":
        print(words.count > 1 ? commands.first { $0.name == words[1] }?.usage ?? toolUsage : toolUsage)
        return 0
    case "--version":
        print("backprop-cli \(version)")
        return 0
    default:
        guard let command = commands.first(where: { $0.name == first }) else {
            Output.error("backprop-cli: unknown command \"\(first)\"\n\n\(toolUsage)")
            return 2
        }
        return run(command, Array(words.dropFirst()))
    }
}

@MainActor
func run(_ command: any Command.Type, _ words: [String]) -> Int32 {
    do {
        let arguments = try Arguments(words, grammar: command.grammar)
        if arguments.wantsHelp {
            print(command.usage)
            return 0
        }
        try command.run(arguments)
        return 0
    } catch let error as CLIError {
        if case .usage = error {
            Output.error("backprop-cli \(command.name): \(error.message)\n\n\(command.usage)")
        } else {
            Output.error("backprop-cli: \(error.message)")
        }
        return error.exitStatus
    } catch {
        // The library's errors: a model file that cannot be read or written, divergence...
        Output.error("backprop-cli: \(error)")
        return 1
    }
}

// The tool computes in the library's floating-point mode, as the C API does.
exit(FloatingPointMode.run { _ in run(Array(CommandLine.arguments.dropFirst())) })
