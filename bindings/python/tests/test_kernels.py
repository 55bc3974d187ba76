"""bp_kernels(): the library picks its matrix kernels once per process, and the AVX-512
tile and the portable tile give bit-identical results."""

import subprocess
import sys

import pytest

import backprop

# Trains, evaluates and backpropagates through shapes that put every tile edge of both
# kernels (8 × 32 and 6 × 16) in play, half-width last panels included (n = 48, 24), on
# one and two threads, and prints the kernels used and a digest of every float produced.
SCRIPT = r"""
import hashlib
import numpy as np
import backprop

shapes = [
    ([784, 256, 128, 10], ["relu", "relu", "softmax"], 128),
    ([300, 37, 7], ["tanh", "softmax"], 13),
    ([20, 70, 33, 3], ["sigmoid", "leaky_relu", "softmax"], 270),
    ([100, 50, 17], ["relu", "sigmoid"], 1),
    ([48, 24, 5], ["relu", "softmax"], 64),
]
digest = hashlib.sha256()
for threads in (1, 2):
    for layers, activations, batch in shapes:
        rng = np.random.default_rng(len(layers) * 1000 + batch)
        net = backprop.Network(layers, activations, loss="cross_entropy", seed=7)
        net.threads = threads
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


def run(subprocess_env, kernels):
    env = dict(subprocess_env)
    env.pop("BACKPROP_KERNELS", None)
    if kernels is not None:
        env["BACKPROP_KERNELS"] = kernels
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
