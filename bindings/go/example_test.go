package backprop_test

import (
	"fmt"

	"backprop"
)

// The README's example: XOR, stopped by the callback once the loss is small.
func ExampleNetwork_Fit() {
	net, err := backprop.New([]int{2, 4, 1}, []int32{backprop.BP_TANH, backprop.BP_SIGMOID}, backprop.BP_LOSS_MSE, 42)
	if err != nil {
		panic(err)
	}
	defer net.Close()
	x, y := []float32{0, 0, 0, 1, 1, 0, 1, 1}, []float32{0, 1, 1, 0}
	options := backprop.DefaultFitOptions()
	options.Epochs, options.BatchSize, options.LearningRate = 2000, 4, 0.5
	history, _ := net.Fit(x, y, options, func(r backprop.EpochReport) bool { return r.TrainLoss > 0.001 })
	out, _ := net.Predict(x)
	fmt.Printf("stopped early: %v; classes %.0f %.0f %.0f %.0f\n", len(history) < 2000, out[0], out[1], out[2], out[3])
	// Output: stopped early: true; classes 0 1 1 0
}
