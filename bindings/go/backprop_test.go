package backprop

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func small(t *testing.T, seed uint64) *Network {
	t.Helper()
	net, err := New([]int{3, 5, 4}, []int32{BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	return net
}

// status is the status of a failed call, which must carry a message.
func status(t *testing.T, err error) int32 {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("expected an *Error, got %v", err)
	}
	if e.Message == "" {
		t.Fatalf("status %d without a message", e.Status)
	}
	return e.Status
}

func TestErrorsCarryTheStatusAndTheMessage(t *testing.T) {
	net := small(t, 1)
	x, y := make([]float32, 6), []float32{1, 0, 0, 0, 0, 1, 0, 0}
	cases := []struct {
		name string
		want int32
		err  error
	}{
		{"activation count", BP_ERROR_SIZE_MISMATCH, func() error { _, err := New([]int{2, 3}, []int32{BP_TANH, BP_TANH}, BP_LOSS_MSE, 0); return err }()},
		{"activation 99", BP_ERROR_UNKNOWN_ENUM, func() error { _, err := New([]int{2, 3}, []int32{99}, BP_LOSS_MSE, 0); return err }()},
		{"cross-entropy on tanh", BP_ERROR_INVALID_ARCHITECTURE, func() error { _, err := New([]int{2, 3}, []int32{BP_TANH}, BP_LOSS_CROSS_ENTROPY, 0); return err }()},
		{"inputs not whole rows", BP_ERROR_SIZE_MISMATCH, func() error { _, err := net.Predict(make([]float32, 5)); return err }()},
		{"backward before forward", BP_ERROR_STATE, func() error { _, err := net.Backward(y); return err }()},
		{"update without gradients", BP_ERROR_STATE, net.Update(0.1)},
		{"set gradients without backward", BP_ERROR_STATE, net.SetGradients(make([]float32, net.ParameterCount()))},
		{"a NaN input", BP_ERROR_NON_FINITE, func() error { _, err := net.Predict([]float32{0, float32(math.NaN()), 0}); return err }()},
		{"a negative learning rate", BP_ERROR_INVALID_ARGUMENT, func() error { _, err := net.TrainStep(x, y, -1); return err }()},
		{"option 999", BP_ERROR_UNKNOWN_ENUM, net.SetOption(999, 1)},
		{"parameters", BP_ERROR_SIZE_MISMATCH, net.SetParameters(make([]float32, 3))},
		{"a missing file", BP_ERROR_IO, func() error { _, err := Load("/nonexistent/model.bpm"); return err }()},
		{"not a model", BP_ERROR_NOT_A_MODEL, func() error { _, err := FromBytes([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}); return err }()},
		{"not ONNX", BP_ERROR_CORRUPT_MODEL, func() error { _, err := FromONNX([]byte{0x0F, 1, 2}, BP_ONNX_LOSS_AUTO); return err }()},
		{"a C source path", BP_ERROR_INVALID_ARGUMENT, net.ExportCSource("/tmp/x.go", "net", 0)},
	}
	for _, c := range cases {
		if got := status(t, c.err); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if CheckCPU() != nil || !ABIMatches() || Version() != BP_VERSION_STRING {
		t.Error("CheckCPU, ABIMatches or Version")
	}
	closed := small(t, 2)
	closed.Close()
	closed.Close()
	if _, err := closed.Predict(make([]float32, 3)); status(t, err) != BP_ERROR_STATE {
		t.Error("a closed network must refuse with BP_ERROR_STATE")
	}
}

func TestGradientsMatchFiniteDifferences(t *testing.T) {
	net := small(t, 5)
	x := []float32{0.3, -1.2, 0.8, 1.5, 0.1, -0.4}
	y := []float32{0, 1, 0, 0, 0, 0, 0, 1}
	if _, err := net.Forward(x, false); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Backward(y); err != nil {
		t.Fatal(err)
	}
	analytic, _ := net.Gradients()
	theta, _ := net.Parameters()
	doubled := make([]float32, len(analytic))
	for i, g := range analytic {
		doubled[i] = 2 * g
	}
	if err := net.SetGradients(doubled); err != nil { // a data-parallel loop's reduction
		t.Fatal(err)
	}
	if back, _ := net.Gradients(); fmt.Sprint(back) != fmt.Sprint(doubled) {
		t.Error("SetGradients then Gradients")
	}
	worst := 0.0
	for i := range theta {
		const eps = 1e-2
		moved := append([]float32(nil), theta...)
		moved[i] = theta[i] + eps
		net.SetParameters(moved)
		up, _, _ := net.Evaluate(x, y)
		moved[i] = theta[i] - eps
		net.SetParameters(moved)
		down, _, _ := net.Evaluate(x, y)
		numeric := (float64(up) - float64(down)) / (2 * eps)
		worst = math.Max(worst, math.Abs(numeric-float64(analytic[i]))/math.Max(1e-2, math.Abs(numeric)))
	}
	if worst > 2e-2 {
		t.Errorf("worst relative error %g", worst)
	}
}

func blobs(count int, seed uint64) (x, y []float32) {
	state := seed*0x9E3779B97F4A7C15 | 1
	uniform := func() float32 {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return float32(state>>11) / float32(uint64(1)<<53)
	}
	for i := 0; i < count; i++ {
		label := i % 3
		angle := 2.1 * float64(label)
		x = append(x, float32(math.Cos(angle))*2+(uniform()-0.5)*1.6, float32(math.Sin(angle))*2+(uniform()-0.5)*1.6)
		for k := 0; k < 3; k++ {
			if k == label {
				y = append(y, 1)
			} else {
				y = append(y, 0)
			}
		}
	}
	return x, y
}

func TestFitReaches95PercentAndTheCallbackCanStopIt(t *testing.T) {
	net, _ := New([]int{2, 16, 3}, []int32{BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 7)
	defer net.Close()
	net.SetOption(BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM)
	x, y := blobs(600, 1)
	tx, ty := blobs(300, 2)
	options := DefaultFitOptions()
	options.Epochs, options.LearningRate = 40, 0.01
	calls := 0
	history, err := net.Fit(x, y, options, func(r EpochReport) bool { calls++; return r.Epoch < 25 })
	if err != nil || calls != 25 || len(history) != 25 || history[24].Epoch != 25 {
		t.Fatalf("the callback should stop training after 25 epochs: %v, %d calls, %d reports", err, calls, len(history))
	}
	if _, accuracy, _ := net.Evaluate(tx, ty); accuracy < 0.95 {
		t.Errorf("held-out accuracy %g, want at least 0.95", accuracy)
	}
	func() {
		defer func() {
			if value := recover(); value != "from the callback" {
				t.Errorf("the callback's panic should come back out of Fit, got %v", value)
			}
		}()
		net.Fit(x, y, options, func(EpochReport) bool { panic("from the callback") })
	}()
}

func TestPredictOnConcurrentGoroutines(t *testing.T) {
	net := small(t, 9)
	x := make([]float32, 3*64)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	expected, _ := net.Predict(x)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got, err := net.Predict(x)
				if err != nil || !equal(got, expected) {
					t.Error("concurrent Predict gave other results")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestModelsRoundTripThroughBytesONNXAndFiles(t *testing.T) {
	net := small(t, 11)
	x := []float32{0.1, 0.2, 0.3, -1, 0, 1}
	expected, _ := net.Predict(x)
	model, _ := net.ToBytes()
	fromBytes, err := FromBytes(model)
	onnx, _ := net.ToONNX()
	fromONNX, err2 := FromONNX(onnx, BP_ONNX_LOSS_AUTO)
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	file := filepath.Join(t.TempDir(), "model.bpm")
	if err := net.Save(file); err != nil {
		t.Fatal(err)
	}
	fromFile, _ := Load(file)
	for name, other := range map[string]*Network{"bytes": fromBytes, "ONNX": fromONNX, "file": fromFile} {
		if got, _ := other.Predict(x); !equal(got, expected) {
			t.Errorf("%s round trip changed the outputs", name)
		}
		other.Close()
	}
	source := filepath.Join(t.TempDir(), "gonet.c")
	if err := net.ExportCSource(source, "gonet", BP_C_SOURCE_INT8); err != nil {
		t.Fatal(err)
	}
	if header, _ := os.ReadFile(strings.TrimSuffix(source, ".c") + ".h"); !strings.Contains(string(header), "void gonet_predict(") {
		t.Error("the C header lacks gonet_predict")
	}
}

const exchange = `
import sys, numpy as np, backprop
x = np.float32([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])
print(' '.join(repr(float(v)) for v in backprop.Network.load(sys.argv[1]).predict(x).ravel()))
theirs = backprop.Network([3, 6, 2], ['gelu', 'softmax'], loss='cross_entropy', seed=4)
theirs.save(sys.argv[2])
print(' '.join(repr(float(v)) for v in theirs.predict(x).ravel()))
`

func parse(line string) []float32 {
	var out []float32
	for _, field := range strings.Fields(line) {
		v, _ := strconv.ParseFloat(field, 64)
		out = append(out, float32(v))
	}
	return out
}

func TestAModelFileCrossesToPythonAndBack(t *testing.T) {
	pythonpath := os.Getenv("BACKPROP_PYTHONPATH")
	if pythonpath == "" {
		t.Skip("BACKPROP_PYTHONPATH unset: scripts/test-bindings sets it to run the exchange with Python")
	}
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "go.bpm"), filepath.Join(dir, "python.bpm")
	net := small(t, 21)
	net.Save(ours)
	command := exec.Command("python3", "-c", exchange, ours, theirs)
	command.Env = append(os.Environ(), "PYTHONPATH="+pythonpath)
	output, err := command.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(output)), "\n")
	x := []float32{0.5, -1, 2, 0, 0.25, -0.75}
	if mine, _ := net.Predict(x); !equal(parse(lines[0]), mine) {
		t.Error("Python's outputs of the Go model differ")
	}
	fromPython, _ := Load(theirs)
	defer fromPython.Close()
	if got, _ := fromPython.Predict(x); !equal(got, parse(lines[1])) {
		t.Error("Go's outputs of the Python model differ")
	}
}
