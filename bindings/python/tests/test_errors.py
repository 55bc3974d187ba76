"""Bad input raises the documented exception, and never crashes the interpreter."""

import ctypes
import pickle
import subprocess
import sys

import numpy as np
import pytest

import backprop
from backprop import _lib, errors


def net3():
    return backprop.Network([3, 4, 2], ["relu", "softmax"], loss="cross_entropy", seed=0)


# ---------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(layers=[3, 4, 2], activations=["relu", "bogus"]), r"activations\[1\] is 'bogus'; expected one of: 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear', 'softmax'"),
        (dict(layers=[3, 2], activations=[7]), r"activations\[0\] is 7"),
        (dict(layers=[3, 2], activations="nope"), r"activations is 'nope'"),
        (dict(layers=[3, 2], activations=["relu"], loss="hinge"), r"loss is 'hinge'; expected one of: 'mse', 'cross_entropy'"),
        (dict(layers=[3, 4, 2], activations=["relu"]), r"activations has 1 entries; expected 2"),
        (dict(layers=[3], activations=[]), r"layers has 1 entries; expected at least 2"),
        (dict(layers=[3, -1], activations=["relu"]), r"layers\[1\] is -1"),
        (dict(layers=[3, 0], activations=["relu"]), r"layers\[1\] is 0"),
        (dict(layers=[3, 2.5], activations=["relu"]), r"layers\[1\] is 2\.5; expected an integer"),
        (dict(layers="3,2", activations=["relu"]), r"layers is '3,2'"),
        (dict(layers=[3, 2], activations=["relu"], seed=-1), r"seed is -1"),
        (dict(layers=[3, 2], activations=["relu"], seed=2**64), r"seed is"),
    ],
)
def test_bad_construction_is_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        backprop.Network(**kwargs)


def test_invalid_architecture_from_library():
    with pytest.raises(backprop.InvalidArchitectureError) as info:
        backprop.Network([3, 4, 2], ["softmax", "linear"])  # softmax on a hidden layer
    assert info.value.status == errors.BP_ERROR_INVALID_ARCHITECTURE
    assert info.value.message and isinstance(info.value, ValueError)
    with pytest.raises(backprop.InvalidArchitectureError):
        backprop.Network([3, 2], ["linear"], loss="cross_entropy")
    with pytest.raises(backprop.InvalidArchitectureError):
        backprop.Network([3, 2], ["relu"], loss="cross_entropy")


def test_size_overflow_from_library():
    with pytest.raises(backprop.SizeOverflowError) as info:
        backprop.Network([3, (1 << 24) + 1], ["linear"])
    assert info.value.status == errors.BP_ERROR_SIZE_OVERFLOW
    with pytest.raises(backprop.SizeOverflowError):
        backprop.Network([2] * 1025, "linear")


# ---------------------------------------------------------------- arrays


@pytest.mark.parametrize(
    "X,match",
    [
        (np.zeros((3, 5)), r"X has shape \(3, 5\); expected \(batch, 3\)"),
        (np.zeros(5), r"X has shape \(5,\); expected \(batch, 3\), or \(3,\) for one sample"),
        (np.zeros((2, 3, 1)), r"X has shape \(2, 3, 1\)"),
        (np.float32(1.0), r"X has shape \(\)"),
        (np.zeros((0, 3)), r"X is empty \(shape \(0, 3\)\)"),
        ([], r"X is empty"),
        (np.array([["a", "b", "c"]]), r"X has dtype <U1; expected real numbers"),
        (np.ones((2, 3), dtype=complex), r"X has complex dtype complex128"),
        (np.array([[1, None, 3]], dtype=object), r"X has dtype object"),
        ([[1, 2, 3], [4, 5]], r"X cannot be read as a numeric array"),
        (np.array([[1, np.nan, 3]]), r"X\[0, 1\] is nan; every value must be finite"),
        (np.array([[1, 2, np.inf]], dtype=np.float32), r"X\[0, 2\] is inf"),
        (np.array([[1, 2, 1e300]]), r"X\[0, 2\] is inf"),  # beyond float32
    ],
)
def test_bad_inputs(X, match):
    net = net3()
    with pytest.raises(ValueError, match=match):
        net.forward(X)
    with pytest.raises(ValueError, match=match):
        net.train_step(X, np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match=match):
        net.predict(X)


