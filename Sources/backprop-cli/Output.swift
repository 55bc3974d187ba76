// Only this file touches the C streams: Swift 6 sees `stdout` and `stderr` as shared
// mutable state, and the tool is single-threaded.
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// Standard output and standard error, through the same C streams as `print`, so that
/// the two never overtake each other.
enum Output {
    /// `text` on standard output, without a newline.
    static func write(_ text: String) {
        fputs(text, stdout)
    }

    /// Pushes buffered standard output out now (progress behind a pipe, a redrawn bar).
    static func flush() {
        fflush(stdout)
    }

    /// A line on standard error, which keeps standard output for results.
    static func error(_ line: String) {
        fputs(line + "\n", stderr)
    }

    static var isTerminal: Bool {
        isatty(STDOUT_FILENO) != 0
    }

    /// The terminal's width in columns, if standard output is one.
    static var terminalWidth: Int? {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
