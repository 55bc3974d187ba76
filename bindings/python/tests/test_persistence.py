"""Model files and bytes: save/load, to_bytes/from_bytes, pickling, and load errors."""

import copy
import os
import pickle
import struct
import zlib

import numpy as np
import pytest

import backprop
from backprop import errors

MAGIC = b"\x89BPM\r\n\x1a\n"


def data(seed=0, n=64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] - X[:, 2] > 0).astype(np.int64) + (X[:, 1] > 1)
    return X, y


def trained(optimizer="adam", seed=3):
    """A classifier that has taken a few steps with `optimizer` (non-trivial state)."""
    net = backprop.Network([4, 12, 3], ["tanh", "softmax"], loss="cross_entropy", seed=seed)
    net.set_optimizer(optimizer, weight_decay=1e-3)
    X, y = data()
    for i in range(5):
        net.train_step(X[i * 8 : i * 8 + 8], y[i * 8 : i * 8 + 8], 0.01)
    return net


def continue_training(net, steps=10):
    X, y = data(seed=1)
    losses = [net.train_step(X[i * 6 : i * 6 + 6], y[i * 6 : i * 6 + 6], 0.01) for i in range(steps)]
    return losses, net.parameters


def assert_same_network(a, b):
    assert (a.layers, a.activations, a.loss) == (b.layers, b.activations, b.loss)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert a.options == b.options
    X = np.random.default_rng(2).normal(size=(16, a.input_size)).astype(np.float32)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam", "adamw", "rprop"])
def test_save_load_is_exact_and_training_continues_identically(tmp_path, optimizer):
    net = trained(optimizer)
    path = tmp_path / "model.bpm"
    net.save(path)
    loaded = backprop.Network.load(path)
    assert_same_network(net, loaded)
    assert loaded.options["optimizer"] == optimizer
    assert loaded.seed is None  # not recorded in model files
    # the optimizer's state (moments, step sizes) came along: continued training is bit-identical
    losses_a, params_a = continue_training(net)
    losses_b, params_b = continue_training(loaded)
    assert losses_a == losses_b
    np.testing.assert_array_equal(params_a, params_b)


def test_to_bytes_from_bytes_round_trip(tmp_path):
    net = trained("adam")
    blob = net.to_bytes()
    assert isinstance(blob, bytes) and blob.startswith(MAGIC)
    assert struct.unpack_from("<I", blob, 8)[0] == 1  # format version
    # the CRC-32 at the end covers every preceding byte (docs/format.md)
    assert struct.unpack_from("<I", blob, len(blob) - 4)[0] == zlib.crc32(blob[:-4])
    copy_ = backprop.Network.from_bytes(blob)
    assert_same_network(net, copy_)
    assert copy_.to_bytes() == blob  # byte-identical re-encoding
    # save() writes exactly these bytes
    net.save(str(tmp_path / "m.bpm"))
    assert (tmp_path / "m.bpm").read_bytes() == blob
    # other bytes-like objects
    for like in (bytearray(blob), memoryview(blob), np.frombuffer(blob, dtype=np.uint8)):
        assert_same_network(net, backprop.Network.from_bytes(like))
    losses_a, params_a = continue_training(net)
    losses_b, params_b = continue_training(copy_)
    assert losses_a == losses_b
    np.testing.assert_array_equal(params_a, params_b)


def test_pending_gradients_are_saved():
    net = backprop.Network([4, 5, 3], ["relu", "softmax"], loss="cross_entropy", seed=0)
    X, y = data()
    net.forward(X[:10])
    net.backward(y[:10])
    loaded = backprop.Network.from_bytes(net.to_bytes())
    np.testing.assert_array_equal(loaded.gradients, net.gradients)
    net.update(0.1)
    loaded.update(0.1)  # the gradients were waiting: update works right after loading
    np.testing.assert_array_equal(loaded.parameters, net.parameters)
    # the kept activations are not saved: backward needs a new forward
    fresh = backprop.Network.from_bytes(net.to_bytes())
    with pytest.raises(backprop.StateError):
        fresh.backward(y[:10])


def test_paths(tmp_path):
    net = backprop.Network([2, 3, 1], ["tanh", "linear"], seed=4)
    for path in (tmp_path / "a.bpm", str(tmp_path / "b.bpm"), os.fsencode(tmp_path / "c.bpm")):
        net.save(path)
        assert_same_network(net, backprop.Network.load(path))
    net.save(tmp_path / "a.bpm")  # overwrites atomically
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # no temporary left
    with pytest.raises(ValueError, match="NUL"):
        net.save(str(tmp_path / "x\0y"))
    with pytest.raises(ValueError, match="path is 5"):
        net.save(5)
    with pytest.raises(ValueError, match="empty"):
        backprop.Network.load("")


