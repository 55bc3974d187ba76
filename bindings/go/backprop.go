// Package backprop is the Go binding of libbackprop: train and run multilayer
// perceptrons by backpropagation, over the C ABI of include/backprop.h (cgo).
//
// A Network owns a bp_network; Close releases it (a finalizer does so for a Network
// that is dropped unclosed). Every failure is an *Error carrying the C status and the
// library's message. []float32 slices are passed to C without copies for the duration
// of each call. Predict, Evaluate and the readers may run on many goroutines at once;
// every other method takes the network for itself (a sync.RWMutex in the Network
// enforces it, so a data race is impossible rather than undefined).
//
// The library is found through cgo's flags: by default the repository's release build
// (../../.build/release, with an rpath); set CGO_CFLAGS and CGO_LDFLAGS (for instance
// from `pkg-config --cflags --libs backprop` of the C SDK) to use another.
package backprop

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -L${SRCDIR}/../../.build/release -Wl,-rpath,${SRCDIR}/../../.build/release -lbackprop
// #include <stdint.h>
// #include <stdlib.h>
// #include "backprop.h"
// extern int backpropGoProgress(bp_epoch_report *report, void *user);
// static int backprop_progress(const bp_epoch_report *report, void *user) { return backpropGoProgress((bp_epoch_report *)report, user); }
// void backprop_set_progress(bp_fit_options *options, uintptr_t handle) {
//     options->progress = backprop_progress;
//     options->user_data = (void *)handle;
// }
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Error is a failed call: the bp_status and bp_last_error()'s text.
type Error struct {
	Status  int32
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("backprop: %s (status %d)", e.Message, e.Status) }

// check turns a status into an *Error with the message of the thread that made the call:
// callers hold the OS thread (runtime.LockOSThread) across the call and this read.
func check(status C.bp_status) error {
	if status == C.BP_OK {
		return nil
	}
	message := C.GoString(C.bp_last_error())
	if message == "" {
		message = C.GoString(C.bp_status_string(status))
	}
	return &Error{Status: int32(status), Message: message}
}

// call runs a C call and reads its error on the same OS thread (bp_last_error is per thread).
func call(f func() C.bp_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(f())
}

func mismatch(what string, got int, want string) error {
	return &Error{Status: C.BP_ERROR_SIZE_MISMATCH, Message: fmt.Sprintf("%s holds %d floats; expected %s", what, got, want)}
}

// floats is a slice's first element for C, nil for an empty slice.
func floats(values []float32) *C.float {
	if len(values) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&values[0]))
}

// Version is the library's version string; Kernels the matrix kernels it uses.
func Version() string { return C.GoString(C.bp_version()) }
func Kernels() string { return C.GoString(C.bp_kernels()) }

// ABIMatches reports whether the loaded library has this package's ABI.
func ABIMatches() bool { return C.bp_abi_version() == C.BP_ABI_VERSION }

// CheckCPU reports whether this CPU runs the library (bp_check_cpu).
func CheckCPU() error { return call(func() C.bp_status { return C.bp_check_cpu() }) }

// Network is a multilayer perceptron of the library.
type Network struct {
	mu  sync.RWMutex
	raw *C.bp_network
}

func adopt(create func(out **C.bp_network) C.bp_status) (*Network, error) {
	var raw *C.bp_network
	if err := call(func() C.bp_status { return create(&raw) }); err != nil {
		return nil, err
	}
	n := &Network{raw: raw}
	runtime.SetFinalizer(n, (*Network).Close)
	return n, nil
}

// New creates a network (bp_create): layer sizes input first, one BP_* activation per
// layer after it, a BP_LOSS_* loss.
func New(layers []int, activations []int32, loss int32, seed uint64) (*Network, error) {
	if len(activations)+1 != len(layers) || len(layers) == 0 {
		return nil, &Error{Status: C.BP_ERROR_SIZE_MISMATCH,
			Message: fmt.Sprintf("%d activations for %d layers; expected one per layer after the input", len(activations), len(layers))}
	}
	sizes := make([]C.size_t, len(layers))
	for i, size := range layers {
		if size < 0 {
			return nil, &Error{Status: C.BP_ERROR_INVALID_ARGUMENT, Message: fmt.Sprintf("layer %d has %d units", i, size)}
		}
		sizes[i] = C.size_t(size)
	}
	codes := make([]C.int32_t, len(activations))
	for i, code := range activations {
		codes[i] = C.int32_t(code)
	}
	return adopt(func(out **C.bp_network) C.bp_status {
		return C.bp_create(&sizes[0], C.size_t(len(sizes)), &codes[0], C.int32_t(loss), C.uint64_t(seed), out)
	})
}

