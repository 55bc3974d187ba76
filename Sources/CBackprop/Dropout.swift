import BackpropCore
import CBackpropABI

@_cdecl("bp_set_dropout")
public func bp_set_dropout(_ net: OpaquePointer?, _ rates: UnsafePointer<Float>?, _ count: Int, _ seed: UInt64) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let count = try hiddenLayerCount(network, count)
        let values = count == 0 ? [] : Array(UnsafeBufferPointer(start: try required(rates, "rates"), count: count))
        try network.setDropout(rates: values, seed: seed)
    }
}

@_cdecl("bp_get_dropout")
public func bp_get_dropout(_ net: OpaquePointer?, _ rates: UnsafeMutablePointer<Float>?, _ count: Int) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let count = try hiddenLayerCount(network, count)
        guard count > 0 else { return }
        let out = try required(rates, "rates")
        for (index, rate) in network.dropoutRates.enumerated() { out[index] = rate }
    }
}

/// `count`, which must be the network's number of hidden layers.
private func hiddenLayerCount(_ network: Network, _ count: Int) throws -> Int {
    let count = try size(count, "count")
    let hidden = network.layerSizes.count - 2
    guard count == hidden else {
        throw Failure(BP_ERROR_SIZE_MISMATCH, "count is \(count); the network has \(hidden) hidden layers")
    }
    return count
}