def test_pickle_is_exact_and_includes_optimizer_state():
    net = trained("adamw", seed=11)
    copy_ = pickle.loads(pickle.dumps(net))
    assert_same_network(net, copy_)
    assert copy_.seed == net.seed == 11  # the pickle keeps the seed
    losses_a, params_a = continue_training(net)
    losses_b, params_b = continue_training(copy_)
    assert losses_a == losses_b
    np.testing.assert_array_equal(params_a, params_b)
    # copy.deepcopy goes the same way: an independent network
    twin = copy.deepcopy(net)
    twin.train_step(*data(), 0.1)
    assert not np.array_equal(twin.parameters, net.parameters)


def test_pickle_of_a_loaded_network_and_closed_network():
    loaded = backprop.Network.from_bytes(trained().to_bytes())
    again = pickle.loads(pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL))
    assert again.seed is None
    assert_same_network(loaded, again)
    loaded.close()
    with pytest.raises(backprop.StateError, match="closed"):
        pickle.dumps(loaded)


def test_unpickles_the_old_parameter_state():
    """Pickles written before model bytes (architecture + parameters) still load."""
    net = backprop.Network([3, 4, 2], ["relu", "softmax"], loss="cross_entropy", seed=2)
    params = np.arange(len(net), dtype=np.float32) / 100
    old = backprop.Network.__new__(backprop.Network)
    old.__setstate__(
        {"layers": (3, 4, 2), "activations": ("relu", "softmax"), "loss": "cross_entropy", "seed": 2, "parameters": params}
    )
    np.testing.assert_array_equal(old.parameters, params)
    assert old.seed == 2 and old.activations == ("relu", "softmax")


def test_loaded_network_knows_its_architecture():
    for layers, acts, loss in [
        ([5, 3, 1], ["leaky_relu", "sigmoid"], "cross_entropy"),
        ([2, 4, 4, 2], ["relu", "tanh", "linear"], "mse"),
        ([3, 2], ["softmax"], "mse"),
    ]:
        net = backprop.Network(layers, acts, loss=loss, seed=0)
        loaded = backprop.Network.from_bytes(net.to_bytes())
        assert loaded.layers == tuple(layers) and loaded.activations == tuple(acts) and loaded.loss == loss
        assert loaded.is_classifier == net.is_classifier and len(loaded) == len(net)
        assert repr(loaded) == repr(net)


@pytest.mark.parametrize("hidden", ["gelu", "silu"])
def test_gelu_and_silu_networks_load_back_identically(tmp_path, hidden):
    net = backprop.Network([4, 9, 7, 3], [hidden, "silu" if hidden == "gelu" else "gelu", "softmax"],
                           loss="cross_entropy", seed=8)
    net.set_optimizer("adam")
    X, y = data()
    net.train_step(X[:16], y[:16], 0.01)
    path = tmp_path / f"{hidden}.bpm"

    def through_file(n):
        n.save(path)
        return backprop.Network.load(path)

    def through_bytes(n):
        return backprop.Network.from_bytes(n.to_bytes())

    def through_pickle(n):
        return pickle.loads(pickle.dumps(n))

    for reload in (through_file, through_bytes, through_pickle):
        loaded = reload(net)
        assert loaded.activations == net.activations and loaded.activations[0] == hidden
        assert_same_network(net, loaded)  # identical parameters, options and predictions
        np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
        # and identical continued training (the optimizer's state came along)
        assert loaded.train_step(X[16:32], y[16:32], 0.01) == net.train_step(X[16:32], y[16:32], 0.01)
        np.testing.assert_array_equal(loaded.parameters, net.parameters)


def test_every_activation_and_loss_is_read_back():
    for act, code in backprop.ACTIVATIONS.items():
        if act == "softmax":  # output layer only: below
            continue
        for out, loss in (("linear", "mse"), ("sigmoid", "cross_entropy"), ("softmax", "cross_entropy")):
            net = backprop.Network([3, 4, 2], [act, out], loss=loss, seed=code)
            loaded = backprop.Network.from_bytes(net.to_bytes())
            assert (loaded.activations, loaded.loss) == ((act, out), loss)


