package backprop

// #include <stdint.h>
// #include <stdlib.h>
// #include "backprop.h"
// extern int backpropGoProgress(bp_epoch_report *report, void *user);
// void backprop_set_progress(bp_fit_options *options, uintptr_t handle);
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// Predict computes a^L for a batch of inputs (bp_predict); safe on many goroutines at once.
func (n *Network) Predict(inputs []float32) ([]float32, error) {
	batch, err := rows(inputs, n.InputSize(), "inputs")
	if err != nil {
		return nil, err
	}
	outputs := make([]float32, batch*n.OutputSize())
	return outputs, n.read(func(r *C.bp_network) C.bp_status {
		return C.bp_predict(r, floats(inputs), C.size_t(batch), floats(outputs))
	})
}

// Evaluate returns the mean loss and the accuracy (NaN for a regressor) (bp_evaluate).
func (n *Network) Evaluate(inputs, targets []float32) (loss, accuracy float32, err error) {
	count, err := n.rowsOfBoth(inputs, targets)
	if err != nil {
		return 0, 0, err
	}
	var l, a C.float
	err = n.read(func(r *C.bp_network) C.bp_status {
		return C.bp_evaluate(r, floats(inputs), floats(targets), C.size_t(count), &l, &a)
	})
	return float32(l), float32(a), err
}

// EvaluateWeighted is Evaluate with one weight per sample (bp_evaluate_weighted).
func (n *Network) EvaluateWeighted(inputs, targets, weights []float32) (loss, accuracy float32, err error) {
	count, err := n.rowsOfBoth(inputs, targets)
	if err == nil && len(weights) != count {
		err = mismatch("weights", len(weights), fmt.Sprint(count))
	}
	if err != nil {
		return 0, 0, err
	}
	var l, a C.float
	err = n.read(func(r *C.bp_network) C.bp_status {
		return C.bp_evaluate_weighted(r, floats(inputs), floats(targets), floats(weights), C.size_t(count), &l, &a)
	})
	return float32(l), float32(a), err
}

// Metrics are bp_evaluate_metrics()'s figures.
type Metrics struct {
	Loss, Accuracy, MeanAbsoluteError, RootMeanSquaredError, R2 float32
}

// EvaluateMetrics measures the loss, accuracy and regression metrics in one pass.
func (n *Network) EvaluateMetrics(inputs, targets []float32) (Metrics, error) {
	count, err := n.rowsOfBoth(inputs, targets)
	if err != nil {
		return Metrics{}, err
	}
	var m C.bp_metrics
	m.struct_size = C.size_t(unsafe.Sizeof(m))
	err = n.read(func(r *C.bp_network) C.bp_status {
		return C.bp_evaluate_metrics(r, floats(inputs), floats(targets), nil, C.size_t(count), &m, nil, 0)
	})
	return Metrics{float32(m.loss), float32(m.accuracy), float32(m.mean_absolute_error), float32(m.root_mean_squared_error), float32(m.r2)}, err
}

// Forward runs z^l = W^l a^(l-1) + b^l, a^l = σ(z^l) and keeps the activations for
// Backward (bp_forward; bp_forward_train with training set, which drops units).
func (n *Network) Forward(inputs []float32, training bool) ([]float32, error) {
	batch, err := rows(inputs, n.InputSize(), "inputs")
	if err != nil {
		return nil, err
	}
	outputs := make([]float32, batch*n.OutputSize())
	return outputs, n.write(func(r *C.bp_network) C.bp_status {
		if training {
			return C.bp_forward_train(r, floats(inputs), C.size_t(batch), floats(outputs))
		}
		return C.bp_forward(r, floats(inputs), C.size_t(batch), floats(outputs))
	})
}

// Backward computes δ and ∂C/∂θ for the last forward batch; returns its loss.
func (n *Network) Backward(targets []float32) (float32, error) {
	batch, err := rows(targets, n.OutputSize(), "targets")
	if err != nil {
		return 0, err
	}
	var loss C.float
	return float32(loss), n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_backward(r, floats(targets), C.size_t(batch), &loss)
	})
}

// BackwardWeighted is Backward with one weight per sample.
func (n *Network) BackwardWeighted(targets, weights []float32) (float32, error) {
	batch, err := rows(targets, n.OutputSize(), "targets")
	if err == nil && len(weights) != batch {
		err = mismatch("weights", len(weights), fmt.Sprint(batch))
	}
	if err != nil {
		return 0, err
	}
	var loss C.float
	return float32(loss), n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_backward_weighted(r, floats(targets), floats(weights), C.size_t(batch), &loss)
	})
}

// Update applies the pending gradients: θ ← θ − η ∂C/∂θ (or the optimizer's rule).
func (n *Network) Update(learningRate float32) error {
	return n.write(func(r *C.bp_network) C.bp_status { return C.bp_update(r, C.float(learningRate)) })
}