@pytest.mark.parametrize(
    "Y,match",
    [
        (np.zeros((2, 3)), r"Y has shape \(2, 3\); expected \(2, 2\)"),
        (np.zeros((3, 2)), r"Y has shape \(3, 2\); expected \(2, 2\)"),
        (np.zeros(3), r"Y has shape \(3,\); expected \(2, 2\)"),
        (np.zeros((0, 2)), r"Y is empty"),
        (np.array([[0, 1], [1, np.nan]]), r"Y\[1, 1\] is nan"),
        (np.array([[0, 1j], [1, 0]]), r"Y has complex dtype"),
        ([["x", "y"], ["z", "w"]], r"Y has dtype <U1"),
        (np.array([0, 5]), r"Y\[1\] is 5; class labels must be in 0\.\.1"),
        (np.array([-1, 0]), r"Y\[0\] is -1"),
    ],
)
def test_bad_targets(Y, match):
    net = net3()
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match=match):
        net.train_step(X, Y, 0.1)
    net.forward(X)
    with pytest.raises(ValueError, match=match):
        net.backward(Y)
    with pytest.raises(ValueError, match=match):
        net.fit(X, Y, epochs=1, verbose=0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_found_by_the_library(value):
    """forward, predict, train_step and backward leave NaN/Inf to the library, then raise
    the ValueError a check up front gives: anywhere in the batch, and nothing changed."""
    net = net3()
    X = np.ones((37, 3), np.float32)  # the last row is past the library's 16-wide blocks
    Y = np.tile(np.float32([1, 0]), (37, 1))
    bad_x, bad_y = X.copy(), Y.copy()
    bad_x[36, 2] = value
    bad_y[36, 1] = value
    text = {"nan": "nan", "inf": "inf", "-inf": "-inf"}[str(value)]
    x_error = rf"X\[36, 2\] is {text}; every value must be finite \(no NaN or infinity"
    y_error = rf"Y\[36, 1\] is {text}; every value must be finite"
    before = net.parameters
    for call, match in [
        (lambda: net.forward(bad_x), x_error),
        (lambda: net.predict(bad_x), x_error),
        (lambda: net.predict(bad_x, batch_size=5), x_error),  # refused in the last chunk
        (lambda: net.train_step(bad_x, Y, 0.1), x_error),
        (lambda: net.train_step(X, bad_y, 0.1), y_error),
        (lambda: net.train_step(bad_x, bad_y, 0.1), x_error),
        (lambda: net.forward(bad_x[36]), rf"X\[0, 2\] is {text}"),  # one sample
    ]:
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert type(info.value) is ValueError  # the binding's, not the library's NonFiniteError
        assert info.value.__context__ is None or info.value.__suppress_context__  # not shown as "during handling"
    np.testing.assert_array_equal(net.parameters, before)
    net.forward(X)
    with pytest.raises(ValueError, match=y_error):
        net.backward(bad_y)
    assert np.isfinite(net.backward(Y))  # the forward's activations were kept


def test_non_finite_values_keep_their_precedence():
    """Found after the call, NaN/Inf still come before the errors a check up front
    would never have reached."""
    net = net3()
    nan_x = np.array([[1, np.nan, 3]], np.float32)
    nan_y = np.array([[np.nan, 1]], np.float32)
    x_error, y_error = r"X\[0, 1\] is nan", r"Y\[0, 0\] is nan"
    with pytest.raises(ValueError, match=x_error):
        net.train_step(nan_x, [5], 0.1)  # and a class label out of range
    with pytest.raises(ValueError, match=y_error):
        net.train_step(np.ones((1, 3)), nan_y, "fast")
    with pytest.raises(ValueError, match=y_error) as info:
        net.train_step(np.ones((1, 3)), nan_y, -1.0)  # not the library's InvalidArgumentError
    assert type(info.value) is ValueError
    with pytest.raises(ValueError, match=x_error):
        net.predict(nan_x, batch_size=0)
    with pytest.raises(ValueError, match=y_error) as info:
        net.backward(nan_y)  # before any forward: not a StateError
    assert type(info.value) is ValueError
    net.close()
    for call, match in [
        (lambda: net.forward(nan_x), x_error),
        (lambda: net.predict(nan_x), x_error),
        (lambda: net.train_step(nan_x, [1], 0.1), x_error),
        (lambda: net.backward(nan_y), y_error),
    ]:
        with pytest.raises(ValueError, match=match):  # not "the network is closed"
            call()


def test_refused_forward_keeps_the_previous_batch():
    net = net3()
    net.forward(np.ones((2, 3)))
    bad = np.ones((3, 3))
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"X\[1, 1\] is inf"):
        net.forward(bad)
    with pytest.raises(ValueError, match=r"Y has shape \(3, 2\); expected \(2, 2\)"):
        net.backward(np.zeros((3, 2)) + [1, 0])  # checked against the last forward that ran
    assert np.isfinite(net.backward([0, 1]))


