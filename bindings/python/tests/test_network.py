"""The Network API: construction, description, parameters, conversions, lifecycle."""

import ctypes
import pickle
from pathlib import Path

import numpy as np
import pytest

import backprop
from backprop import _arrays, _lib


def small(seed=0, **kw):
    return backprop.Network([3, 5, 2], ["tanh", "softmax"], loss="cross_entropy", seed=seed, **kw)


def test_version_and_library():
    assert backprop.version() == "0.1.0"
    assert backprop.abi_version() == 1
    assert backprop.library_path.endswith("libbackprop.so")


def test_description_and_repr():
    net = backprop.Network([784, 256, 10], ["relu", "softmax"], loss="cross_entropy", seed=0)
    count = 784 * 256 + 256 + 256 * 10 + 10
    assert len(net) == count == net.parameter_count
    assert net.layers == (784, 256, 10)
    assert net.activations == ("relu", "softmax")
    assert net.loss == "cross_entropy"
    assert net.input_size == 784 and net.output_size == 10
    assert net.is_classifier
    r = repr(net)
    assert "784, 256, 10" in r and "'relu', 'softmax'" in r and "cross_entropy" in r and str(count) in r
    net.close()
    assert "closed" in repr(net)


def test_library_sizes_match():
    from backprop import _lib

    net = backprop.Network([4, 7, 3, 2], ["relu", "sigmoid", "linear"], seed=1)
    h = net._handle
    assert _lib.lib.bp_layer_count(h) == 4
    assert [_lib.lib.bp_layer_size(h, i) for i in range(5)] == [4, 7, 3, 2, 0]
    assert _lib.lib.bp_input_size(h) == 4
    assert _lib.lib.bp_output_size(h) == 2
    assert _lib.lib.bp_parameter_count(h) == 4 * 7 + 7 + 7 * 3 + 3 + 3 * 2 + 2


def test_names_are_normalised():
    net = backprop.Network([2, 3, 1], ["Leaky-ReLU", "SIGMOID"], loss="cross-entropy")
    assert net.activations == ("leaky_relu", "sigmoid")
    assert net.loss == "cross_entropy"
    assert backprop.Network([2, 3, 2], "tanh").activations == ("tanh", "tanh")
    assert backprop.Network([2, 3, 3], loss="cross_entropy").activations == ("relu", "softmax")
    assert backprop.Network([2, 3, 1]).activations == ("relu", "linear")


def test_same_seed_same_parameters():
    a = backprop.Network([10, 20, 5], ["relu", "softmax"], loss="cross_entropy", seed=42)
    b = backprop.Network([10, 20, 5], ["relu", "softmax"], loss="cross_entropy", seed=42)
    c = backprop.Network([10, 20, 5], ["relu", "softmax"], loss="cross_entropy", seed=43)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert not np.array_equal(a.parameters, c.parameters)
    big = backprop.Network([3, 3], "linear", seed=2**64 - 1)
    assert big.seed == 2**64 - 1
    assert backprop.Network([3, 3], "linear", seed=None).seed >= 0


def test_parameter_layout():
    net = backprop.Network([3, 4, 2], ["relu", "linear"], seed=0)
    p = net.parameters
    assert p.dtype == np.float32 and p.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(net.weights(1), p[:12].reshape(4, 3))
    np.testing.assert_array_equal(net.biases(1), p[12:16])
    np.testing.assert_array_equal(net.weights(2), p[16:24].reshape(2, 4))
    np.testing.assert_array_equal(net.biases(2), p[24:26])
    # copies, not views
    w = net.weights(1)
    w[:] = 0
    assert np.any(net.weights(1) != 0)

    # the layout matches the math: W[j][k] multiplies input k into unit j
    new = np.arange(p.size, dtype=np.float32) / 100
    net.parameters = new
    np.testing.assert_array_equal(net.parameters, new)
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    W1, b1, W2, b2 = net.weights(1), net.biases(1), net.weights(2), net.biases(2)
    expected = W2 @ np.maximum(W1 @ x + b1, 0) + b2
    np.testing.assert_allclose(net.forward(x), expected, rtol=1e-6)