// TrainStep is Forward, Backward and Update on one batch; returns the batch's loss.
func (n *Network) TrainStep(inputs, targets []float32, learningRate float32) (float32, error) {
	batch, err := n.rowsOfBoth(inputs, targets)
	if err != nil {
		return 0, err
	}
	var loss C.float
	return float32(loss), n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_train_step(r, floats(inputs), floats(targets), C.size_t(batch), C.float(learningRate), &loss)
	})
}

// TrainStepWeighted is TrainStep with one weight per sample.
func (n *Network) TrainStepWeighted(inputs, targets, weights []float32, learningRate float32) (float32, error) {
	batch, err := n.rowsOfBoth(inputs, targets)
	if err == nil && len(weights) != batch {
		err = mismatch("weights", len(weights), fmt.Sprint(batch))
	}
	if err != nil {
		return 0, err
	}
	var loss C.float
	return float32(loss), n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_train_step_weighted(r, floats(inputs), floats(targets), floats(weights), C.size_t(batch), C.float(learningRate), &loss)
	})
}

// EpochReport is one epoch of Fit.
type EpochReport struct {
	Epoch                                                       int
	TrainLoss, ValidationLoss, ValidationAccuracy, LearningRate float32
}

// FitOptions are bp_fit()'s options; DefaultFitOptions gives the header's defaults.
type FitOptions struct {
	Epochs, BatchSize int
	LearningRate      float32
	Shuffle           bool
	Seed              uint64
	Patience          int
	MinDelta          float32
	RestoreBest       bool
	TargetLoss        float32
}

func cOptions() C.bp_fit_options {
	var options C.bp_fit_options
	C.bp_fit_options_init_sized(&options, C.size_t(unsafe.Sizeof(options)))
	return options
}

// DefaultFitOptions are bp_fit_options_init()'s values.
func DefaultFitOptions() FitOptions {
	c := cOptions()
	return FitOptions{int(c.epochs), int(c.batch_size), float32(c.learning_rate), c.shuffle != 0, uint64(c.seed),
		int(c.patience), float32(c.min_delta), c.restore_best != 0, float32(c.target_loss)}
}

type progress struct {
	callback func(EpochReport) bool
	panic    interface{}
}

//export backpropGoProgress
func backpropGoProgress(report *C.bp_epoch_report, user unsafe.Pointer) (keepGoing C.int) {
	p := cgo.Handle(uintptr(user)).Value().(*progress)
	defer func() {
		// A panic must not unwind through C: it stops training and is raised again by Fit.
		if value := recover(); value != nil {
			p.panic = value
			keepGoing = 0
		}
	}()
	r := EpochReport{int(report.epoch), float32(report.train_loss), float32(report.validation_loss),
		float32(report.validation_accuracy), float32(report.learning_rate)}
	if p.callback(r) {
		return 1
	}
	return 0
}

// Fit trains on a data set (bp_fit). callback, if not nil, runs after every epoch on the
// calling goroutine; returning false stops training; a panic in it stops training and is
// raised again once bp_fit has returned. Returns the epochs' reports.
func (n *Network) Fit(inputs, targets []float32, options FitOptions, callback func(EpochReport) bool) ([]EpochReport, error) {
	count, err := n.rowsOfBoth(inputs, targets)
	if err != nil {
		return nil, err
	}
	if options.Epochs < 1 {
		return nil, &Error{Status: C.BP_ERROR_INVALID_ARGUMENT, Message: fmt.Sprintf("Epochs is %d; at least 1", options.Epochs)}
	}
	c := cOptions()
	c.epochs, c.batch_size, c.learning_rate = C.size_t(options.Epochs), C.size_t(options.BatchSize), C.float(options.LearningRate)
	c.shuffle, c.seed, c.patience = boolean(options.Shuffle), C.uint64_t(options.Seed), C.size_t(options.Patience)
	c.min_delta, c.restore_best, c.target_loss = C.float(options.MinDelta), boolean(options.RestoreBest), C.float(options.TargetLoss)
	if callback == nil {
		callback = func(EpochReport) bool { return true }
	}
	p := &progress{callback: callback}
	handle := cgo.NewHandle(p)
	defer handle.Delete()
	C.backprop_set_progress(&c, C.uintptr_t(handle))
	history := make([]C.bp_epoch_report, options.Epochs)
	var epochs C.size_t
	err = n.write(func(r *C.bp_network) C.bp_status {
		return C.bp_fit(r, floats(inputs), floats(targets), C.size_t(count), &c, &history[0], C.size_t(len(history)), &epochs)
	})
	if p.panic != nil {
		panic(p.panic)
	}
	reports := make([]EpochReport, 0, int(epochs))
	for _, h := range history[:int(epochs)] {
		reports = append(reports, EpochReport{int(h.epoch), float32(h.train_loss), float32(h.validation_loss),
			float32(h.validation_accuracy), float32(h.learning_rate)})
	}
	return reports, err
}

func boolean(value bool) C.int32_t {
	if value {
		return 1
	}
	return 0
}