def test_bad_parameters():
    net = net3()
    n = len(net)
    with pytest.raises(ValueError, match=rf"parameters has shape \({n - 1},\); expected \({n},\)"):
        net.parameters = np.zeros(n - 1)
    with pytest.raises(ValueError, match=r"parameters has shape"):
        net.parameters = np.zeros((1, n))
    bad = np.zeros(n)
    bad[4] = np.inf
    before = net.parameters
    with pytest.raises(ValueError, match=r"parameters\[4\] is inf"):
        net.parameters = bad
    np.testing.assert_array_equal(net.parameters, before)


def test_learning_rate_errors():
    net = net3()
    X, Y = np.ones((2, 3)), [0, 1]
    before = net.parameters
    with pytest.raises(backprop.InvalidArgumentError) as info:
        net.train_step(X, Y, -0.1)
    assert info.value.status == errors.BP_ERROR_INVALID_ARGUMENT and info.value.message
    np.testing.assert_array_equal(net.parameters, before)  # validated before anything changed
    with pytest.raises(backprop.NonFiniteError):
        net.train_step(X, Y, float("nan"))
    with pytest.raises(backprop.NonFiniteError):
        net.train_step(X, Y, float("inf"))
    with pytest.raises(ValueError, match="learning_rate is 'fast'"):
        net.train_step(X, Y, "fast")
    with pytest.raises(ValueError, match="learning_rate is 1j"):
        net.train_step(X, Y, 1j)
    with pytest.raises(ValueError, match="learning_rate is -1"):
        net.fit(X, Y, epochs=1, learning_rate=-1, verbose=0)
    np.testing.assert_array_equal(net.parameters, before)

    net.forward(X)
    net.backward(Y)
    with pytest.raises(backprop.InvalidArgumentError):
        net.update(-1.0)
    net.update(0.0)  # allowed, changes nothing
    np.testing.assert_array_equal(net.parameters, before)


def test_state_errors():
    net = net3()
    X = np.ones((2, 3))
    with pytest.raises(backprop.StateError):
        net.backward([0, 1])  # no forward yet
    with pytest.raises(backprop.StateError):
        net.update(0.1)  # no gradients
    net.forward(X)
    with pytest.raises(ValueError, match=r"Y has shape \(3, 2\); expected \(2, 2\)"):
        net.backward(np.zeros((3, 2)) + [1, 0])  # caught in Python: batch differs from the forward
    Y3 = np.zeros((3, 2), np.float32)
    status = _lib.lib.bp_backward(net._handle, Y3.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), 3, None)
    assert status == errors.BP_ERROR_STATE  # ... and by the library
    net.forward(X)
    net.backward([0, 1])
    net.update(0.1)
    with pytest.raises(backprop.StateError):
        net.update(0.1)  # each gradient is applied once
    with pytest.raises(backprop.StateError):
        net.backward([0, 1])  # needs a new forward after update


