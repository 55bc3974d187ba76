"""Network.to_c_source (bp_export_c_source): the generated C99 compiles under the strictest
warnings and the sanitizers, computes what predict() does for every activation and
scaling, keeps a classifier's accuracy within one point with int8 weights, and refuses
bad prefixes, paths and options."""

import os
import shutil
import subprocess

import numpy as np
import pytest

import backprop as bp

CC = shutil.which(os.environ.get("CC", "cc"))
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-fsanitize=address,undefined,float-cast-overflow",
         "-fno-sanitize-recover=all"]
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")

#: Reads samples of PREFIX_INPUT_SIZE floats from stdin, writes their outputs to stdout.
DRIVER = """#include <stdio.h>
#include "{prefix}.h"
int main(void)
{{
    float x[{upper}_INPUT_SIZE], y[{upper}_OUTPUT_SIZE];
    while (fread(x, sizeof x, 1, stdin) == 1) {{
        {prefix}_predict(x, y);
        fwrite(y, sizeof y, 1, stdout);
    }}
    return 0;
}}
"""


def compiled_outputs(net, X, directory, prefix="net", **options):
    """The generated program's outputs for the rows of X, compiled with FLAGS."""
    net.to_c_source(directory / f"{prefix}.c", prefix=prefix, **options)
    (directory / "driver.c").write_text(DRIVER.format(prefix=prefix, upper=prefix.upper()))
    program = directory / "predict"
    build = subprocess.run([CC, *FLAGS, f"{prefix}.c", "driver.c", "-o", str(program), "-lm"],
                           cwd=directory, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(program)], input=np.ascontiguousarray(X, np.float32).tobytes(), capture_output=True,
                         timeout=60, env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1"})
    assert run.returncode == 0, run.stderr.decode()
    return np.frombuffer(run.stdout, np.float32).reshape(len(X), net.output_size)


def random_inputs(rows, width, seed=1):
    return (np.random.default_rng(seed).normal(size=(rows, width)) * 2).astype(np.float32)


HIDDEN = [name for name in bp.ACTIVATIONS if name != "softmax"]


@pytest.mark.parametrize("output", list(bp.ACTIVATIONS))
def test_float_source_computes_what_predict_does_for_every_activation(tmp_path, output):
    net = bp.Network([5, *[4] * len(HIDDEN), 3], [*HIDDEN, output], loss="mse", seed=3)
    X = random_inputs(40, 5)
    np.testing.assert_allclose(compiled_outputs(net, X, tmp_path), net.predict(X), rtol=0, atol=1e-5)


@pytest.mark.parametrize("target_scaling", [False, True])
def test_the_scalings_are_in_the_source(tmp_path, target_scaling):
    net = bp.Network([3, 6, 2], ["tanh", "linear"], loss="mse", seed=4)
    net.set_input_scaling(np.float32([1, -2, 0.5]), np.float32([0.5, 2, 4]))
    if target_scaling:
        net.set_target_scaling(np.float32([3, -1]), np.float32([0.5, 2]))
    X = random_inputs(30, 3)
    np.testing.assert_allclose(compiled_outputs(net, X, tmp_path), net.predict(X), rtol=0, atol=1e-5)
    without = bp.Network([3, 6, 2], ["tanh", "linear"], loss="mse", seed=4)
    assert np.abs(compiled_outputs(without, X, tmp_path) - net.predict(X)).max() > 1e-2  # the scaling matters


