// swift-tools-version:6.0
// A package that depends on backprop the way another project would, by path (SwiftPM
// accepts a branch, revision or path dependency; see the README's "Install"), built and
// run by scripts/test-package, which copies it next to a link named "backprop" to the
// clone (a path dependency's identity is its directory's name).
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(path: "../backprop")],
    targets: [
        .executableTarget(name: "consumer", dependencies: [.product(name: "BackpropCore", package: "backprop")]),
    ]
)