def test_fit_argument_errors():
    net = net3()
    X, y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    for kwargs, match in [
        (dict(epochs=-1), "epochs is -1"),
        (dict(epochs=1.5), "epochs is 1.5"),
        (dict(batch_size=0), "batch_size is 0"),
        (dict(callback=5), "callback is 5"),
        (dict(validation_data=np.ones(3)), "validation_data must be a pair"),
        (dict(validation_data=(np.ones((2, 4)), [0, 1])), r"validation_data\[0\] has shape \(2, 4\)"),
        (dict(validation_data=(np.ones((2, 3)), [0, 1, 1])), r"validation_data\[1\] has shape \(3,\)"),
    ]:
        with pytest.raises(ValueError, match=match):
            net.fit(X, y, verbose=0, **kwargs)
    with pytest.raises(ValueError, match=r"Y has shape \(3,\)"):
        net.fit(X, y[:3], verbose=0)


def test_error_classes_map_every_status():
    expected = {
        1: backprop.NullArgumentError,
        2: backprop.InvalidArgumentError,
        3: backprop.UnknownEnumError,
        4: backprop.InvalidArchitectureError,
        5: backprop.SizeMismatchError,
        6: backprop.SizeOverflowError,
        7: backprop.NonFiniteError,
        8: backprop.StateError,
        9: backprop.OutOfMemoryError,
        10: backprop.DivergedError,
        11: backprop.BufferTooSmallError,
        12: backprop.ModelIOError,
        13: backprop.NotAModelError,
        14: backprop.UnsupportedVersionError,
        15: backprop.TruncatedModelError,
        16: backprop.ChecksumMismatchError,
        17: backprop.CorruptModelError,
        18: backprop.UnsupportedModelError,
        19: backprop.UnsupportedCPUError,
        20: backprop.PeerFailedError,
    }
    also = {10: FloatingPointError, 11: ValueError, 12: OSError, 13: ValueError, 14: ValueError, 15: ValueError,
            16: ValueError, 17: ValueError, 18: ValueError, 19: RuntimeError,
            20: RuntimeError}
    for status, cls in expected.items():
        err = errors.error_for_status(status, "msg", "bp_x")
        assert type(err) is cls and isinstance(err, backprop.BackpropError)
        assert err.status == status and err.message == "msg" and str(err) == "bp_x: msg"
        assert cls.STATUS == status and cls.__name__ in backprop.__all__
        assert isinstance(err, also.get(status, Exception))
        assert _lib.status_string(status) not in ("", "unknown status")
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is cls and str(copy) == str(err)
    io = errors.error_for_status(12, "cannot open m.bpm: No such file or directory", "bp_load")
    io.filename = "m.bpm"
    assert str(io) == "bp_load: cannot open m.bpm: No such file or directory"  # not OSError's "[Errno None]" form
    assert pickle.loads(pickle.dumps(io)).filename == "m.bpm"
    assert _lib.status_string(21) == _lib.status_string(99)  # the first unknown one
    assert type(errors.error_for_status(99, "m")) is backprop.BackpropError
    assert _lib.status_string(99)  # "unknown status"
    assert _lib.status_string(0)


# ---------------------------------------------------------------- the C contract through ctypes