def test_the_architecture_comes_from_the_library(monkeypatch):
    """A loaded network's activations and loss are what bp_layer_activation() and
    bp_loss_function() say, not read from the model bytes."""
    from backprop import _lib

    blob = backprop.Network([3, 4, 2], ["gelu", "softmax"], loss="cross_entropy", seed=0).to_bytes()
    monkeypatch.setattr(_lib.lib, "bp_loss_function", lambda handle: backprop.LOSSES["mse"])
    monkeypatch.setattr(_lib.lib, "bp_layer_activation", lambda handle, l: backprop.ACTIVATIONS["silu"])
    loaded = backprop.Network.from_bytes(blob)
    assert loaded.loss == "mse" and loaded.activations == ("silu", "silu")


def test_an_activation_code_the_binding_does_not_know(monkeypatch):
    """A library newer than the package: a readable UnknownEnumError, and no leaked handle."""
    from backprop import _lib

    blob = backprop.Network([3, 4, 2], ["gelu", "softmax"], loss="cross_entropy", seed=0).to_bytes()
    destroyed = []
    destroy = _lib.lib.bp_destroy
    unknown = max(backprop.ACTIVATIONS.values()) + 1
    monkeypatch.setattr(_lib.lib, "bp_layer_activation", lambda handle, l: unknown if l == 1 else 5)
    monkeypatch.setattr(_lib.lib, "bp_destroy", lambda handle: (destroyed.append(handle), destroy(handle)))
    with pytest.raises(backprop.UnknownEnumError, match=f"layer 1 has activation code {unknown}, which this binding "
                       "does not know .*update the backprop package") as info:
        backprop.Network.from_bytes(blob)
    assert info.value.function == "bp_layer_activation" and isinstance(info.value, ValueError)
    assert len(destroyed) == 1


def test_pickles_name_backprop_network():
    """Pickles refer to backprop.network.Network, where the class has always been, so that
    pickles of other versions of the package load."""
    blob = pickle.dumps(backprop.Network([2, 2], "linear"))
    assert b"backprop.network" in blob and b"Network" in blob
    assert backprop.Network.__module__ == "backprop.network"


def test_thread_count_is_not_saved():
    net = backprop.Network([2, 2], "linear")
    net.threads = 1
    assert backprop.Network.from_bytes(net.to_bytes()).threads == backprop.Network([2, 2], "linear").threads


# ---------------------------------------------------------------- errors


def model_bytes():
    return backprop.Network([4, 6, 3], ["tanh", "softmax"], loss="cross_entropy", seed=0).to_bytes()


def with_crc(body: bytes) -> bytes:
    """Bytes with the CRC-32 at the end recomputed (a valid checksum over changed fields)."""
    return body[:-4] + struct.pack("<I", zlib.crc32(body[:-4]))


def test_garbage_is_not_a_model(tmp_path):
    for garbage in (b"garbage bytes, not a model", b"PK\x03\x04" + bytes(100), b"\x00" * 8):
        with pytest.raises(backprop.NotAModelError) as info:
            backprop.Network.from_bytes(garbage)
        assert isinstance(info.value, ValueError)
        assert info.value.status == errors.BP_ERROR_NOT_A_MODEL and info.value.message
    text = tmp_path / "notes.txt"
    text.write_text("hello, I am a text file\n")
    with pytest.raises(backprop.NotAModelError):
        backprop.Network.load(text)


@pytest.mark.parametrize("keep", [0, 1, 7, 8, 12, 19, 20, 60, 0.5, -40, -5])
def test_truncated(keep):
    blob = model_bytes()
    cut = blob[: int(len(blob) * keep)] if isinstance(keep, float) else blob[:keep]
    with pytest.raises(backprop.TruncatedModelError) as info:
        backprop.Network.from_bytes(cut)
    assert isinstance(info.value, ValueError) and info.value.status == errors.BP_ERROR_TRUNCATED


@pytest.mark.parametrize("missing", [1, 2, 3, 4])
def test_truncated_inside_the_checksum(missing):
    """docs/format.md rule 4.  (Libraries built before commit 336a800 reported
    BP_ERROR_CORRUPT_MODEL, "-1 unexpected bytes follow its checksum", here.)"""
    with pytest.raises(backprop.TruncatedModelError):
        backprop.Network.from_bytes(model_bytes()[:-missing])


