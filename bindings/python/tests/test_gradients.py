"""The library's outputs, losses and gradients against reference.py (numpy float64)."""

import zlib

import numpy as np
import pytest

import backprop
import reference

HIDDEN = [name for name in backprop.ACTIVATIONS if name != "softmax"]
# Every output activation x loss combination backprop.h allows.
OUTPUT_LOSS = [(loss, out) for loss in ("mse", "huber", "l1") for out in HIDDEN + ["softmax"]] + [
    ("cross_entropy", "sigmoid"),
    ("cross_entropy", "softmax"),
]


def make_targets(rng, loss, out, m, n):
    if out == "softmax":
        if loss == "cross_entropy":
            return np.eye(n, dtype=np.float32)[rng.integers(0, n, m)]
        return rng.dirichlet(np.ones(n), m).astype(np.float32)
    if out == "sigmoid":
        if loss == "cross_entropy":
            # soft targets exercise the (1 - y) ln(1 - a) term too
            return rng.uniform(0, 1, (m, n)).astype(np.float32)
        return rng.uniform(0, 1, (m, n)).astype(np.float32)
    return rng.normal(0, 1, (m, n)).astype(np.float32)


def assert_close(actual, expected, what, rtol=1e-4, floor=1e-6):
    """rtol 1e-4 with an absolute floor of `floor` x the largest |expected|."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected))), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=floor * scale, err_msg=what)


def check_network(layers, activations, loss, seed, m=7):
    rng = np.random.default_rng(seed)
    with backprop.Network(layers, activations, loss=loss, seed=seed) as net:
        # Non-zero biases, so that the bias path matters.
        params = net.parameters
        params += rng.normal(0, 0.1, params.size).astype(np.float32) * (params == 0)
        net.parameters = params
        X = rng.normal(0, 1, (m, layers[0])).astype(np.float32)
        Y = make_targets(rng, loss, activations[-1], m, layers[-1])

        outputs = net.forward(X)
        got_loss = net.backward(Y)
        grads = net.gradients

        ref_grads, ref_loss, ref_out = reference.gradients(layers, activations, loss, params, X, Y)
        what = f"{layers} {activations} {loss}"
        assert_close(outputs, ref_out, "outputs " + what, rtol=1e-5)
        assert_close(got_loss, ref_loss, "loss " + what)
        assert_close(grads, ref_grads, "gradients " + what)

        # update applies W <- W - eta dC/dW
        net.update(0.5)
        assert_close(net.parameters, params.astype(np.float64) - 0.5 * grads, "update " + what, rtol=1e-6)
        # gradients stay available after update
        np.testing.assert_array_equal(net.gradients, grads)

        # train_step = forward + backward + update, and reports the loss before the update
        params2 = net.parameters
        ref_grads2, ref_loss2, _ = reference.gradients(layers, activations, loss, params2, X, Y)
        step_loss = net.train_step(X, Y, 0.25)
        assert_close(step_loss, ref_loss2, "train_step loss " + what)
        assert_close(net.gradients, ref_grads2, "train_step gradients " + what)
        assert_close(net.parameters, params2.astype(np.float64) - 0.25 * net.gradients, "train_step update " + what, rtol=1e-6)


@pytest.mark.parametrize("loss,out", OUTPUT_LOSS, ids=[f"{l}-{o}" for l, o in OUTPUT_LOSS])
def test_single_layer(loss, out):
    check_network([5, 4], [out], loss, seed=1)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss,out", OUTPUT_LOSS, ids=[f"{l}-{o}" for l, o in OUTPUT_LOSS])
def test_hidden_layers(loss, out, hidden):
    check_network([4, 6, 5, 3], [hidden, hidden, out], loss, seed=zlib.crc32(f"{loss}{out}{hidden}".encode()) % 1000)


@pytest.mark.parametrize("loss,out", OUTPUT_LOSS, ids=[f"{l}-{o}" for l, o in OUTPUT_LOSS])
def test_mixed_hidden_layers(loss, out):
    widths = [8, 7, 6, 5, 4, 6, 5, 7, 6, 5, 4][: len(HIDDEN)]
    check_network([3, *widths, 2], HIDDEN + [out], loss, seed=7, m=11)


@pytest.mark.parametrize("hidden", ["gelu", "silu"])
def test_gelu_and_silu_over_their_whole_range(hidden):
    """Weighted inputs from about -8 to 8 (GELU and SiLU read z itself, and bend most near 0),
    in a wide layer, against the float64 reference."""
    for loss, out in (("mse", "linear"), ("cross_entropy", "softmax")):
        rng = np.random.default_rng(21)
        with backprop.Network([4, 64, 3], [hidden, out], loss=loss, seed=2) as net:
            params = net.parameters
            params[: 4 * 64] = rng.normal(0, 2.0, 4 * 64)  # W^1: z^1 spans several units of Φ
            net.parameters = params
            X = rng.normal(0, 1, (32, 4)).astype(np.float32)
            Y = make_targets(rng, loss, out, 32, 3)
            outputs = net.forward(X)
            got_loss = net.backward(Y)
            ref_grads, ref_loss, ref_out = reference.gradients(net.layers, net.activations, loss, params, X, Y)
            z = reference.forward(net.layers, net.activations, params, X)[0][0]
            assert z.min() < -5 and z.max() > 5  # the whole range was visited
            what = f"{hidden} {out} {loss}"
            assert_close(outputs, ref_out, "outputs " + what, rtol=1e-5)
            assert_close(got_loss, ref_loss, "loss " + what)
            assert_close(net.gradients, ref_grads, "gradients " + what)


def test_reference_activations():
    """reference.py itself: known values, and each σ' against a central difference of σ."""
    np.testing.assert_allclose(reference.activate("gelu", np.array([-1.0, 0.0, 1.0, 3.0])),
                               [-0.15865525393145707, 0.0, 0.8413447460685429, 2.9959503059051097], rtol=1e-12)
    np.testing.assert_allclose(reference.activate("silu", np.array([-1.0, 0.0, 2.0])),
                               [-0.2689414213699951, 0.0, 1.7615941559557649], rtol=1e-12)
    z = np.linspace(-6, 6, 241) + 0.0125  # no sample at relu's kink
    h = 1e-6
    for name in HIDDEN:
        numeric = (reference.activate(name, z + h) - reference.activate(name, z - h)) / (2 * h)
        np.testing.assert_allclose(reference.derivative(name, z), numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("out", ["sigmoid", "softmax"])
def test_batch_of_one_and_single_output(out):
    check_network([6, 5, 1] if out == "sigmoid" else [6, 5, 3], ["tanh", out], "cross_entropy", seed=3, m=1)
    check_network([6, 5, 1], ["relu", "linear"], "mse", seed=4, m=1)


def test_larger_batch():
    check_network([10, 32, 16, 4], ["relu", "tanh", "softmax"], "cross_entropy", seed=11, m=64)


def test_bp_create_initialisation_follows_header():
    """bp_create()'s scheme (he_glorot_uniform): biases 0; weights uniform in [-r, r],
    Glorot r = sqrt(6/(n_in+n_out)) except He r = sqrt(6/n_in) for the rectifier layers;
    fill most of that range.  test_initialization.py covers the other schemes."""
    layers = [50, 40, 30, 20, 10, 30, 20, 5, 3]
    acts = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "gelu", "silu", "softmax"]
    # He for the rectifiers and their smooth relatives GELU and SiLU (bp_create() in backprop.h).
    he = ("relu", "leaky_relu", "gelu", "silu")
    net = backprop.Network(layers, acts, loss="cross_entropy", seed=5, init="he_glorot_uniform")
    for l, act in enumerate(acts, start=1):
        n_in, n_out = layers[l - 1], layers[l]
        r = np.sqrt(6 / n_in) if act in he else np.sqrt(6 / (n_in + n_out))
        W = net.weights(l)
        assert np.all(np.abs(W) <= r * (1 + 1e-6)), (l, act, np.abs(W).max(), r)
        assert np.abs(W).max() > 0.5 * r, (l, act, np.abs(W).max(), r)
        assert abs(W.mean()) < 4 * r / np.sqrt(3 * W.size), (l, act)  # 4 standard errors
        np.testing.assert_array_equal(net.biases(l), 0)
