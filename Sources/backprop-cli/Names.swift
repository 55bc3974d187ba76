import BackpropCore

/// The command-line names of the library's enums are their `PublicCode.name`s, so the tool,
/// the Python package and the library's messages agree. Case is ignored and `_` may be
/// written for `-`, so `cross_entropy`, `Leaky-ReLU` and `adamW` are all understood.
extension PublicCode {
    static func named(_ text: String) throws(CLIError) -> Self {
        let normalized = String(text.lowercased().map { $0 == "_" ? "-" : $0 })
        guard let value = Self(name: normalized) else {
            throw .usage("unknown \(kind) \"\(text)\"; expected one of \(names)")
        }
        return value
    }

    /// "a, b, c", for usage texts and error messages.
    static var names: String {
        allCases.map(\.name).joined(separator: ", ")
    }
}
