#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Numbers, durations and sizes as people read them.
enum Format {
    /// printf's `%.<digits>g`: losses span many magnitudes, so significant digits.
    static func number(_ value: Float, digits: Int = 4) -> String {
        printf("%.*g", digits, Double(value))
    }

    /// "97.5%"; "n/a" for NaN (the library's accuracy of a network that is no classifier).
    /// 100.0% only when the fraction is 1: 39989 of 40000 right is 99.9%, not 100.0%.
    static func percent(_ fraction: Float) -> String {
        guard !fraction.isNaN else { return "n/a" }
        let percent = Double(fraction) * 100
        return printf("%.1f%%", fraction < 1 ? min(percent, 99.9) : percent)
    }

    /// "3", not "3.0", for whole numbers such as labels.
    static func plain<Value: BinaryFloatingPoint>(_ value: Value) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : "\(value)"
    }

    /// "0.04s", "4.2s", "42s", "3m07s", "2h05m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 1 { return printf("%.2fs", seconds) }
        if seconds < 10 { return printf("%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return printf("%dm%02ds", whole / 60, whole % 60) }
        return printf("%dh%02dm", whole / 3600, whole % 3600 / 60)
    }

    /// "812 bytes", "1.5 KiB", "3.2 MiB".
    static func size(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB"]
        var value = Double(bytes)
        guard value >= 1024 else { return "\(bytes) bytes" }
        var unit = -1
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return printf("%.1f", value) + " " + units[unit]
    }

    /// `text` followed by spaces up to `width` characters, to line up columns.
    static func padded(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(width - text.count, 0))
    }

    private static func printf(_ format: String, _ arguments: CVarArg...) -> String {
        withVaList(arguments) { list in
            var buffer = [CChar](repeating: 0, count: 64)
            _ = vsnprintf(&buffer, buffer.count, format, list)
            return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }
}
