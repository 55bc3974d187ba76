/// A subcommand of the tool: `backprop-cli <name> [options]`.
protocol Command {
    static var name: String { get }
    /// One line for the tool's usage.
    static var summary: String { get }
    /// The text of `--help`, also printed after a usage error.
    static var usage: String { get }
    static var grammar: Arguments.Grammar { get }
    /// Errors are `CLIError`s, or `BackpropError`s of the library (exit status 1).
    static func run(_ arguments: Arguments) throws
}
