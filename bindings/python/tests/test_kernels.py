"""bp_kernels(): the library picks its matrix kernels once per process, and the AVX-512
tile and the portable tile give bit-identical results; so do the products that skip the
zeros of a ReLU layer's a^l and δ^l and the dense ones (BACKPROP_SPARSE=off)."""

import subprocess
import sys

import pytest

import backprop

# Trains, evaluates and backpropagates through shapes that put every tile edge of both
# kernels (8 × 32 and 6 × 16) in play, half-width last panels included (n = 48, 24), on
# one and two threads, and prints the kernels used and a digest of every float produced.
# The last shape's negative hidden biases switch most units off, so that the products with
# its hidden a^l and δ^l skip their zeros (past the block edges: 280 units, 540 samples,
# 300 inputs, 70 columns; ∂C/∂W^1 is large enough to be split across two threads). The
# script checks that under 40% of those a^l are nonzero, which is what the library asks.
SCRIPT = r"""
import hashlib
import numpy as np
import backprop

shapes = [
    ([784, 256, 128, 10], ["relu", "relu", "softmax"], 128, None),
    ([300, 37, 7], ["tanh", "softmax"], 13, None),
    ([20, 70, 33, 3], ["sigmoid", "leaky_relu", "softmax"], 270, None),
    ([100, 50, 17], ["relu", "sigmoid"], 1, None),
    ([48, 24, 5], ["relu", "softmax"], 64, None),
    ([300, 280, 70, 10], ["relu", "relu", "softmax"], 540, (-1.2, -0.2)),
]
digest = hashlib.sha256()
for threads in (1, 2):
    for layers, activations, batch, hidden_biases in shapes:
        rng = np.random.default_rng(len(layers) * 1000 + batch)
        net = backprop.Network(layers, activations, loss="cross_entropy", seed=7)
        net.threads = threads
        if hidden_biases:
            p = net.parameters
            end = 0
            for l, bias in enumerate(hidden_biases, start=1):
                end += layers[l] * layers[l - 1] + layers[l]
                p[end - layers[l]:end] = bias
            net.parameters = p
            a = rng.random((batch, layers[0]), dtype=np.float32)
            for l in range(1, len(hidden_biases) + 1):
                start = sum(layers[i] * layers[i - 1] + layers[i] for i in range(1, l))
                W = p[start:start + layers[l] * layers[l - 1]].reshape(layers[l], layers[l - 1])
                a = np.maximum(a @ W.T + hidden_biases[l - 1], 0)
                assert (a > 0).mean() < 0.4, (l, (a > 0).mean())
            rng = np.random.default_rng(len(layers) * 1000 + batch)
        X = rng.random((4 * batch, layers[0]), dtype=np.float32)
        y = rng.integers(0, layers[-1], 4 * batch)
        for step in range(3):
            net.train_step(X[step * batch:(step + 1) * batch], y[step * batch:(step + 1) * batch], 0.05)
        digest.update(net.forward(X).tobytes())
        net.forward(X[:batch])
        net.backward(y[:batch])
        digest.update(net.gradients.tobytes())
        digest.update(net.parameters.tobytes())
print(backprop.kernels(), digest.hexdigest())
"""


def run(subprocess_env, kernels, sparse=None):
    env = dict(subprocess_env)
    env.pop("BACKPROP_KERNELS", None)
    env.pop("BACKPROP_SPARSE", None)
    if kernels is not None:
        env["BACKPROP_KERNELS"] = kernels
    if sparse is not None:
        env["BACKPROP_SPARSE"] = sparse
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    name, digest = result.stdout.split()
    return name, digest


def test_kernels_names_one_of_the_two_kernel_sets():
    assert backprop.kernels() in ("avx512", "portable")
    assert backprop.kernels() == backprop.kernels()


def test_the_environment_forces_the_portable_kernels(subprocess_env):
    assert run(subprocess_env, "portable")[0] == "portable"


def test_both_kernel_sets_give_bit_identical_results(subprocess_env):
    chosen, chosen_digest = run(subprocess_env, None)
    portable, portable_digest = run(subprocess_env, "portable")
    assert portable == "portable"
    if chosen == "portable":
        pytest.skip("this CPU has no AVX-512: only the portable kernels can run here")
    assert chosen == "avx512"
    assert chosen_digest == portable_digest


def test_skipping_the_zeros_of_relu_layers_gives_bit_identical_results(subprocess_env):
    assert run(subprocess_env, None)[1] == run(subprocess_env, None, sparse="off")[1]