func withPath(path string, f func(*C.char) C.bp_status) C.bp_status {
	text := C.CString(path)
	defer C.free(unsafe.Pointer(text))
	return f(text)
}

// Load reads a model file (bp_load).
func Load(path string) (*Network, error) {
	return adopt(func(out **C.bp_network) C.bp_status {
		return withPath(path, func(p *C.char) C.bp_status { return C.bp_load(p, out) })
	})
}

// FromBytes reads a model's bytes (bp_load_from_buffer).
func FromBytes(model []byte) (*Network, error) {
	return adopt(func(out **C.bp_network) C.bp_status {
		return C.bp_load_from_buffer(bytes(model), C.size_t(len(model)), out)
	})
}

// FromONNX reads an ONNX model's bytes (bp_import_onnx_from_buffer); loss is a BP_LOSS_*
// or BP_ONNX_LOSS_AUTO.
func FromONNX(model []byte, loss int32) (*Network, error) {
	return adopt(func(out **C.bp_network) C.bp_status {
		return C.bp_import_onnx_from_buffer(bytes(model), C.size_t(len(model)), C.int32_t(loss), out)
	})
}

// ImportONNX reads an ONNX file (bp_import_onnx).
func ImportONNX(path string, loss int32) (*Network, error) {
	return adopt(func(out **C.bp_network) C.bp_status {
		return withPath(path, func(p *C.char) C.bp_status { return C.bp_import_onnx(p, C.int32_t(loss), out) })
	})
}

// emptyBuffer stands for an empty slice: a valid pointer of which the library reads nothing.
var emptyBuffer [1]byte

func bytes(values []byte) unsafe.Pointer {
	if len(values) == 0 {
		return unsafe.Pointer(&emptyBuffer[0])
	}
	return unsafe.Pointer(&values[0])
}

// Close releases the network; later calls fail with BP_ERROR_STATE. Safe to call twice.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.raw != nil {
		C.bp_destroy(n.raw)
		n.raw = nil
		runtime.SetFinalizer(n, nil)
	}
	return nil
}

var errClosed = &Error{Status: C.BP_ERROR_STATE, Message: "the network is closed"}

// read runs f with the network shared (for the calls the header lets run concurrently).
func (n *Network) read(f func(raw *C.bp_network) C.bp_status) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.raw == nil {
		return errClosed
	}
	return call(func() C.bp_status { return f(n.raw) })
}

// write runs f with the network to itself.
func (n *Network) write(f func(raw *C.bp_network) C.bp_status) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.raw == nil {
		return errClosed
	}
	return call(func() C.bp_status { return f(n.raw) })
}

// size reads one of the network's sizes, 0 once closed.
func (n *Network) size(f func(raw *C.bp_network) C.size_t) int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.raw == nil {
		return 0
	}
	return int(f(n.raw))
}

func (n *Network) InputSize() int {
	return n.size(func(r *C.bp_network) C.size_t { return C.bp_input_size(r) })
}
func (n *Network) OutputSize() int {
	return n.size(func(r *C.bp_network) C.size_t { return C.bp_output_size(r) })
}
func (n *Network) ParameterCount() int {
	return n.size(func(r *C.bp_network) C.size_t { return C.bp_parameter_count(r) })
}
func (n *Network) LayerCount() int {
	return n.size(func(r *C.bp_network) C.size_t { return C.bp_layer_count(r) })
}
func (n *Network) LayerSize(index int) int {
	return n.size(func(r *C.bp_network) C.size_t { return C.bp_layer_size(r, C.size_t(index)) })
}
func (n *Network) ThreadCount() int {
	return n.size(func(r *C.bp_network) C.size_t { return C.bp_thread_count(r) })
}
func (n *Network) Activation(layer int) int32 {
	return int32(n.size(func(r *C.bp_network) C.size_t { return C.size_t(C.bp_layer_activation(r, C.size_t(layer))) }))
}
func (n *Network) Loss() int32 {
	return int32(n.size(func(r *C.bp_network) C.size_t { return C.size_t(C.bp_loss_function(r)) }))
}

// rows is the number of width-wide rows in values: whole rows, at least one.
func rows(values []float32, width int, what string) (int, error) {
	if width == 0 {
		return 0, errClosed // every layer of an open network has units
	}
	if len(values) == 0 || len(values)%width != 0 {
		return 0, mismatch(what, len(values), fmt.Sprintf("a positive multiple of %d", width))
	}
	return len(values) / width, nil
}

func (n *Network) rowsOfBoth(inputs, targets []float32) (int, error) {
	count, err := rows(inputs, n.InputSize(), "inputs")
	if err != nil {
		return 0, err
	}
	if len(targets) != count*n.OutputSize() {
		return 0, mismatch("targets", len(targets), fmt.Sprint(count*n.OutputSize()))
	}
	return count, nil
}