def test_set_weights_and_biases():
    net = backprop.Network([3, 4, 2], ["relu", "linear"], seed=0)
    W = np.full((4, 3), 0.5)
    net.set_weights(1, W)
    np.testing.assert_array_equal(net.weights(1), W)
    net.set_biases(2, [1, 2])
    np.testing.assert_array_equal(net.biases(2), [1, 2])
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\); expected \(4, 3\)"):
        net.set_weights(1, W.T)
    with pytest.raises(ValueError, match="b has shape"):
        net.set_biases(1, [1, 2])
    with pytest.raises(ValueError, match=r"expected a layer index in 1\.\.2"):
        net.weights(0)
    with pytest.raises(ValueError, match=r"1\.\.2"):
        net.biases(3)
    with pytest.raises(ValueError, match="finite"):
        net.set_biases(1, [1, np.nan, 0, 0])


def test_zero_copy_rules():
    x = np.zeros((4, 3), dtype=np.float32)
    assert _arrays.as_float32(x, "X") is x  # passed straight through
    assert _arrays.as_inputs(x, 3)[0] is x
    assert _arrays.as_targets(x, 4, 3, False, 'linear') is x
    for other in [x.astype(np.float64), np.asfortranarray(np.zeros((4, 3), np.float32)), x[:, ::1][::2], x.tolist(),
                  x.astype(">f4")]:
        if isinstance(other, np.ndarray) and _arrays.is_zero_copy(other):
            continue
        converted = _arrays.as_float32(other, "X")
        assert converted.dtype == np.float32 and converted.flags.c_contiguous
        assert converted is not other


def test_conversions_give_same_results():
    net = small()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3)).astype(np.float32)
    expected = net.forward(X)
    np.testing.assert_array_equal(net.forward(X.astype(np.float64)), expected)
    np.testing.assert_array_equal(net.forward(X.tolist()), expected)
    np.testing.assert_array_equal(net.forward(np.asfortranarray(X)), expected)
    wide = np.zeros((6, 6), dtype=np.float32)
    wide[:, ::2] = X
    np.testing.assert_array_equal(net.forward(wide[:, ::2]), expected)  # non-contiguous view
    np.testing.assert_array_equal(net.forward(X.astype(">f4")), expected)
    ints = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(net.forward(ints), net.forward(np.array([[1.0, 2.0, 3.0]], np.float32)))


def test_arguments_point_at_the_arrays_data():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    frozen = x.copy()
    frozen.setflags(write=False)  # cannot be shared writable: the pointer() fallback
    for arr, shared in ((x, True), (x[1:], True), (frozen, False)):
        arg = _arrays.argument(arr)
        if shared:  # a c_float over the data, which ctypes passes by reference
            assert isinstance(arg, ctypes.c_float) and ctypes.addressof(arg) == arr.ctypes.data
        else:
            assert ctypes.cast(arg, ctypes.c_void_p).value == arr.ctypes.data
        assert _lib.FLOAT_P.from_param(arg) is not None  # accepted for a float * parameter


def test_read_only_arrays_are_used_as_they_are():
    net = small()
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 3)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0, 1]]
    expected = net.forward(X)
    loss = small().train_step(X, Y, 0.1)
    X.setflags(write=False)
    Y.setflags(write=False)
    assert _arrays.as_inputs(X, 3)[0] is X and _arrays.as_targets(Y, 5, 2, True, "softmax") is Y
    np.testing.assert_array_equal(net.forward(X), expected)
    np.testing.assert_array_equal(net.predict(X), expected)
    np.testing.assert_array_equal(net.predict(X, batch_size=2), expected)
    assert net.backward(Y) == loss
    assert small().train_step(X, Y, 0.1) == loss


def test_single_sample_is_batch_of_one():
    net = small()
    x = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    out = net.forward(x)
    assert out.shape == (2,)
    np.testing.assert_array_equal(out, net.forward(x[None, :])[0])
    loss = net.backward([1.0, 0.0])  # one target row for the batch of one
    assert np.isfinite(loss)
    assert net.predict_classes(x).shape == ()
    net.forward(x)
    assert net.backward(np.array([0])) == pytest.approx(loss)  # a class label


def test_outputs_are_new_arrays():
    net = small()
    X = np.ones((2, 3), dtype=np.float32)
    a = net.forward(X)
    b = net.forward(X)
    assert a is not b and not np.shares_memory(a, b)
    np.testing.assert_allclose(a.sum(axis=1), 1, rtol=1e-6)  # softmax rows


