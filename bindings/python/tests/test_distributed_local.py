"""The parts of data-parallel training that need no MPI job: the gradients setter
(bp_set_gradients) and shard().  The collectives themselves are tested under mpirun
(tests/mpi, scripts/test-mpi)."""

import numpy as np
import pytest

import backprop
from backprop import distributed


class FakeComm:
    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


def test_set_gradients_replaces_what_update_applies():
    X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[np.arange(8) % 2]
    a = backprop.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
    b = backprop.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
    with pytest.raises(backprop.StateError):
        a.gradients = np.zeros(a.parameter_count)
    a.forward(X)
    a.backward(Y)
    with pytest.raises(ValueError, match="shape"):
        a.gradients = np.zeros(a.parameter_count - 1)
    bad = a.gradients
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        a.gradients = bad
    a.gradients = a.gradients * 3  # the reduction of a hand-written loop
    a.update(0.1)
    b.forward(X)
    b.backward(Y)
    b.update(0.3)
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=1e-6, atol=1e-7)
    with pytest.raises(backprop.StateError):
        a.gradients = np.zeros(a.parameter_count)  # already applied


def test_shard_deals_rows_in_turn():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    parts = [distributed.shard(X, y, comm=FakeComm(r, 3)) for r in range(3)]
    assert [p[1].tolist() for p in parts] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert np.array_equal(parts[1][0], X[1::3])
    assert distributed.shard(y, comm=FakeComm(0, 2)).tolist() == [0, 2, 4, 6, 8]
    with pytest.raises(ValueError, match="same length"):
        distributed.shard(X, y[:5], comm=FakeComm(0, 2))
    with pytest.raises(ValueError, match="at least one"):
        distributed.shard(comm=FakeComm(0, 2))