def test_fit_structs_mirror_the_header():
    assert ctypes.sizeof(_lib.bp_fit_options) == _lib.fit_options().struct_size
    if ctypes.sizeof(ctypes.c_void_p) == 8:  # LP64: the offsets of the header's fields
        offsets = {name: getattr(_lib.bp_fit_options, name).offset for name, _ in _lib.bp_fit_options._fields_}
        assert offsets == {
            "struct_size": 0, "epochs": 8, "batch_size": 16, "learning_rate": 24, "shuffle": 28, "seed": 32,
            "validation_inputs": 40, "validation_targets": 48, "validation_count": 56, "patience": 64,
            "min_delta": 72, "restore_best": 76, "target_loss": 80, "progress": 88, "user_data": 96,
            "sample_weights": 104, "validation_weights": 112, "gradient_hook": 120, "reduce_hook": 128,
        }
        assert ctypes.sizeof(_lib.bp_fit_options) == 136 and ctypes.sizeof(_lib.bp_epoch_report) == 24
    defaults = _lib.fit_options()
    assert (defaults.epochs, defaults.batch_size, defaults.shuffle, defaults.seed, defaults.patience) == (10, 32, 1, 0, 0)
    assert defaults.learning_rate == pytest.approx(0.01) and defaults.restore_best == 1
    assert defaults.target_loss == 0 and defaults.min_delta == 0 and not defaults.progress
    assert not defaults.gradient_hook and not defaults.reduce_hook


def test_layout_check_catches_a_mismatched_struct(monkeypatch):
    fields = list(_lib.bp_fit_options._fields_)

    class Shorter(ctypes.Structure):  # the struct without its last field
        _fields_ = fields[:-1]

    monkeypatch.setattr(_lib, "bp_fit_options", Shorter)
    with pytest.raises(ImportError, match=r"sizeof\(bp_fit_options\) is 120 bytes, this binding's mirror of the struct is 128"):
        _lib._check_fit_options_layout()

    class Swapped(ctypes.Structure):  # same size, two fields exchanged
        _fields_ = [fields[0], fields[2], fields[1]] + fields[3:]

    monkeypatch.setattr(_lib, "bp_fit_options", Swapped)
    with pytest.raises(ImportError, match="epochs = 32 .expected 10.; batch_size = 10 .expected 32."):
        _lib._check_fit_options_layout()
    monkeypatch.undo()
    _lib._check_fit_options_layout()  # the real mirror passes


def test_c_functions_reject_null_and_bad_counts():
    lib = _lib.lib
    F = ctypes.POINTER(ctypes.c_float)
    assert lib.bp_forward(None, None, 1, None) == errors.BP_ERROR_NULL_ARGUMENT
    assert _lib.last_error()
    lib.bp_destroy(None)  # no-op
    for fn in (lib.bp_input_size, lib.bp_output_size, lib.bp_parameter_count, lib.bp_layer_count):
        assert fn(None) == 0
    assert lib.bp_layer_size(None, 0) == 0
    assert lib.bp_update(None, 0.1) == errors.BP_ERROR_NULL_ARGUMENT

    net = net3()
    h = net._handle
    buf = (ctypes.c_float * 100)()
    assert lib.bp_get_parameters(h, ctypes.cast(buf, F), 5) == errors.BP_ERROR_SIZE_MISMATCH
    assert "5" in _lib.last_error() or "count" in _lib.last_error()
    assert lib.bp_set_parameters(h, ctypes.cast(buf, F), 100) == errors.BP_ERROR_SIZE_MISMATCH
    assert lib.bp_get_parameters(h, None, len(net)) == errors.BP_ERROR_NULL_ARGUMENT
    assert lib.bp_forward(h, ctypes.cast(buf, F), 0, None) == errors.BP_ERROR_INVALID_ARGUMENT
    assert lib.bp_forward(h, None, 1, None) == errors.BP_ERROR_NULL_ARGUMENT
    assert lib.bp_forward(h, ctypes.cast(buf, F), 1, None) == 0  # outputs may be NULL
    nan = (ctypes.c_float * 3)(float("nan"), 0, 0)
    assert lib.bp_forward(h, ctypes.cast(nan, F), 1, None) == errors.BP_ERROR_NON_FINITE

    sizes = (ctypes.c_size_t * 2)(3, 2)
    acts = (ctypes.c_int32 * 1)(42)
    out = ctypes.c_void_p(1234)
    assert lib.bp_create(sizes, 2, acts, 0, 0, ctypes.byref(out)) == errors.BP_ERROR_UNKNOWN_ENUM
    assert not out.value  # NULL on failure
    acts[0] = 4
    assert lib.bp_create(sizes, 2, acts, 9, 0, ctypes.byref(out)) == errors.BP_ERROR_UNKNOWN_ENUM
    assert lib.bp_create(None, 2, acts, 0, 0, ctypes.byref(out)) == errors.BP_ERROR_NULL_ARGUMENT
    assert lib.bp_create(sizes, 2, acts, 0, 0, None) == errors.BP_ERROR_NULL_ARGUMENT
    assert lib.bp_create(sizes, 1, acts, 0, 0, ctypes.byref(out)) == errors.BP_ERROR_INVALID_ARGUMENT