def test_labels_are_one_hot_encoded():
    net = backprop.Network([3, 4, 3], ["relu", "softmax"], loss="cross_entropy", seed=1)
    X = np.random.default_rng(1).normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    net.forward(X)
    a = net.backward(labels)
    g1 = net.gradients
    net.forward(X)
    b = net.backward(np.eye(3)[labels])
    assert a == b
    np.testing.assert_array_equal(g1, net.gradients)
    with pytest.raises(ValueError, match=r"Y\[1\] is 3; class labels must be in 0\.\.2"):
        net.train_step(X, [0, 3, 1, 1, 0], 0.1)

    binary = backprop.Network([3, 4, 1], ["relu", "sigmoid"], loss="cross_entropy", seed=1)
    la = binary.train_step(X, np.array([0, 1, 1, 0, 1]), 0.0)
    lb = binary.train_step(X, np.array([[0], [1], [1], [0], [1]], np.float32), 0.0)
    assert la == lb
    with pytest.raises(ValueError, match="labels 0 or 1"):
        binary.train_step(X, np.array([0, 2, 1, 0, 1]), 0.1)


def test_regression_targets_1d():
    net = backprop.Network([2, 8, 1], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(10, 2))
    y = X.sum(axis=1)
    l1 = net.train_step(X, y, 0.0)
    l2 = net.train_step(X, y[:, None], 0.0)
    assert l1 == l2


def test_predict_and_classes():
    net = small()
    X = np.random.default_rng(2).normal(size=(9, 3))
    out = net.predict(X)
    np.testing.assert_array_equal(out, net.forward(X))
    np.testing.assert_allclose(net.predict(X, batch_size=4), out, rtol=1e-6)
    np.testing.assert_array_equal(net.predict_classes(X), np.argmax(out, axis=1))
    sig = backprop.Network([3, 1], ["sigmoid"], loss="cross_entropy", seed=0)
    np.testing.assert_array_equal(sig.predict_classes(X), (sig.predict(X)[:, 0] >= 0.5).astype(int))
    with pytest.raises(ValueError, match="predict_classes"):
        backprop.Network([3, 1], ["linear"]).predict_classes(X)


def test_gradients_before_backward_is_state_error():
    net = small()
    with pytest.raises(backprop.StateError) as info:
        net.gradients
    assert info.value.status == 8
    assert info.value.message  # bp_last_error() text


def test_context_manager_and_close():
    with small() as net:
        assert not net.closed
    assert net.closed
    net.close()  # idempotent
    with pytest.raises(backprop.StateError, match="closed"):
        net.forward(np.zeros((1, 3)))
    with pytest.raises(backprop.StateError):
        len(net)
    with pytest.raises(backprop.StateError):
        net.parameters
    with pytest.raises(backprop.StateError):
        net.parameters = np.zeros(3 * 5 + 5 + 5 * 2 + 2)
    with pytest.raises(backprop.StateError):
        net.update(0.1)
    with pytest.raises(backprop.StateError):
        net.fit(np.zeros((2, 3)), [0, 1], epochs=1, verbose=0)
    with pytest.raises(backprop.StateError):
        net.predict(np.zeros((1, 3)))
    with pytest.raises(backprop.StateError):
        net.evaluate(np.zeros((1, 3)), [0])
    with pytest.raises(backprop.StateError):
        with net:
            pass


def test_pickle_round_trip():
    """Pickles carry the model bytes (to_bytes): exact, optimizer and its state included."""
    net = small(seed=9)
    net.set_optimizer("nesterov", momentum=0.5)
    net.train_step(np.ones((2, 3)), [0, 1], 0.1)
    copy = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(copy.parameters, net.parameters)
    assert copy.layers == net.layers and copy.activations == net.activations and copy.loss == net.loss
    assert copy.seed == 9 and copy.options == net.options
    assert copy.to_bytes() == net.to_bytes()
    assert copy.train_step(np.ones((2, 3)), [1, 0], 0.1) == net.train_step(np.ones((2, 3)), [1, 0], 0.1)
    np.testing.assert_array_equal(copy.parameters, net.parameters)


