import BackpropCore
import CBackpropABI

@_cdecl("bp_forward")
public func bp_forward(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ batch: Int, _ outputs: UnsafeMutablePointer<Float>?
) -> bp_status {
    forward(net, inputs, batch, outputs, training: false)
}

@_cdecl("bp_forward_train")
public func bp_forward_train(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ batch: Int, _ outputs: UnsafeMutablePointer<Float>?
) -> bp_status {
    forward(net, inputs, batch, outputs, training: true)
}

/// bp_forward and bp_forward_train: the same checks, a pass that drops units or not.
private func forward(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ batch: Int, _ outputs: UnsafeMutablePointer<Float>?,
    training: Bool
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let x = try required(inputs, "inputs")
        let batch = try size(batch, "batch")
        let a = try outputs.map { try network.outputRows($0, batch: batch) }
        try network.forward(try network.inputRows(x, batch: batch), batch: batch, outputs: a, training: training)
    }
}

@_cdecl("bp_predict")
public func bp_predict(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ batch: Int, _ outputs: UnsafeMutablePointer<Float>?
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let x = try required(inputs, "inputs")
        let a = try required(outputs, "outputs")
        let batch = try size(batch, "batch")
        try network.predict(try network.inputRows(x, batch: batch), batch: batch, outputs: try network.outputRows(a, batch: batch))
    }
}

@_cdecl("bp_backward")
public func bp_backward(
    _ net: OpaquePointer?, _ targets: UnsafePointer<Float>?, _ batch: Int, _ loss: UnsafeMutablePointer<Float>?
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let y = try required(targets, "targets")
        let batch = try size(batch, "batch")
        let cost = try network.backward(try network.targetRows(y, batch: batch), batch: batch)
        loss?.pointee = cost
    }
}

@_cdecl("bp_update")
public func bp_update(_ net: OpaquePointer?, _ learningRate: Float) -> bp_status {
    entryPoint {
        try Handle.network(net).update(learningRate: learningRate)
    }
}

@_cdecl("bp_train_step")
public func bp_train_step(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?,
    _ batch: Int, _ learningRate: Float, _ loss: UnsafeMutablePointer<Float>?
) -> bp_status {
    entryPoint {
        try Handle.withNetwork(net) { network in
            let x = try required(inputs, "inputs")
            let y = try required(targets, "targets")
            let batch = try size(batch, "batch")
            let cost = try network.trainStep(
                inputs: try network.inputRows(x, batch: batch), targets: try network.targetRows(y, batch: batch),
                batch: batch, learningRate: learningRate)
            loss?.pointee = cost
        }
    }
}

@_cdecl("bp_backward_weighted")
public func bp_backward_weighted(
    _ net: OpaquePointer?, _ targets: UnsafePointer<Float>?, _ weights: UnsafePointer<Float>?, _ batch: Int,
    _ loss: UnsafeMutablePointer<Float>?
) -> bp_status {
    entryPoint {
        let network = try Handle.network(net)
        let y = try required(targets, "targets")
        let w = try required(weights, "weights")
        let batch = try size(batch, "batch")
        let cost = try network.backward(
            try network.targetRows(y, batch: batch), batch: batch, weights: UnsafeBufferPointer(start: w, count: batch))
        loss?.pointee = cost
    }
}

@_cdecl("bp_train_step_weighted")
public func bp_train_step_weighted(
    _ net: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ targets: UnsafePointer<Float>?,
    _ weights: UnsafePointer<Float>?, _ batch: Int, _ learningRate: Float, _ loss: UnsafeMutablePointer<Float>?
) -> bp_status {
    entryPoint {
        try Handle.withNetwork(net) { network in
            let x = try required(inputs, "inputs")
            let y = try required(targets, "targets")
            let w = try required(weights, "weights")
            let batch = try size(batch, "batch")
            let cost = try network.trainStep(
                inputs: try network.inputRows(x, batch: batch), targets: try network.targetRows(y, batch: batch),
                batch: batch, learningRate: learningRate, weights: UnsafeBufferPointer(start: w, count: batch))
            loss?.pointee = cost
        }
    }
}
