package backprop

// #include <stdlib.h>
// #include "backprop.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// SetOption sets a BP_OPTION_* of the optimizer or schedule (bp_set_option).
func (n *Network) SetOption(key int32, value float64) error {
	return n.write(func(r *C.bp_network) C.bp_status { return C.bp_set_option(r, C.int32_t(key), C.double(value)) })
}

// Option reads a BP_OPTION_* (bp_get_option).
func (n *Network) Option(key int32) (float64, error) {
	var value C.double
	return float64(value), n.read(func(r *C.bp_network) C.bp_status { return C.bp_get_option(r, C.int32_t(key), &value) })
}

// ScheduledLearningRate is the rate the schedule gives the next epoch for base rate η0.
func (n *Network) ScheduledLearningRate(base float32) (float32, error) {
	var rate C.float
	return float32(rate), n.read(func(r *C.bp_network) C.bp_status { return C.bp_scheduled_learning_rate(r, C.float(base), &rate) })
}

// EndEpoch advances the learning-rate schedule by one epoch (bp_end_epoch).
func (n *Network) EndEpoch(samples int, monitoredLoss float32) error {
	return n.write(func(r *C.bp_network) C.bp_status { return C.bp_end_epoch(r, C.size_t(samples), C.float(monitoredLoss)) })
}

// SetThreads sets how many threads a training step may use (bp_set_threads).
func (n *Network) SetThreads(threads int) error {
	return n.write(func(r *C.bp_network) C.bp_status { return C.bp_set_threads(r, C.size_t(threads)) })
}

// SetDropout sets one dropout rate per hidden layer (bp_set_dropout).
func (n *Network) SetDropout(rates []float32, seed uint64) error {
	return n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_set_dropout(r, floats(rates), C.size_t(len(rates)), C.uint64_t(seed))
	})
}

// Dropout returns the hidden layers' dropout rates (bp_get_dropout).
func (n *Network) Dropout() ([]float32, error) {
	rates := make([]float32, max0(n.LayerCount()-2))
	return rates, n.read(func(r *C.bp_network) C.bp_status { return C.bp_get_dropout(r, floats(rates), C.size_t(len(rates))) })
}

func max0(value int) int {
	if value < 0 {
		return 0
	}
	return value
}

// Parameters returns θ in the flat layout (for l = 1…L: W^l row-major, then b^l).
func (n *Network) Parameters() ([]float32, error) {
	out := make([]float32, n.ParameterCount())
	return out, n.read(func(r *C.bp_network) C.bp_status { return C.bp_get_parameters(r, floats(out), C.size_t(len(out))) })
}

// SetParameters replaces θ (bp_set_parameters).
func (n *Network) SetParameters(values []float32) error {
	return n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_set_parameters(r, floats(values), C.size_t(len(values)))
	})
}

// Gradients returns ∂C/∂θ of the last Backward, in the parameters' layout.
func (n *Network) Gradients() ([]float32, error) {
	out := make([]float32, n.ParameterCount())
	return out, n.read(func(r *C.bp_network) C.bp_status { return C.bp_get_gradients(r, floats(out), C.size_t(len(out))) })
}

// SetGradients replaces the pending gradients of the last Backward (bp_set_gradients), for
// the next Update: a data-parallel loop's reduction.
func (n *Network) SetGradients(values []float32) error {
	return n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_set_gradients(r, floats(values), C.size_t(len(values)))
	})
}

// Initialize draws θ afresh by a BP_INIT_* scheme (bp_initialize).
func (n *Network) Initialize(scheme int32, seed uint64) error {
	return n.write(func(r *C.bp_network) C.bp_status { return C.bp_initialize(r, C.int32_t(scheme), C.uint64_t(seed)) })
}

func pair(shift, scale []float32) error {
	if len(shift) != len(scale) {
		return mismatch("scale", len(scale), fmt.Sprint(len(shift)))
	}
	return nil
}

// SetInputScaling makes every input reach layer 1 as (x − shift) · scale.
func (n *Network) SetInputScaling(shift, scale []float32) error {
	if err := pair(shift, scale); err != nil {
		return err
	}
	return n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_set_input_scaling(r, floats(shift), floats(scale), C.size_t(len(shift)))
	})
}

