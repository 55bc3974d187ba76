/// The library's version, the same for the Swift API, the C API and the tools.
public enum Version {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static let string: StaticString = "0.1.0"
}