def test_flipped_byte_is_checksum_mismatch(tmp_path):
    blob = model_bytes()
    # parameters (they start at byte 64 for 3 layers), the CRC itself.  (A damaged size or
    # count field is found impossible before the checksum is compared, docs/format.md:
    # CorruptModelError.)
    for position in (64, 64 + 4 * 10 + 2, 64 + 4 * 50 + 3, len(blob) - 3, len(blob) - 1):
        damaged = bytearray(blob)
        damaged[position] ^= 0x10
        with pytest.raises(backprop.ChecksumMismatchError) as info:
            backprop.Network.from_bytes(damaged)
        assert isinstance(info.value, ValueError) and info.value.status == errors.BP_ERROR_CHECKSUM_MISMATCH
    path = tmp_path / "damaged.bpm"
    damaged = bytearray(blob)
    damaged[len(blob) // 2] ^= 1
    path.write_bytes(damaged)
    with pytest.raises(backprop.ChecksumMismatchError):
        backprop.Network.load(path)


def test_unsupported_version():
    blob = bytearray(model_bytes())
    blob[8:12] = struct.pack("<I", 3)
    with pytest.raises(backprop.UnsupportedVersionError) as info:
        backprop.Network.from_bytes(with_crc(bytes(blob)))
    assert isinstance(info.value, ValueError) and info.value.status == errors.BP_ERROR_UNSUPPORTED_VERSION


def test_corrupt_model():
    blob = model_bytes()
    # an activation code no library has (the first activation follows 3 layer sizes), with a valid CRC
    bad = bytearray(blob)
    bad[20 + 8 * 3 : 24 + 8 * 3] = struct.pack("<I", 99)
    # a hidden softmax layer: an architecture bp_create() refuses
    hidden_softmax = bytearray(blob)
    hidden_softmax[20 + 8 * 3 : 24 + 8 * 3] = struct.pack("<I", 5)
    for corrupt in (with_crc(bytes(bad)), with_crc(bytes(hidden_softmax)), blob + b"\x00"):  # trailing byte too
        with pytest.raises(backprop.CorruptModelError) as info:
            backprop.Network.from_bytes(corrupt)
        assert isinstance(info.value, ValueError) and info.value.status == errors.BP_ERROR_CORRUPT_MODEL


def test_missing_file_is_model_io_error(tmp_path):
    missing = tmp_path / "nope.bpm"
    with pytest.raises(backprop.ModelIOError) as info:
        backprop.Network.load(missing)
    err = info.value
    assert isinstance(err, OSError) and isinstance(err, backprop.BackpropError)
    assert err.status == errors.BP_ERROR_IO
    assert err.filename == str(missing)
    assert str(missing) in err.message and str(err).startswith("bp_load: ")
    with pytest.raises(OSError):  # catchable as any OSError
        backprop.Network.load(str(missing))
    net = backprop.Network([2, 1], "linear")
    with pytest.raises(backprop.ModelIOError) as info:
        net.save(tmp_path / "no" / "such" / "dir" / "m.bpm")
    assert "no" in info.value.message
    with pytest.raises(backprop.ModelIOError):
        backprop.Network.load(tmp_path)  # a directory


def test_failed_save_keeps_the_previous_file(tmp_path):
    net = backprop.Network([2, 3, 1], ["tanh", "linear"], seed=1)
    path = tmp_path / "keep.bpm"
    net.save(path)
    before = path.read_bytes()
    os.chmod(tmp_path, 0o500)  # no new (temporary) files in the directory
    try:
        if os.access(tmp_path, os.W_OK):  # root ignores the permission
            pytest.skip("running with permissions that ignore a read-only directory")
        with pytest.raises(backprop.ModelIOError):
            backprop.Network([2, 3, 1], ["tanh", "linear"], seed=2).save(path)
    finally:
        os.chmod(tmp_path, 0o700)
    assert path.read_bytes() == before


def test_from_bytes_argument_errors():
    with pytest.raises(ValueError, match="bytes-like"):
        backprop.Network.from_bytes("not bytes")
    with pytest.raises(ValueError, match="bytes-like"):
        backprop.Network.from_bytes(12)
    with pytest.raises(backprop.TruncatedModelError):
        backprop.Network.from_bytes(b"")


def test_closed_network_cannot_be_saved(tmp_path):
    net = backprop.Network([2, 1], "linear")
    net.close()
    with pytest.raises(backprop.StateError):
        net.save(tmp_path / "x.bpm")
    with pytest.raises(backprop.StateError):
        net.to_bytes()
    assert not (tmp_path / "x.bpm").exists()