// InputScaling returns the input scaling's shift and scale ((0, 1) without one).
func (n *Network) InputScaling() (shift, scale []float32, err error) {
	shift, scale = make([]float32, n.InputSize()), make([]float32, n.InputSize())
	return shift, scale, n.read(func(r *C.bp_network) C.bp_status {
		return C.bp_get_input_scaling(r, floats(shift), floats(scale), C.size_t(len(shift)))
	})
}

// StandardizeInputs sets the input scaling that standardises the rows of inputs.
func (n *Network) StandardizeInputs(inputs []float32) error {
	count, err := rows(inputs, n.InputSize(), "inputs")
	if err != nil {
		return err
	}
	return n.write(func(r *C.bp_network) C.bp_status { return C.bp_standardize_inputs(r, floats(inputs), C.size_t(count)) })
}

// SetTargetScaling sets a regressor's target scaling.
func (n *Network) SetTargetScaling(shift, scale []float32) error {
	if err := pair(shift, scale); err != nil {
		return err
	}
	return n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_set_target_scaling(r, floats(shift), floats(scale), C.size_t(len(shift)))
	})
}

// TargetScaling returns the target scaling's shift and scale.
func (n *Network) TargetScaling() (shift, scale []float32, err error) {
	shift, scale = make([]float32, n.OutputSize()), make([]float32, n.OutputSize())
	return shift, scale, n.read(func(r *C.bp_network) C.bp_status {
		return C.bp_get_target_scaling(r, floats(shift), floats(scale), C.size_t(len(shift)))
	})
}

// StandardizeTargets sets the target scaling that standardises the rows of targets.
func (n *Network) StandardizeTargets(targets []float32) error {
	count, err := rows(targets, n.OutputSize(), "targets")
	if err != nil {
		return err
	}
	return n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_standardize_targets(r, floats(targets), C.size_t(count))
	})
}

// Save writes a model file, atomically (bp_save).
func (n *Network) Save(path string) error {
	return n.read(func(r *C.bp_network) C.bp_status {
		return withPath(path, func(p *C.char) C.bp_status { return C.bp_save(r, p) })
	})
}

// ExportONNX writes the network as an ONNX model (bp_export_onnx).
func (n *Network) ExportONNX(path string) error {
	return n.read(func(r *C.bp_network) C.bp_status {
		return withPath(path, func(p *C.char) C.bp_status { return C.bp_export_onnx(r, p) })
	})
}

// ExportCSource writes the network as C source (path ends in ".c") and its header
// (bp_export_c_source); options are BP_C_SOURCE_* flags.
func (n *Network) ExportCSource(path, prefix string, options uint32) error {
	name := C.CString(prefix)
	defer C.free(unsafe.Pointer(name))
	return n.read(func(r *C.bp_network) C.bp_status {
		return withPath(path, func(p *C.char) C.bp_status { return C.bp_export_c_source(r, p, name, C.uint32_t(options)) })
	})
}

type writer func(*C.bp_network, unsafe.Pointer, C.size_t, *C.size_t) C.bp_status

func (n *Network) written(write writer) ([]byte, error) {
	var out []byte
	return out, n.read(func(r *C.bp_network) C.bp_status {
		var size C.size_t
		if status := write(r, nil, 0, &size); status != C.BP_OK {
			return status
		}
		out = make([]byte, int(size))
		return write(r, bytes(out), size, &size)
	})
}

// ToBytes returns the model file's bytes; ToONNX the ONNX model's.
func (n *Network) ToBytes() ([]byte, error) {
	return n.written(func(r *C.bp_network, b unsafe.Pointer, c C.size_t, w *C.size_t) C.bp_status {
		return C.bp_save_to_buffer(r, b, c, w)
	})
}

func (n *Network) ToONNX() ([]byte, error) {
	return n.written(func(r *C.bp_network, b unsafe.Pointer, c C.size_t, w *C.size_t) C.bp_status {
		return C.bp_export_onnx_to_buffer(r, b, c, w)
	})
}