def test_failed_forward_keeps_the_previous_activations():
    """A failed call changes nothing (backprop.h): the activations of the last good
    bp_forward() stay usable by bp_backward()."""
    net = net3()
    h = net._handle
    F = ctypes.POINTER(ctypes.c_float)
    X = np.ones((2, 3), np.float32)
    Y = np.array([[1, 0], [0, 1]], np.float32)
    bad = X.copy()
    bad[0, 0] = np.inf
    assert _lib.lib.bp_forward(h, X.ctypes.data_as(F), 2, None) == 0
    assert _lib.lib.bp_forward(h, bad.ctypes.data_as(F), 2, None) == errors.BP_ERROR_NON_FINITE
    assert _lib.lib.bp_backward(h, Y.ctypes.data_as(F), 2, None) == 0


def test_failed_calls_change_nothing():
    net = net3()
    h = net._handle
    F = ctypes.POINTER(ctypes.c_float)
    X = np.ones((2, 3), np.float32)
    Y = np.array([[1, 0], [0, 1]], np.float32)
    bad_y = Y.copy()
    bad_y[1, 1] = np.nan
    before = net.parameters
    assert _lib.lib.bp_train_step(h, X.ctypes.data_as(F), bad_y.ctypes.data_as(F), 2, 0.1, None) == errors.BP_ERROR_NON_FINITE
    assert "targets" in _lib.last_error()
    np.testing.assert_array_equal(net.parameters, before)
    bad_p = before.copy()
    bad_p[3] = np.nan
    assert _lib.lib.bp_set_parameters(h, bad_p.ctypes.data_as(F), bad_p.size) == errors.BP_ERROR_NON_FINITE
    assert "parameters" in _lib.last_error()
    np.testing.assert_array_equal(net.parameters, before)
    # set_parameters discards pending gradients and kept activations
    net.forward(X)
    net.backward(Y)
    net.parameters = before
    with pytest.raises(backprop.StateError):
        net.gradients
    with pytest.raises(backprop.StateError):
        net.update(0.1)
    with pytest.raises(backprop.StateError):
        net.backward(Y)


def test_last_error_is_thread_local():
    import threading

    net3()
    lib = _lib.lib
    lib.bp_forward(None, None, 1, None)
    here = _lib.last_error()
    seen = {}

    def other():
        seen["before"] = _lib.last_error()
        backprop_error = None
        try:
            backprop.Network([3, 2], ["softmax_typo"])
        except ValueError as exc:
            backprop_error = exc
        sizes = (ctypes.c_size_t * 2)(3, 0)
        acts = (ctypes.c_int32 * 1)(4)
        out = ctypes.c_void_p()
        lib.bp_create(sizes, 2, acts, 0, 0, ctypes.byref(out))
        seen["after"] = _lib.last_error()
        seen["py"] = backprop_error

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen["before"] == ""  # a new thread has no error yet
    assert seen["after"] and seen["after"] != here
    assert _lib.last_error() == here  # unchanged by the other thread


