"""A model file shared between the Python package and the C++ binding: each side saves a
network and prints its outputs, the other loads it and must print the same bits.

    python3 exchange.py CXX_TEST_PROGRAM DIRECTORY
"""

import subprocess
import sys
from pathlib import Path

import numpy as np

import backprop

INPUTS = np.float32([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])  # test_backprop.cpp's exchange_inputs


def outputs(text):
    return np.float32([float(line) for line in text.split()])


def main(program, directory):
    directory = Path(directory)
    from_cpp = directory / "from-cpp.bpm"
    written = outputs(subprocess.run([program, "--write-model", str(from_cpp)], check=True, capture_output=True, text=True).stdout)
    loaded = backprop.Network.load(from_cpp).predict(INPUTS).ravel()
    assert np.array_equal(loaded, written), f"Python's outputs {loaded} differ from C++'s {written}"
    net = backprop.Network([3, 6, 2], ["gelu", "softmax"], loss="cross_entropy", seed=4)
    net.save(directory / "from-python.bpm")
    read = outputs(subprocess.run([program, "--check-model", str(directory / "from-python.bpm")], check=True,
                                  capture_output=True, text=True).stdout)
    assert np.array_equal(read, net.predict(INPUTS).ravel()), f"C++'s outputs {read} differ from Python's"
    print(f"model files: C++ -> Python and Python -> C++ give the same {written.size + read.size} outputs, bit for bit")


if __name__ == "__main__":
    main(*sys.argv[1:])
