"""Data-parallel training over MPI (backprop.distributed, fit(comm=...)), run by every
process of an ``mpirun -np 2`` job: replicas against one network on the whole batches,
identical replicas and histories, unequal shards, early stopping, global standardising
and class weights, and failures on one process that end fit on every process."""

import time

import numpy as np
import pytest
from mpi4py import MPI

import backprop
from backprop import distributed

COMM = MPI.COMM_WORLD
RANK, SIZE = COMM.Get_rank(), COMM.Get_size()
ARCH = ([6, 12, 3], ["tanh", "softmax"], "cross_entropy")


def data(rows=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5)
    return X, y


def relative_difference(a, b):
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def same_on_every_rank(value) -> bool:
    values = COMM.allgather(value)
    return all(np.array_equal(np.asarray(v), np.asarray(values[0])) for v in values)


def network(optimizer="sgd", seed=1):
    net = backprop.Network(*ARCH, seed=seed)
    net.set_optimizer(optimizer)
    net.threads = 1
    return net


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_matches_one_network_on_the_whole_batches(optimizer):
    X, y = data()
    Xs, ys = distributed.shard(X, y, comm=COMM)
    net = network(optimizer, seed=1 + RANK)  # rank 0's parameters are broadcast first
    history = net.fit(Xs, ys, epochs=8, batch_size=8, learning_rate=0.05, shuffle=False, comm=COMM, verbose=0)
    whole = network(optimizer)
    reference = whole.fit(X, y, epochs=8, batch_size=8 * SIZE, learning_rate=0.05, shuffle=False, verbose=0)
    assert relative_difference(net.parameters, whole.parameters) <= 1e-6
    assert same_on_every_rank(net.parameters) and same_on_every_rank(net.to_bytes())
    assert same_on_every_rank(history["loss"])
    np.testing.assert_allclose(history["loss"], reference["loss"], rtol=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_manual_loop_matches_one_network(optimizer):
    X, y = data(seed=3)
    Xs, ys = distributed.shard(X, y, comm=COMM)
    net = network(optimizer, seed=10 + RANK)
    distributed.broadcast_parameters(net, COMM)
    whole = network(optimizer, seed=10)
    b = 10
    for step in range(len(Xs) // b):
        net.forward(Xs[step * b:(step + 1) * b])
        net.backward(ys[step * b:(step + 1) * b])
        assert distributed.allreduce_gradients(net, COMM, weight=b) == b * SIZE
        net.update(0.05)
        whole.train_step(X[step * b * SIZE:(step + 1) * b * SIZE], y[step * b * SIZE:(step + 1) * b * SIZE], 0.05)
    assert relative_difference(net.parameters, whole.parameters) <= 1e-6
    assert same_on_every_rank(net.parameters)


def test_broadcast_parameters_copies_the_optimizer_state():
    X, y = data(rows=40)
    net = network("adam", seed=RANK)
    net.fit(X[RANK::SIZE], y[RANK::SIZE], epochs=1, batch_size=4, seed=RANK, verbose=0)  # different states
    threads = net.threads
    distributed.broadcast_parameters(net, COMM)
    assert same_on_every_rank(net.to_bytes())
    assert net.threads == threads


def test_unequal_shards_finish_with_identical_replicas():
    X, y = data(rows=100)
    rows = 70 if RANK == 0 else 30 // (SIZE - 1)
    start = 0 if RANK == 0 else 70 + (RANK - 1) * rows
    net = network("adam")
    history = net.fit(X[start:start + rows], y[start:start + rows], epochs=4, batch_size=8, seed=5, comm=COMM,
                      verbose=0)
    assert len(history["loss"]) == 4
    assert same_on_every_rank(net.parameters) and same_on_every_rank(history["loss"])


def test_early_stopping_stops_every_rank_at_the_same_epoch():
    X, y = data(rows=300, seed=7)
    Xs, ys = distributed.shard(X[:200], y[:200], comm=COMM)
    Xv, yv = distributed.shard(X[200:], y[200:], comm=COMM)
    net = network("adam")
    history = net.fit(Xs, ys, epochs=300, batch_size=4, learning_rate=0.05, validation_data=(Xv, yv), patience=3,
                      seed=1, comm=COMM, verbose=0)
    epochs = len(history["loss"])
    assert epochs < 300
    assert same_on_every_rank(epochs) and same_on_every_rank(history["val_loss"])
    assert same_on_every_rank(net.parameters)


def test_standardize_and_balanced_weights_use_every_shard():
    X, y = data(rows=120, seed=2)
    X = X * 3 + 1
    Xs, ys = distributed.shard(X, y, comm=COMM)
    net = network()
    net.fit(Xs, ys, epochs=1, batch_size=8, standardize=True, class_weight="balanced", seed=0, comm=COMM, verbose=0)
    shift, scale = net.input_scaling
    whole = network()
    whole.standardize(X)
    np.testing.assert_allclose(shift, whole.input_scaling[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scale, whole.input_scaling[1], rtol=1e-5)
    assert same_on_every_rank(shift) and same_on_every_rank(net.parameters)


def test_a_callback_error_on_one_rank_ends_fit_on_every_rank():
    X, y = data()
    Xs, ys = distributed.shard(X, y, comm=COMM)
    net = network()

    def callback(epoch, logs):
        if RANK == SIZE - 1 and epoch == 1:
            raise KeyError("the callback of the last rank")

    start = time.monotonic()
    expected = KeyError if RANK == SIZE - 1 else backprop.PeerFailedError
    with pytest.raises(expected) as caught:
        net.fit(Xs, ys, epochs=50, batch_size=8, callback=callback, comm=COMM, verbose=0)
    assert time.monotonic() - start < 30
    if RANK != SIZE - 1:
        assert f"rank {SIZE - 1}" in str(caught.value) and "KeyError" in str(caught.value)
    assert same_on_every_rank(net.parameters)  # stopped after the same epoch, still usable
    net.predict(Xs[:2])


def test_nan_in_one_ranks_data_ends_fit_on_every_rank():
    X, y = data()
    Xs, ys = distributed.shard(X, y, comm=COMM)
    if RANK == 0:
        Xs = Xs.copy()
        Xs[3, 2] = np.nan
    net = network()
    start = time.monotonic()
    with pytest.raises(ValueError if RANK == 0 else backprop.PeerFailedError) as caught:
        net.fit(Xs, ys, epochs=5, batch_size=8, comm=COMM, verbose=0)
    assert time.monotonic() - start < 30
    if RANK != 0:
        assert "rank 0" in str(caught.value) and "nan" in str(caught.value).lower()


def test_a_bad_argument_on_one_rank_ends_fit_on_every_rank():
    X, y = data(rows=40)
    net = network()
    with pytest.raises(ValueError if RANK == 1 else backprop.PeerFailedError) as caught:
        net.fit(X, y, epochs=2, batch_size=0 if RANK == 1 else 8, comm=COMM, verbose=0)
    if RANK != 1:
        assert "rank 1" in str(caught.value) and "batch_size" in str(caught.value)


def test_a_network_unlike_rank_0s_ends_fit_on_every_rank():
    X, y = data(rows=40)
    net = backprop.Network([6, 10 if RANK == 1 else 12, 3], ["tanh", "softmax"], "cross_entropy")
    with pytest.raises(ValueError if RANK == 1 else backprop.PeerFailedError) as caught:
        net.fit(X, y, epochs=2, batch_size=8, comm=COMM, verbose=0)
    if RANK != 1:
        assert "rank 1" in str(caught.value) and "6-12-3" in str(caught.value)


def test_validation_on_one_rank_gives_every_rank_the_same_history():
    X, y = data(rows=120, seed=4)
    Xs, ys = distributed.shard(X[:80], y[:80], comm=COMM)
    validation = (X[80:], y[80:]) if RANK == 0 else None
    seen = []
    net = network()
    history = net.fit(Xs, ys, epochs=3, batch_size=8, validation_data=validation, seed=2,
                      callback=lambda epoch, logs: seen.append(sorted(logs)), comm=COMM, verbose=0)
    assert sorted(history) == ["learning_rate", "loss", "val_accuracy", "val_loss"]
    assert same_on_every_rank(history["val_loss"]) and same_on_every_rank(history["val_accuracy"])
    assert seen[0] == ["learning_rate", "loss", "val_accuracy", "val_loss"]


def test_allreduce_gradients_without_data_on_a_rank():
    X, y = data(rows=40, seed=6)
    net = network(seed=3)
    distributed.broadcast_parameters(net, COMM)
    net.forward(X[:1])
    net.backward(y[:1])
    weight = 4 if RANK == 0 else 0
    if RANK == 0:
        net.forward(X[:4])
        net.backward(y[:4])
    expected = net.gradients if RANK == 0 else None
    expected = COMM.bcast(expected, root=0)
    assert distributed.allreduce_gradients(net, COMM, weight=weight) == 4
    np.testing.assert_allclose(net.gradients, expected, rtol=1e-6)