# ---------------------------------------------------------------- no crash, proven in a child process

PRELUDE = """
import ctypes, gc, numpy as np, backprop
from backprop import _lib
lib = _lib.lib
F = ctypes.POINTER(ctypes.c_float)
net = backprop.Network([3, 4, 2], ["relu", "softmax"], loss="cross_entropy")
"""

NASTY = {
    "closed network": """
net.close()
for call in (lambda: net.forward(np.zeros((1, 3))), lambda: net.train_step(np.zeros((1, 3)), [1], 0.1),
             lambda: net.parameters, lambda: net.gradients, lambda: net.update(0.1), lambda: net.weights(1),
             lambda: len(net), lambda: net.predict(np.zeros(3)), lambda: net.backward([1])):
    try:
        call()
    except backprop.StateError:
        pass
    else:
        raise SystemExit("no StateError")
net.close(); del net; gc.collect()
""",
    "bad arrays": """
for bad in (np.full((2, 3), np.nan, np.float32), np.ones((2, 3), complex), np.array([["a"] * 3]),
            np.empty((0, 3), np.float32), np.ones((10**6, 2), np.float32), [[1, 2], [3]], None, object()):
    try:
        net.train_step(bad, np.zeros((2, 2)), 0.1)
    except ValueError:
        pass
    else:
        raise SystemExit(f"accepted {bad!r}")
""",
    "NULL pointers to C": """
assert lib.bp_train_step(net._handle, None, None, 1, 0.1, None) == 1
assert lib.bp_backward(net._handle, None, 1, None) != 0
assert lib.bp_get_gradients(net._handle, None, 0) != 0
assert lib.bp_set_parameters(net._handle, None, 0) != 0
assert lib.bp_forward(net._handle, ctypes.cast(ctypes.c_void_p(8), F), 0, None) == 2  # batch 0: nothing read
lib.bp_destroy(None)
""",
    "NULL and bad sizes to the newer C functions": """
h = net._handle
X = np.ones((4, 3), np.float32); Y = np.array([[1, 0]] * 4, np.float32); out = np.empty((4, 2), np.float32)
P = lambda a: a.ctypes.data_as(F)
size = ctypes.c_size_t()
assert lib.bp_save_to_buffer(h, None, 0, ctypes.byref(size)) == 0 and size.value > 100
small = ctypes.create_string_buffer(10)
written = ctypes.c_size_t()
assert lib.bp_save_to_buffer(h, small, 10, ctypes.byref(written)) == 11  # BP_ERROR_BUFFER_TOO_SMALL
assert written.value == size.value and "10" in _lib.last_error()
assert lib.bp_save_to_buffer(h, small, 10, None) == 1
assert lib.bp_save_to_buffer(None, None, 0, ctypes.byref(written)) == 1
out_h = ctypes.c_void_p(1234)
assert lib.bp_load_from_buffer(None, 10, ctypes.byref(out_h)) == 1 and not out_h.value
assert lib.bp_load_from_buffer(b"x", 1, None) == 1
assert lib.bp_save(h, None) == 1 and lib.bp_load(None, ctypes.byref(out_h)) == 1
assert lib.bp_predict(h, P(X), 0, P(out)) == 2 and lib.bp_predict(h, P(X), 4, None) == 1
assert lib.bp_predict(None, P(X), 4, P(out)) == 1
assert lib.bp_predict(h, P(X), (1 << 64) - 1, P(out)) == 6
assert lib.bp_evaluate(h, P(X), P(Y), 0, None, None) == 2 and lib.bp_evaluate(h, P(X), None, 4, None, None) == 1
assert lib.bp_evaluate(h, P(X), P(Y), 4, None, None) == 0  # loss and accuracy may be NULL
assert lib.bp_thread_count(None) == 0 and lib.bp_set_threads(None, 1) == 1 and lib.bp_set_threads(h, 257) == 2
opts = _lib.fit_options()
assert lib.bp_fit(h, P(X), P(Y), 4, None, None, 0, None) == 1
opts.struct_size = 8
assert lib.bp_fit(h, P(X), P(Y), 4, ctypes.byref(opts), None, 0, None) == 2 and "struct_size" in _lib.last_error()
opts = _lib.fit_options(); opts.epochs = 0
assert lib.bp_fit(h, P(X), P(Y), 4, ctypes.byref(opts), None, 0, None) == 2
opts = _lib.fit_options(); opts.validation_count = 3  # and NULL validation arrays
assert lib.bp_fit(h, P(X), P(Y), 4, ctypes.byref(opts), None, 0, None) == 1
opts = _lib.fit_options(); opts.learning_rate = float("nan")
assert lib.bp_fit(h, P(X), P(Y), 4, ctypes.byref(opts), None, 0, None) != 0
opts = _lib.fit_options(); opts.epochs = 3
run = ctypes.c_size_t()
assert lib.bp_fit(h, P(X), P(Y), 4, ctypes.byref(opts), None, 0, ctypes.byref(run)) == 0 and run.value == 3
hist = (_lib.bp_epoch_report * 1)()
assert lib.bp_fit(h, P(X), P(Y), 4, ctypes.byref(opts), hist, 1, ctypes.byref(run)) == 0 and run.value == 3
assert hist[0].epoch == 1  # only as many reports as the capacity
""",
    "size_t overflow": """
buf = (ctypes.c_float * 3)()
assert lib.bp_forward(net._handle, ctypes.cast(buf, F), (1 << 64) - 1, None) == 6
assert lib.bp_forward(net._handle, ctypes.cast(buf, F), 1 << 63, None) == 6
assert lib.bp_train_step(net._handle, ctypes.cast(buf, F), ctypes.cast(buf, F), 1 << 63, 0.1, None) == 6
""",
    "1 PiB network": """
try:
    backprop.Network([1, 1 << 24, 1 << 24], "linear")  # 2**48 parameters
except (backprop.OutOfMemoryError, backprop.SizeOverflowError):
    pass
else:
    raise SystemExit("a 1 PiB network was created")
""",
    "64 TiB forward": """
wide = backprop.Network([1, 1 << 24], "linear")  # 64 MiB of parameters: fine
x = np.zeros((1 << 20, 1), np.float32)  # 4 MiB of inputs, but 64 TiB of activations
status = lib.bp_forward(wide._handle, x.ctypes.data_as(F), x.shape[0], None)  # outputs NULL
assert status in (6, 9), status
try:
    wide.forward(x)  # here numpy cannot allocate the 64 TiB output array either
except MemoryError:
    pass
wide.forward(x[:2])  # and the network still works afterwards
""",
}


@pytest.mark.parametrize("name", list(NASTY))
def test_nasty_calls_do_not_crash(name, subprocess_env):
    script = PRELUDE + NASTY[name] + "\nprint('survived')\n"
    result = subprocess.run([sys.executable, "-c", script], env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{name}: exit {result.returncode}\n{result.stderr[-3000:]}"
    assert "survived" in result.stdout


def test_bad_library_override_is_import_error(subprocess_env, tmp_path):
    env = dict(subprocess_env)
    env["BACKPROP_LIBRARY"] = str(tmp_path / "missing.so")
    result = subprocess.run([sys.executable, "-c", "import backprop"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "BACKPROP_LIBRARY" in result.stderr
    not_a_lib = tmp_path / "libbackprop.so"
    not_a_lib.write_text("not an ELF file")
    env["BACKPROP_LIBRARY"] = str(not_a_lib)
    result = subprocess.run([sys.executable, "-c", "import backprop"], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "could not be loaded" in result.stderr