def blobs(rows, seed):
    """Ten overlapping Gaussian classes in 16 dimensions."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(size=(10, 16)) * 0.9
    labels = rng.integers(0, 10, rows)
    X = (centers[labels] + rng.normal(size=(rows, 16))).astype(np.float32)
    return X, np.eye(10, dtype=np.float32)[labels], labels


def test_int8_weights_keep_the_accuracy_within_one_point(tmp_path):
    X, Y, _ = blobs(3000, 1)
    X_test, _, labels = blobs(2000, 2)
    net = bp.Network([16, 64, 32, 10], ["relu", "relu", "softmax"], loss="cross_entropy", seed=5)
    net.set_optimizer("adam")
    net.fit(X, Y, epochs=15, batch_size=32, learning_rate=0.01, verbose=0)
    accuracy = {"float": np.mean(net.predict(X_test).argmax(1) == labels)}
    for name, options in {"int8": {"int8": True}, "int8-int32": {"int8": True, "accumulate": "int32"}}.items():
        outputs = compiled_outputs(net, X_test, tmp_path, **options)
        accuracy[name] = np.mean(outputs.argmax(1) == labels)
        assert abs(outputs - net.predict(X_test)).max() > 1e-6  # the weights are quantised
    print("test accuracy:", {name: f"{value:.4f}" for name, value in accuracy.items()})
    assert 0.7 < accuracy["float"] < 0.97  # a task hard enough for small errors to matter
    for name in ("int8", "int8-int32"):
        assert abs(accuracy[name] - accuracy["float"]) <= 0.01, accuracy


def test_int8_inputs_too_small_for_a_step_are_zeros_not_undefined_casts(tmp_path):
    """softplus(-100) is subnormal: its int8 step once divided to infinity and cast out of
    range (undefined in C99; -fsanitize=float-cast-overflow aborts)."""
    net = bp.Network([1, 1, 1], ["softplus", "linear"], loss="mse", seed=0)
    net.parameters = np.float32([-5, 0, 1, 0.5])
    X = np.float32([[19], [20], [20.5], [1e-44], [0.3]])
    np.testing.assert_allclose(compiled_outputs(net, X, tmp_path, int8=True, accumulate="int32"), net.predict(X),
                               rtol=0, atol=1e-2)


def c_array(source, name):
    """The values of `static const <type> name[n] = {...};` in a generated source."""
    body = source.split(f" {name}[", 1)[1].split("{", 1)[1].split("}", 1)[0]
    return np.array([float(value.strip().rstrip("f")) for value in body.split(",")])


def test_int8_rows_are_symmetric_with_one_scale_per_unit(tmp_path):
    net = bp.Network([6, 9, 2], ["relu", "linear"], loss="mse", seed=8)
    net.set_weights(1, np.vstack([net.weights(1)[:8], np.zeros(6, np.float32)]))  # a row of zeros
    net.to_c_source(tmp_path / "q.c", prefix="q", int8=True)
    source = (tmp_path / "q.c").read_text()
    q, s = c_array(source, "q_w1").reshape(9, 6), c_array(source, "q_s1")
    W = net.weights(1).astype(np.float64)
    np.testing.assert_array_equal(np.abs(q[:8]).max(axis=1), 127)  # the largest weight of a row is ±127
    np.testing.assert_allclose(s[:8], np.abs(W[:8]).max(axis=1) / 127, rtol=1e-6)
    assert (np.abs(q * s[:, None] - W) <= s[:, None] / 2 * (1 + 1e-6)).all()  # rounded to the nearest step
    assert (q[8] == 0).all() and s[8] == 1


def test_the_header_states_the_stack_and_the_sizes(tmp_path):
    net = bp.Network([7, 30, 4], ["relu", "softmax"], loss="cross_entropy", seed=6)
    net.to_c_source(tmp_path / "tiny.c", prefix="tiny")
    header = (tmp_path / "tiny.h").read_text()
    assert "uses 240 bytes of automatic storage" in header  # two rows of the 30 widest units
    assert "#define TINY_INPUT_SIZE 7" in header and "#define TINY_OUTPUT_SIZE 4" in header
    net.to_c_source(tmp_path / "tiny.c", prefix="tiny", int8=True, accumulate="int32")
    assert "uses 270 bytes" in (tmp_path / "tiny.h").read_text()  # and an int8 row


def test_workload_a_source_size(tmp_path):
    """The 784-256-128-10 network of workload A: ~15 bytes of text per float parameter, ~4 per int8 one."""
    net = bp.Network([784, 256, 128, 10], ["relu", "relu", "softmax"], loss="cross_entropy", seed=7)
    sizes = {}
    for name, options in {"float": {}, "int8": {"int8": True}}.items():
        net.to_c_source(tmp_path / "a.c", prefix="a", **options)
        sizes[name] = (tmp_path / "a.c").stat().st_size
    count = net.parameters.size
    print(f"workload A ({count} parameters): float source {sizes['float']} bytes, int8 source {sizes['int8']} bytes")
    assert sizes["float"] / count < 17 and sizes["int8"] / count < 5


@pytest.mark.parametrize("arguments,error,message", [
    ({"prefix": "9lives"}, bp.InvalidArgumentError, "not a C identifier"),
    ({"prefix": "_x"}, bp.InvalidArgumentError, "not a C identifier"),
    ({"prefix": "a-b"}, bp.InvalidArgumentError, "not a C identifier"),
    ({"prefix": "x" * 64}, bp.InvalidArgumentError, "not a C identifier"),
    ({"accumulate": "int32"}, ValueError, "needs int8=True"),
    ({"accumulate": "double"}, ValueError, "expected 'float' or 'int32'"),
])
def test_bad_options_are_refused_and_write_nothing(tmp_path, arguments, error, message):
    net = bp.Network([2, 3, 1], ["relu", "linear"], loss="mse", seed=0)
    with pytest.raises(error, match=message):
        net.to_c_source(tmp_path / "m.c", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_the_path_must_end_in_c(tmp_path):
    net = bp.Network([2, 3, 1], ["relu", "linear"], loss="mse", seed=0)
    with pytest.raises(bp.InvalidArgumentError, match=r'does not end in "\.c"'):
        net.to_c_source(tmp_path / "m.cpp")
    with pytest.raises(bp.ModelIOError):
        net.to_c_source(tmp_path / "missing" / "m.c")