def test_predict_is_inference_only():
    net = small()
    X = np.random.default_rng(3).normal(size=(4, 3))
    out = net.predict(X)
    np.testing.assert_array_equal(out, net.forward(X))
    net.predict(X[:2])  # keeps nothing: backward still uses the forward's batch of 4
    assert np.isfinite(net.backward([0, 1, 1, 0]))
    fresh = small()
    fresh.predict(X)
    with pytest.raises(backprop.StateError):
        fresh.backward([0, 1, 1, 0])  # no forward yet


def test_evaluate():
    net = small()
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    y = rng.integers(0, 2, 50)
    loss, accuracy = net.evaluate(X, y)
    out = net.predict(X)
    assert accuracy == pytest.approx(np.mean(np.argmax(out, axis=1) == y), abs=1e-6)
    assert loss == pytest.approx(-np.mean(np.log(out[np.arange(50), y])), rel=1e-5)
    assert net.evaluate(X, np.eye(2)[y]) == (loss, accuracy)
    assert net.score(X, y) == accuracy
    assert loss == pytest.approx(net.train_step(X, y, 0.0), rel=1e-6)  # the mean loss training reports
    reg = backprop.Network([3, 4, 2], ["relu", "linear"], seed=0)
    Y = rng.normal(size=(50, 2))
    loss, accuracy = reg.evaluate(X, Y)
    assert accuracy is None  # not a classifier
    assert loss == pytest.approx(np.mean(0.5 * np.sum((reg.predict(X) - Y) ** 2, axis=1)), rel=1e-5)
    assert reg.score(X, Y) == loss
    sig = backprop.Network([3, 1], ["sigmoid"], loss="cross_entropy", seed=0)
    labels = rng.integers(0, 2, 50)
    assert sig.evaluate(X, labels)[1] == pytest.approx(np.mean(sig.predict_classes(X) == labels), abs=1e-6)
    with pytest.raises(ValueError, match=r"Y has shape \(49,\)"):
        net.evaluate(X, y[:49])


def test_is_classifier_is_the_librarys_rule():
    """is_classifier holds exactly for the networks bp_evaluate() reports an accuracy for:
    a softmax or sigmoid output of any width, with either loss it allows."""
    X = np.random.default_rng(5).normal(size=(6, 3)).astype(np.float32)
    for out in backprop.ACTIVATIONS:
        for width in (1, 3):
            for loss in ("mse", "cross_entropy"):
                if loss == "cross_entropy" and out not in ("softmax", "sigmoid"):
                    continue  # InvalidArchitectureError
                net = backprop.Network([3, 4, width], ["tanh", out], loss=loss, seed=1)
                Y = np.zeros((6, width), np.float32)
                Y[:, 0] = 1
                _, accuracy = net.evaluate(X, Y)
                assert net.is_classifier == (accuracy is not None), (out, width, loss)
                assert net.is_classifier == (out in ("softmax", "sigmoid"))


def one_hot_of(classes, width):
    """Targets whose class (by the library's rule) is `classes`."""
    if width == 1:
        return classes.astype(np.float32).reshape(-1, 1)
    return np.eye(width, dtype=np.float32)[classes]


@pytest.mark.parametrize("out,width", [("softmax", 4), ("sigmoid", 4), ("sigmoid", 1), ("linear", 3)])
def test_predict_classes_agrees_with_evaluate(out, width):
    """Each sample's predicted class is the one bp_evaluate() counts as correct, ties included:
    zero parameters give equal outputs (softmax 1/4 each, sigmoid exactly 0.5)."""
    loss = "mse" if out == "linear" else "cross_entropy"
    net = backprop.Network([3, 5, width], ["relu", out], loss=loss, seed=2)
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    for params in (net.parameters, np.zeros(len(net), np.float32)):
        net.parameters = params
        classes = net.predict_classes(X)
        if out == "linear":  # not a classifier: no accuracy to agree with
            assert net.evaluate(X, one_hot_of(classes, width))[1] is None
            continue
        for i in range(len(X)):
            assert net.evaluate(X[i : i + 1], one_hot_of(classes[i : i + 1], width))[1] == 1.0, (params[:3], i)
        assert net.score(X, classes) == 1.0
    assert set(classes) == {1 if width == 1 else 0}  # the ties: 0.5 is class 1, else the lowest index


def test_docs_list_every_activation():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    summary = readme[readme.index("* `activations`") : readme.index("* `loss`")]
    for name in backprop.ACTIVATIONS:
        assert f'"{name}"' in backprop.Network.__doc__, name
        assert f"`{name}`" in summary, name
