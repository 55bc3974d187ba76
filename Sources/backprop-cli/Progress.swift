#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BackpropCore

/// Reports the epochs of `fit`: on a terminal, one bar redrawn in place; otherwise plain
/// lines, thinned so that a long run prints about 50; nothing when quiet.
final class Progress {
    private enum Style {
        case bar
        case lines(every: Int)
        case silent
    }

    private static let maximumLines = 50
    private static let barCells = 20

    private let style: Style
    private let epochs: Int
    /// False for regression, where the library's accuracy means nothing.
    private let showsAccuracy: Bool
    /// Whether the rate changes from epoch to epoch (a schedule other than constant).
    private let showsLearningRate: Bool
    private let stopwatch = Stopwatch()
    private var lastReport: EpochReport?
    private var lastPrinted = 0

    init(epochs: Int, quiet: Bool, showsAccuracy: Bool, showsLearningRate: Bool) {
        self.epochs = epochs
        self.showsAccuracy = showsAccuracy
        self.showsLearningRate = showsLearningRate
        if quiet {
            style = .silent
        } else if Output.isTerminal {
            style = .bar
        } else {
            style = .lines(every: (epochs + Self.maximumLines - 1) / Self.maximumLines)
        }
    }

    func report(_ report: EpochReport) {
        lastReport = report
        switch style {
        case .silent:
            return
        case .bar:
            redrawBar(report, isFinal: false)
        case .lines(let every):
            if report.epoch == 1 || report.epoch % every == 0 { printLine(report) }
        }
    }

    /// Ends the bar's line, or prints the last epoch if the thinned lines skipped it.
    func finish() {
        guard let last = lastReport else { return }
        switch style {
        case .silent: return
        case .bar:
            redrawBar(last, isFinal: true)
            print()
        case .lines: if lastPrinted != last.epoch { printLine(last) }
        }
    }

    private func printLine(_ report: EpochReport) {
        print("epoch \(counter(report.epoch))  \(metrics(report))")
        Output.flush()  // so that a log behind a pipe follows the training
        lastPrinted = report.epoch
    }

    /// The bar, with the time left, or the time taken once training is over.
    private func redrawBar(_ report: EpochReport, isFinal: Bool) {
        let filled = Self.barCells * report.epoch / epochs
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: Self.barCells - filled)
        let remaining = stopwatch.elapsed / Double(report.epoch) * Double(epochs - report.epoch)
        let time = isFinal ? "took \(Format.duration(stopwatch.elapsed))" : "ETA \(Format.duration(remaining))"
        let epoch = "epoch \(counter(report.epoch))"
        let numbers = "\(metrics(report))  \(time)"
        var line = "\(epoch) [\(bar)] \(numbers)"
        // A line longer than the terminal would wrap, and \r would then redraw only its end:
        // on a narrow terminal the bar goes first, then whatever still does not fit.
        if let width = Output.terminalWidth, line.count >= width {
            line = String("\(epoch) \(numbers)".prefix(width - 1))
        }
        Output.write("\r\(line)\u{1B}[K")
        Output.flush()
    }

    /// " 7/30", padded so that the columns stay put.
    private func counter(_ epoch: Int) -> String {
        let width = String(epochs).count
        return String(repeating: " ", count: width - String(epoch).count) + "\(epoch)/\(epochs)"
    }

    /// The epoch's losses, accuracy and rate, each padded to a fixed width so that lines align.
    private func metrics(_ report: EpochReport) -> String {
        var fields = ["loss " + Format.padded(Format.number(report.trainLoss), to: 10)]
        if !report.validationLoss.isNaN {
            fields.append("val loss " + Format.padded(Format.number(report.validationLoss), to: 10))
        }
        if showsAccuracy && !report.validationAccuracy.isNaN {
            fields.append("val acc " + Format.padded(Format.percent(report.validationAccuracy), to: 6))
        }
        if showsLearningRate {
            fields.append("lr " + Format.padded(Format.number(report.learningRate), to: 10))
        }
        return fields.joined().trimmingWhitespace()
    }
}

/// Seconds since it was made, on the monotonic clock.
struct Stopwatch {
    private let start = Self.now()

    var elapsed: Double { Self.now() - start }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
