/// An enum whose cases are public constants of the C API: each case's raw value is its
/// `BP_*` value in include/backprop.h, written once, here in the core. The C layer, the
/// model format, the command-line names and their error messages all derive from it, and
/// a test (`HeaderCodeTests`) parses the header and fails when the two disagree.
public protocol PublicCode: RawRepresentable, CaseIterable, Sendable, Equatable where RawValue == Int32 {
    /// What the values are, for messages ("activation").
    static var kind: String { get }
    /// The prefix of the C constants ("BP_", "BP_LOSS_").
    static var constantPrefix: String { get }
    /// The case's name in the command-line tool, the Python package and messages: lower
    /// case, words joined by "-" ("leaky-relu").
    var name: String { get }
}

extension PublicCode {
    /// The C constant, e.g. "BP_LEAKY_RELU": the prefix and the name in upper case with
    /// "_" between words.
    public var constantName: String {
        Self.constantPrefix + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// "BP_SIGMOID (0), BP_TANH (1) or BP_RELU (2)", for messages that list every value.
    public static var constantList: String {
        listing(allCases.map { "\($0.constantName) (\($0.rawValue))" })
    }

    /// "sigmoid, tanh or relu".
    public static var nameList: String {
        listing(allCases.map(\.name))
    }

    /// The case called `name` (see `name`); nil for any other text.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    private static func listing(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " or " + items[items.count - 1]
    }
}
