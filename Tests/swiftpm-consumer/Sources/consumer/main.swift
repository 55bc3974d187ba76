// Trains XOR through BackpropCore as a dependency and fails unless it learns.
import BackpropCore

let network = try Network(layerSizes: [2, 4, 1], activations: [.tanh, .sigmoid], loss: .meanSquaredError, seed: 1)
let inputs: [Float] = [0, 0, 0, 1, 1, 0, 1, 1], targets: [Float] = [0, 1, 1, 0]
var loss: Float = 1
for _ in 0 ..< 2000 { loss = try network.trainStep(inputs: inputs, targets: targets, batch: 4, learningRate: 0.5) }
let outputs = try network.forward(inputs, batch: 4)
print("consumer: XOR loss \(loss), outputs \(outputs.map { ($0 * 1000).rounded() / 1000 })")
guard loss < 0.05 else { fatalError("XOR did not learn") }
