import BackpropCore
import CBackpropABI

/// The C API's enum arguments: every `BP_*` value is the raw value of a core enum case
/// (`PublicCode`), so this layer only checks that a value is one of them.
extension PublicCode {
    /// The case of a `BP_*` value, or a BP_ERROR_UNKNOWN_ENUM failure naming `argument`
    /// and listing every value.
    init(code: Int32, argument: String) throws(Failure) {
        guard let value = Self(rawValue: code) else {
            throw Failure(BP_ERROR_UNKNOWN_ENUM, "\(argument) is \(code); expected \(Self.constantList)")
        }
        self = value
    }

    var code: Int32 { rawValue }
}
